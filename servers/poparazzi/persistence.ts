// Keeps the data file in step with the view ledger: saves on an interval when counts changed, and
// once more at shutdown. Saves never overlap; a failed save is reported and retried on the next tick.

import { saveViewCounts } from './data-file.ts';
import type { ViewLedger } from './view-ledger.ts';

export const DEFAULT_SAVE_INTERVAL_MS = 5_000;

export class ViewCountPersistence {
  #savedChanges: number;
  #timer: NodeJS.Timeout | undefined;
  #saving: Promise<void> = Promise.resolve();

  constructor(
    private readonly path: string,
    private readonly ledger: ViewLedger,
    private readonly onError: (error: Error) => void = (error) => console.error(`[poparazzi] saving view counts failed: ${error.message}`),
  ) {
    this.#savedChanges = ledger.changes;
  }

  start(intervalMs: number = DEFAULT_SAVE_INTERVAL_MS): void {
    this.#timer = setInterval(() => void this.save(), intervalMs);
    // The save timer alone must not keep a process alive that has nothing else to do.
    this.#timer.unref();
  }

  /** Save if anything changed since the last save; waits for a save already under way first. */
  save(): Promise<void> {
    this.#saving = this.#saving.then(() => this.#saveIfChanged());
    return this.#saving;
  }

  /** Stop the interval and write the final state. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.save();
  }

  async #saveIfChanged(): Promise<void> {
    const changes = this.ledger.changes;
    if (changes === this.#savedChanges) return;
    try {
      await saveViewCounts(this.path, this.ledger.counts());
      this.#savedChanges = changes;
    } catch (error) {
      this.onError(error as Error);
    }
  }
}
