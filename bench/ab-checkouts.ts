// What bench/parse-ab.ts and bench/adapter-ab.ts share: two checkouts from the command line, a driver
// module loaded once per checkout, and rounds that alternate the two sides so a machine that slows
// down mid-run slows both alike.

import { median } from './stats.ts';

export type Side = 'old' | 'new';

/** OLD_CHECKOUT and NEW_CHECKOUT from the command line, or the usage line and exit 2. */
export function checkoutsFromArguments(tool: string): Record<Side, string> {
  const [oldCheckout, newCheckout] = process.argv.slice(2);
  if (oldCheckout === undefined || newCheckout === undefined) {
    console.error(`usage: node --import tsx bench/${tool} OLD_CHECKOUT NEW_CHECKOUT`);
    process.exit(2);
  }
  return { old: oldCheckout, new: newCheckout };
}

/**
 * Import `driverFile` (next to this file) twice, under two URLs, so each side's code runs through call
 * sites of its own: with one shared loop, V8's inline caches would see both checkouts' classes and slow
 * both, and the comparison would measure that.
 */
export async function importPerSide<Driver>(driverFile: string): Promise<Record<Side, Driver>> {
  const url = new URL(driverFile, import.meta.url).href;
  return { old: (await import(`${url}?side=old`)) as Driver, new: (await import(`${url}?side=new`)) as Driver };
}

export interface Alternation {
  /** Milliseconds each side spent over the measured rounds. */
  time: Record<Side, number>;
  /** The median over measured rounds of old time / new time (above 1: new is faster). */
  medianRoundRatio: number;
}

/**
 * Run `rounds` rounds, each side once per round in alternating order; the first `warmUpRounds` are not
 * counted. `prepare` (optional) runs untimed before each side's turn.
 */
export async function alternate(rounds: number, warmUpRounds: number, runSide: (side: Side) => Promise<void> | void, prepare?: () => void): Promise<Alternation> {
  const time = { old: 0, new: 0 };
  const ratios: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const roundTime = { old: 0, new: 0 };
    const order: Side[] = round % 2 === 0 ? ['new', 'old'] : ['old', 'new'];
    for (const side of order) {
      prepare?.();
      const startedAt = performance.now();
      await runSide(side);
      roundTime[side] = performance.now() - startedAt;
    }
    if (round < warmUpRounds) continue;
    time.old += roundTime.old;
    time.new += roundTime.new;
    ratios.push(roundTime.old / roundTime.new);
  }
  return { time, medianRoundRatio: median(ratios) };
}
