// The faults the stand-in can inject, each switchable from the command line (`--faults all|none|a,b`).
// They are what a real Global/Team API does to a bot manager on a bad day.

export const FAULTS = {
  'drop-team': 'team sockets cut without a close frame; sometimes their URL stops working too',
  'late-connect': 'team.connect answered seconds late (sometimes after the client gave up and asked again)',
  'connect-error': 'team.connect answered with an error instead of a URL',
  'refuse-first': 'a team URL refuses its first connection with 404 before the upgrade',
  'drop-global': 'the Global connection cut mid-run',
  'malformed': 'malformed JSON, unknown types, missing fields and binary frames on every connection',
  'silent': 'a team connection goes silent: no more messages, and pongs never come',
} as const;

export type Fault = keyof typeof FAULTS;
export const FAULT_NAMES = Object.keys(FAULTS) as Fault[];

/** `all`, `none`, or a comma-separated list of fault names; throws with the valid names otherwise. */
export function parseFaults(text: string): Set<Fault> {
  const trimmed = text.trim();
  if (trimmed === 'all') return new Set(FAULT_NAMES);
  if (trimmed === 'none' || trimmed === '') return new Set();
  const faults = new Set<Fault>();
  for (const name of trimmed.split(',').map((part) => part.trim())) {
    if (!(name in FAULTS)) throw new Error(`unknown fault "${name}"; choose from: all, none, ${FAULT_NAMES.join(', ')}`);
    faults.add(name as Fault);
  }
  return faults;
}
