// Best of N, alternating: on a machine busy with other work a run can only be slowed down, never sped up,
// so the fastest of a few runs is the least disturbed; alternating the order gives each side the same luck.

export async function bestOf<Kind extends string, Measurement>(
  repeats: number,
  kinds: readonly Kind[],
  measure: (kind: Kind) => Promise<Measurement>,
  score: (measurement: Measurement) => number,
): Promise<Record<Kind, Measurement>> {
  const best = {} as Record<Kind, Measurement>;
  for (let round = 0; round < repeats; round++) {
    const order = round % 2 === 0 ? kinds : [...kinds].reverse();
    for (const kind of order) {
      const measurement = await measure(kind);
      if (!(kind in best) || score(measurement) > score(best[kind])) best[kind] = measurement;
    }
  }
  return best;
}
