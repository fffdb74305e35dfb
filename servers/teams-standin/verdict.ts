// Judging a client's healthcheck answer against the truth. Exact rule: every team whose team.join was
// delivered appears once, with message_count and props_count equal to what was delivered to it. Only
// messages "in doubt" (sent on a connection that died before acknowledging them) widen the range.
// `connected` is a snapshot that may legitimately race with a reconnect, so it is reported, never judged.

import { type Counts } from './ledger.ts';

export interface ExpectedTeam {
  id: number;
  delivered: Counts;
  inDoubt: Counts;
}

export interface Verdict {
  match: boolean;
  problems: string[];
  /** Teams reported as disconnected (for the log, not judged). */
  disconnected: number;
}

interface ReportedTeam {
  id: number;
  connected: boolean;
  message_count: number;
  props_count: number;
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function readStats(reply: unknown): ReportedTeam[] | string {
  if (typeof reply !== 'object' || reply === null) return 'the reply is not an object';
  const stats = (reply as { stats?: unknown }).stats;
  if (!Array.isArray(stats)) return '"stats" is not an array';
  const teams: ReportedTeam[] = [];
  for (const [index, entry] of stats.entries()) {
    const team = entry as Partial<ReportedTeam> | null;
    if (typeof team !== 'object' || team === null || typeof team.id !== 'number' || typeof team.connected !== 'boolean'
      || !isCount(team.message_count) || !isCount(team.props_count)) {
      return `stats[${index}] is not {id, connected, message_count, props_count}`;
    }
    teams.push(team as ReportedTeam);
  }
  return teams;
}

function withinRange(reported: number, delivered: number, inDoubt: number): boolean {
  return reported >= delivered && reported <= delivered + inDoubt;
}

function describe(delivered: number, inDoubt: number): string {
  return inDoubt === 0 ? String(delivered) : `${delivered}..${delivered + inDoubt}`;
}

export function judgeHealthcheck(expected: readonly ExpectedTeam[], reply: unknown): Verdict {
  const stats = readStats(reply);
  if (typeof stats === 'string') return { match: false, problems: [stats], disconnected: 0 };
  const problems: string[] = [];
  const reportedById = new Map<number, ReportedTeam>();
  for (const team of stats) {
    if (reportedById.has(team.id)) problems.push(`team ${team.id} reported twice`);
    reportedById.set(team.id, team);
  }
  for (const truth of expected) {
    const reported = reportedById.get(truth.id);
    reportedById.delete(truth.id);
    if (reported === undefined) {
      problems.push(`team ${truth.id} missing`);
      continue;
    }
    if (!withinRange(reported.message_count, truth.delivered.messages, truth.inDoubt.messages)) {
      problems.push(`team ${truth.id}: message_count ${reported.message_count}, expected ${describe(truth.delivered.messages, truth.inDoubt.messages)}`);
    }
    if (!withinRange(reported.props_count, truth.delivered.props, truth.inDoubt.props)) {
      problems.push(`team ${truth.id}: props_count ${reported.props_count}, expected ${describe(truth.delivered.props, truth.inDoubt.props)}`);
    }
  }
  for (const id of reportedById.keys()) problems.push(`team ${id} reported but never joined`);
  const disconnected = stats.filter((team) => !team.connected).length;
  return { match: problems.length === 0, problems, disconnected };
}
