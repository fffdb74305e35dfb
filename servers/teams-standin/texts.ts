// The texts of team `message` events. Some mention "props" in every letter case and position; some
// only come close ("prop", "proper", "pr0ps") so that a careless substring rule shows in the counts.

import type { SeededRandom } from './random.ts';

const WITH_PROPS = [
  'props to the infra team',
  'PROPS for shipping on a Friday',
  'Big Props!',
  'unprops-ed? no, re-props',
  'propsgiving is next week',
  'so many props 🎉',
  'props',
  'quote "props" and a \\backslash',
];

const WITHOUT_PROPS = [
  'deploy finished',
  'a prop for the stage',
  'that is a proper fix',
  'pr0ps do not count',
  'p r o p s neither',
  'lunch?',
  'line one\nline two',
  'ünïcødé 漢字 ✓',
  'PROP S',
  '{"type":"message","text":"not nested json"}',
];

/** About one message in five mentions props. */
export function messageText(random: SeededRandom): string {
  return random.chance(0.2) ? random.pick(WITH_PROPS) : random.pick(WITHOUT_PROPS);
}

/** What the stand-in sends to test the client's parser; none of it is a countable `message`. */
export const MALFORMED_GLOBAL = [
  'not json {',
  '[1, 2, 3]',
  'null',
  '"just a string"',
  '{"type": 42}',
  '{"type": "surprise", "detail": "an event from a newer API"}',
  '{"type": "team.join"}',
  '{"type": "team.left", "team_id": null}',
  '{"type": "team.connect", "team_id": 1}',
];

export const MALFORMED_TEAM = [
  'not json {',
  '{"no_type": true}',
  '{"type": "surprise"}',
  '{"type": "pong", "unique_id": "never-sent"}',
  '{"type": "messages", "text": "props, but not a message event"}',
];

/** The stand-in's own statement of the seed's rule (kept apart from the client's, so it can check it). */
export function mentionsProps(text: string): boolean {
  return text.toLowerCase().includes('props');
}
