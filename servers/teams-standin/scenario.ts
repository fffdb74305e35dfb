// The scenario of a stand-in run, generated up front from a seed: when each team joins and leaves,
// when its messages are due, when healthchecks and faults happen, and how each team.connect request
// will be answered. Pure data on a virtual clock (milliseconds from the start of the run).

import type { Fault } from './faults.ts';
import { SeededRandom } from './random.ts';
import { MALFORMED_GLOBAL, MALFORMED_TEAM, messageText } from './texts.ts';

export type ScenarioEvent =
  | { at: number; kind: 'join'; teamId: number }
  | { at: number; kind: 'message'; teamId: number; text: string }
  | { at: number; kind: 'leave'; teamId: number }
  | { at: number; kind: 'healthcheck' }
  | { at: number; kind: 'drop-team'; teamId: number; revokeUrl: boolean }
  | { at: number; kind: 'silence'; teamId: number }
  | { at: number; kind: 'drop-global' }
  | { at: number; kind: 'malformed'; teamId: number | undefined; payload: string | Buffer }
  | { at: number; kind: 'end' };

/** How the n-th team.connect request of a team is answered; requests beyond the plan are answered at once. */
export type ConnectAnswer = 'now' | 'late' | 'error';

export interface ScenarioOptions {
  teams: number;
  seed: number;
  durationMs: number;
  faults: ReadonlySet<Fault>;
  /** Healthchecks during the run; one more comes at the end, before goodbye. */
  healthchecks: number;
  /** Mean gap between two messages of one team. */
  messageIntervalMs: number;
}

export interface Scenario {
  events: ScenarioEvent[];
  connectAnswers: Map<number, ConnectAnswer[]>;
  /** Teams whose first connection attempt is refused with 404. */
  refuseFirst: Set<number>;
}

export function buildScenario(options: ScenarioOptions): Scenario {
  const random = new SeededRandom(options.seed);
  const { durationMs, faults } = options;
  const events: ScenarioEvent[] = [];
  const connectAnswers = new Map<number, ConnectAnswer[]>();
  const refuseFirst = new Set<number>();

  for (let teamId = 1; teamId <= options.teams; teamId++) {
    const joinAt = random.between(0, durationMs * 0.4);
    // Three teams in ten leave before the end; the others stay until goodbye.
    const leaveAt = random.chance(0.3) ? random.between(joinAt + durationMs * 0.2, durationMs * 0.95) : undefined;
    events.push({ at: joinAt, kind: 'join', teamId });
    if (leaveAt !== undefined) events.push({ at: leaveAt, kind: 'leave', teamId });
    const lastMessageAt = leaveAt ?? durationMs;
    for (let at = joinAt + random.between(0, options.messageIntervalMs); at < lastMessageAt; at += random.between(0.2, 1.8) * options.messageIntervalMs) {
      events.push({ at, kind: 'message', teamId, text: messageText(random) });
    }

    const plan: ConnectAnswer[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      if (faults.has('connect-error') && random.chance(0.15)) plan.push('error');
      else if (faults.has('late-connect') && random.chance(0.15)) plan.push('late');
      else plan.push('now');
    }
    connectAnswers.set(teamId, plan);
    if (faults.has('refuse-first') && random.chance(0.2)) refuseFirst.add(teamId);
  }

  const randomTeam = (): number => random.integer(1, options.teams);
  const sometimeDuringRun = (): number => random.between(durationMs * 0.1, durationMs * 0.9);
  if (faults.has('drop-team')) {
    for (let count = Math.ceil(options.teams * 0.3); count > 0; count--) {
      events.push({ at: sometimeDuringRun(), kind: 'drop-team', teamId: randomTeam(), revokeUrl: random.chance(0.5) });
    }
  }
  if (faults.has('silent')) {
    for (let count = Math.ceil(options.teams * 0.1); count > 0; count--) {
      events.push({ at: sometimeDuringRun(), kind: 'silence', teamId: randomTeam() });
    }
  }
  if (faults.has('drop-global')) {
    events.push({ at: durationMs * random.between(0.2, 0.4), kind: 'drop-global' });
    events.push({ at: durationMs * random.between(0.6, 0.8), kind: 'drop-global' });
  }
  if (faults.has('malformed')) {
    for (const payload of MALFORMED_GLOBAL) events.push({ at: sometimeDuringRun(), kind: 'malformed', teamId: undefined, payload });
    events.push({ at: sometimeDuringRun(), kind: 'malformed', teamId: undefined, payload: Buffer.from([0xde, 0xad, 0xbe, 0xef]) });
    for (let count = Math.max(5, Math.ceil(options.teams * 0.1)); count > 0; count--) {
      events.push({ at: sometimeDuringRun(), kind: 'malformed', teamId: randomTeam(), payload: random.pick(MALFORMED_TEAM) });
    }
    events.push({ at: sometimeDuringRun(), kind: 'malformed', teamId: randomTeam(), payload: Buffer.from('binary, not text') });
  }
  for (let index = 1; index <= options.healthchecks; index++) {
    events.push({ at: (durationMs * index) / (options.healthchecks + 1), kind: 'healthcheck' });
  }
  events.push({ at: durationMs, kind: 'end' });

  // A stable sort keeps same-time events in the order they were generated, so a seed replays exactly.
  events.sort((first, second) => first.at - second.at);
  return { events, connectAnswers, refuseFirst };
}
