// Keeps the data file in step with the view ledger: saves on an interval when counts changed, and
// once more at shutdown. Saves never overlap; a failed save is reported and retried on the next tick,
// except the last one, which has no next tick: its failure rejects stop(), so the program exits non-zero.

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
    private readonly onError: (error: Error) => void = (error) => console.error(`[poparazzi] ${error.message} (trying again on the next save)`),
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
    this.#saving = this.#saving.then(() => this.#saveIfChanged().catch((error: Error) => this.onError(error)));
    return this.#saving;
  }

  /** Stop the interval and write the final state; rejects if that last save fails (the unsaved counts are lost). */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#saving = this.#saving.then(() => this.#saveIfChanged());
    await this.#saving;
  }

  async #saveIfChanged(): Promise<void> {
    const changes = this.ledger.changes;
    if (changes === this.#savedChanges) return;
    try {
      await saveViewCounts(this.path, this.ledger.counts());
    } catch (error) {
      throw new Error(`view counts not saved to ${this.path}: ${(error as Error).message}`, { cause: error });
    }
    this.#savedChanges = changes;
  }
}
