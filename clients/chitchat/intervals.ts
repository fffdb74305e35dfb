// The intervals hackattic's chit-chat server chooses between (from the challenge text), and how a
// measured time is read as one of them: the nearest wins, so jitter up to half the smallest gap
// (250 ms between 1500/2000/2500/3000) is absorbed in either direction.

export const CANDIDATE_INTERVALS_MS = [700, 1500, 2000, 2500, 3000] as const;

export function nearestInterval(measuredMs: number): number {
  let best: number = CANDIDATE_INTERVALS_MS[0];
  for (const candidate of CANDIDATE_INTERVALS_MS) {
    if (Math.abs(candidate - measuredMs) < Math.abs(best - measuredMs)) best = candidate;
  }
  return best;
}
