// The team bot-connection manager as a pure state machine (seed 002): events go in (a message on the
// Global or a Team connection, a socket opened or closed, a timer fired), commands come out (send,
// open, close, start a timer…). It owns no socket and no clock, so tests drive it with scripted events.

import { backoffDelay, type BackoffPolicy } from './backoff.ts';
import {
  excerpt, mentionsProps, parseGlobalMessage, parseTeamMessage, teamIdOfError,
  type GlobalServerMessage, type TeamId, type TeamServerMessage, type TeamStats,
} from './wire.ts';

export type TimerId =
  | { scope: 'global'; purpose: 'retry' }
  | { scope: 'team'; teamId: TeamId; purpose: TeamTimerPurpose };

/** retry: the backoff before the next attempt; answer: waiting for team.connect; ping/pong: liveness. */
export type TeamTimerPurpose = 'retry' | 'answer' | 'ping' | 'pong';

export type ManagerEvent =
  | { type: 'start' }
  | { type: 'globalOpened'; connectionId: number }
  | { type: 'globalOpenFailed'; connectionId: number; reason: string }
  | { type: 'globalMessage'; connectionId: number; text: string; isBinary?: boolean }
  | { type: 'globalClosed'; connectionId: number; code: number; reason: string }
  | { type: 'teamOpened'; teamId: TeamId; connectionId: number }
  | { type: 'teamOpenFailed'; teamId: TeamId; connectionId: number; reason: string; statusCode?: number }
  | { type: 'teamMessage'; teamId: TeamId; connectionId: number; text: string; isBinary?: boolean }
  | { type: 'teamClosed'; teamId: TeamId; connectionId: number; code: number; reason: string }
  | { type: 'timerFired'; timer: TimerId }
  | { type: 'shutdown'; reason: string };

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type ManagerCommand =
  | { type: 'openGlobal'; connectionId: number; url: string }
  | { type: 'openTeam'; teamId: TeamId; connectionId: number; url: string }
  | { type: 'send'; connectionId: number; message: object }
  | { type: 'close'; connectionId: number; code: number; reason: string }
  /** Cut without a close handshake: for a connection that stopped answering. */
  | { type: 'terminate'; connectionId: number }
  | { type: 'startTimer'; timer: TimerId; delayMs: number }
  | { type: 'cancelTimer'; timer: TimerId }
  | { type: 'log'; level: LogLevel; text: string }
  /** The run is over: close every connection, cancel every timer, exit with this code. */
  | { type: 'finish'; exitCode: number; reason: string };

export interface ManagerOptions {
  globalUrl: string;
  /** How often an open team connection is asked for a `pong` (default 5 s). */
  pingIntervalMs?: number;
  /** A team connection without the `pong` this long after its `ping` is cut and reconnected (default 5 s). */
  pongTimeoutMs?: number;
  /** How long to wait for the answer to a `team.connect` before asking again (default 5 s). */
  answerTimeoutMs?: number;
  backoff?: BackoffPolicy;
  /** Refuse to track more teams than this: a runaway server must not exhaust memory (default 10,000). */
  maxTeams?: number;
  /** Source of jitter, in [0, 1) (default Math.random; tests pass a fixed one). */
  random?: () => number;
}

const DEFAULTS = {
  pingIntervalMs: 5_000,
  pongTimeoutMs: 5_000,
  answerTimeoutMs: 5_000,
  backoff: { baseMs: 250, maxMs: 10_000 },
  maxTeams: 10_000,
};

/**
 * awaiting-url: a `team.connect` is (or will be, once the Global connection is back) on its way.
 * connecting: a socket to the team URL is opening. open: connected. waiting: backing off before the
 * next attempt. left: the team is gone; its counts stay for the healthcheck.
 */
export type TeamPhase = 'awaiting-url' | 'connecting' | 'open' | 'waiting' | 'left';

export interface TeamState {
  id: TeamId;
  phase: TeamPhase;
  url: string | undefined;
  /** The next attempt must ask for a fresh URL (the last one was refused or kept failing). */
  needsFreshUrl: boolean;
  /** Consecutive failures to get connected, for the backoff; reset once connected. */
  failures: number;
  /** Failures of the current URL; two in a row and it is replaced. */
  urlFailures: number;
  connectionId: number | undefined;
  messageCount: number;
  propsCount: number;
  /** The `unique_id` of the ping waiting for its pong. */
  pendingPingId: string | undefined;
}

type GlobalPhase = 'idle' | 'connecting' | 'open' | 'waiting' | 'finished';

/** A URL that failed this many times in a row (without an HTTP refusal) is replaced by a fresh one. */
const URL_FAILURES_BEFORE_FRESH_URL = 2;

export class TeamManager {
  private readonly options: Required<ManagerOptions>;
  private readonly teams = new Map<TeamId, TeamState>();
  private globalPhase: GlobalPhase = 'idle';
  private globalConnectionId: number | undefined;
  private globalFailures = 0;
  private nextConnectionId = 1;
  private nextPingNumber = 1;
  private commands: ManagerCommand[] = [];

  constructor(options: ManagerOptions) {
    this.options = { ...DEFAULTS, random: Math.random, ...options };
  }

  /** Feed one event; returns what to do, in order. */
  handle(event: ManagerEvent): ManagerCommand[] {
    this.commands = [];
    if (this.globalPhase === 'finished') return this.commands;
    switch (event.type) {
      case 'start': this.openGlobal(); break;
      case 'globalOpened': this.onGlobalOpened(event.connectionId); break;
      case 'globalOpenFailed': this.onGlobalLost(event.connectionId, `attempt failed (${event.reason})`); break;
      case 'globalClosed': this.onGlobalLost(event.connectionId, `closed (${event.code}${event.reason ? ` ${event.reason}` : ''})`); break;
      case 'globalMessage': this.onGlobalMessage(event); break;
      case 'teamOpened': this.onTeamOpened(event.teamId, event.connectionId); break;
      case 'teamOpenFailed': this.onTeamOpenFailed(event); break;
      case 'teamClosed': this.onTeamClosed(event); break;
      case 'teamMessage': this.onTeamMessage(event); break;
      case 'timerFired': this.onTimer(event.timer); break;
      case 'shutdown': this.finish(0, event.reason); break;
    }
    return this.commands;
  }

  /** The healthcheck answer: every team ever joined, in the order they joined. */
  stats(): TeamStats[] {
    return [...this.teams.values()].map((team) => ({
      id: team.id,
      connected: team.phase === 'open',
      message_count: team.messageCount,
      props_count: team.propsCount,
    }));
  }

  team(teamId: TeamId): Readonly<TeamState> | undefined {
    return this.teams.get(teamId);
  }

  get finished(): boolean {
    return this.globalPhase === 'finished';
  }

  // ── The Global connection ─────────────────────────────────────────────────────────────────────

  private openGlobal(): void {
    this.globalPhase = 'connecting';
    this.globalConnectionId = this.nextConnectionId++;
    this.emit({ type: 'openGlobal', connectionId: this.globalConnectionId, url: this.options.globalUrl });
  }

  private onGlobalOpened(connectionId: number): void {
    if (connectionId !== this.globalConnectionId) return;
    this.globalPhase = 'open';
    this.globalFailures = 0;
    this.log('info', 'global connection open');
    // Answers to team.connect requests sent on a lost connection will never come: ask again.
    for (const team of this.teams.values()) {
      if (team.phase === 'awaiting-url') this.sendConnectRequest(team);
    }
  }

  private onGlobalLost(connectionId: number, what: string): void {
    if (connectionId !== this.globalConnectionId) return;
    this.globalConnectionId = undefined;
    this.globalPhase = 'waiting';
    this.globalFailures++;
    const delayMs = backoffDelay(this.globalFailures, this.options.backoff, this.options.random);
    this.log('warn', `global connection ${what}; reconnecting in ${delayMs} ms`);
    this.emit({ type: 'startTimer', timer: { scope: 'global', purpose: 'retry' }, delayMs });
  }

  private onGlobalMessage(event: Extract<ManagerEvent, { type: 'globalMessage' }>): void {
    if (event.connectionId !== this.globalConnectionId) return;
    if (event.isBinary) {
      this.log('warn', 'global: ignoring a binary message (the API speaks JSON text)');
      return;
    }
    const message: GlobalServerMessage = parseGlobalMessage(event.text);
    switch (message.type) {
      case 'hello': this.log('info', 'global: hello'); break;
      case 'goodbye': this.finish(0, 'the server said goodbye'); break;
      case 'healthcheck': this.sendGlobal({ type: 'healthcheck', stats: this.stats() }); break;
      case 'team.join': this.onTeamJoin(message.team_id); break;
      case 'team.connect': this.onTeamUrl(message.team_id, message.ws_url); break;
      case 'team.left': this.onTeamLeft(message.team_id, 'global'); break;
      case 'error': this.onServerError(message); break;
      case 'invalid': this.log('warn', `global: ignoring ${message.reason}`); break;
    }
  }

  private sendGlobal(message: object): boolean {
    if (this.globalPhase !== 'open' || this.globalConnectionId === undefined) return false;
    this.emit({ type: 'send', connectionId: this.globalConnectionId, message });
    return true;
  }

  // ── Team lifecycle ────────────────────────────────────────────────────────────────────────────

  private onTeamJoin(teamId: TeamId): void {
    const known = this.teams.get(teamId);
    if (known !== undefined && known.phase !== 'left') {
      this.log('debug', `team ${teamId}: join again while active; nothing to do`);
      return;
    }
    if (known === undefined && this.teams.size >= this.options.maxTeams) {
      this.log('error', `team ${teamId}: refused, already tracking ${this.options.maxTeams} teams`);
      return;
    }
    // A team that left and joins again keeps its counts: they are totals for the team id.
    const team = known ?? this.newTeam(teamId);
    team.failures = 0;
    team.needsFreshUrl = true;
    this.log('info', `team ${teamId}: joined`);
    this.requestUrl(team);
  }

  private newTeam(teamId: TeamId): TeamState {
    const team: TeamState = {
      id: teamId, phase: 'awaiting-url', url: undefined, needsFreshUrl: true, failures: 0, urlFailures: 0,
      connectionId: undefined, messageCount: 0, propsCount: 0, pendingPingId: undefined,
    };
    this.teams.set(teamId, team);
    return team;
  }

  /** Ask for a (fresh) URL; if the Global connection is down, the request goes out when it is back. */
  private requestUrl(team: TeamState): void {
    team.phase = 'awaiting-url';
    this.cancelTeamTimer(team, 'retry');
    if (this.globalPhase === 'open') this.sendConnectRequest(team);
  }

  private sendConnectRequest(team: TeamState): void {
    this.sendGlobal({ type: 'team.connect', team_id: team.id });
    this.startTeamTimer(team, 'answer', this.options.answerTimeoutMs);
  }

  private onTeamUrl(teamId: TeamId, url: string): void {
    let team = this.teams.get(teamId);
    if (team === undefined) {
      // The server says the team is ready: a join we never saw (lost with a dropped Global connection).
      if (this.teams.size >= this.options.maxTeams) return;
      this.log('warn', `team ${teamId}: team.connect for a team never announced; adopting it`);
      team = this.newTeam(teamId);
    }
    if (team.phase === 'left') {
      this.log('debug', `team ${teamId}: ignoring team.connect, the team has left`);
      return;
    }
    team.url = url;
    team.needsFreshUrl = false;
    team.urlFailures = 0;
    // A late or duplicate answer while connected or connecting: keep the URL for the next attempt.
    if (team.phase === 'open' || team.phase === 'connecting') return;
    this.cancelTeamTimer(team, 'answer');
    this.openTeam(team);
  }

  private openTeam(team: TeamState): void {
    this.cancelTeamTimer(team, 'retry');
    team.phase = 'connecting';
    team.connectionId = this.nextConnectionId++;
    this.emit({ type: 'openTeam', teamId: team.id, connectionId: team.connectionId, url: team.url! });
  }

  private onTeamOpened(teamId: TeamId, connectionId: number): void {
    const team = this.teams.get(teamId);
    if (team === undefined || team.connectionId !== connectionId) {
      // An attempt we gave up on (the team left, or a newer attempt replaced it).
      this.emit({ type: 'close', connectionId, code: 1000, reason: 'no longer needed' });
      return;
    }
    if (team.phase === 'left') {
      this.emit({ type: 'close', connectionId, code: 1000, reason: 'team left' });
      return;
    }
    team.phase = 'open';
    team.failures = 0;
    team.urlFailures = 0;
    team.pendingPingId = undefined;
    this.log('info', `team ${teamId}: connected`);
    this.startTeamTimer(team, 'ping', this.options.pingIntervalMs);
  }

  private onTeamOpenFailed(event: Extract<ManagerEvent, { type: 'teamOpenFailed' }>): void {
    const team = this.teams.get(event.teamId);
    if (team === undefined || team.connectionId !== event.connectionId) return;
    team.connectionId = undefined;
    if (team.phase === 'left') return;
    // An HTTP refusal (404, 410, 403…) means the URL is no longer valid; other failures may be passing.
    const refused = event.statusCode !== undefined && event.statusCode >= 400 && event.statusCode < 500;
    team.urlFailures++;
    if (refused || team.urlFailures >= URL_FAILURES_BEFORE_FRESH_URL) team.needsFreshUrl = true;
    this.retryLater(team, `cannot connect (${event.reason})`);
  }

  private onTeamClosed(event: Extract<ManagerEvent, { type: 'teamClosed' }>): void {
    const team = this.teams.get(event.teamId);
    if (team === undefined || team.connectionId !== event.connectionId) return;
    team.connectionId = undefined;
    this.stopLiveness(team);
    if (team.phase === 'left') return;
    this.retryLater(team, `connection closed (${event.code}${event.reason ? ` ${event.reason}` : ''})`);
  }

  private onTeamLeft(teamId: TeamId, where: 'global' | 'team'): void {
    const team = this.teams.get(teamId);
    if (team === undefined) {
      this.log('debug', `team ${teamId}: left before we knew it`);
      return;
    }
    if (team.phase === 'left') return;
    this.log('info', `team ${teamId}: left (announced on the ${where} connection)`);
    const wasOpen = team.phase === 'open';
    team.phase = 'left';
    this.stopLiveness(team);
    this.cancelTeamTimer(team, 'retry');
    this.cancelTeamTimer(team, 'answer');
    // A connecting socket is closed when it opens (onTeamOpened); an open one is closed now.
    if (wasOpen && team.connectionId !== undefined) {
      this.emit({ type: 'close', connectionId: team.connectionId, code: 1000, reason: 'team left' });
    }
  }

  /** Count the failure and wait before the next attempt, which asks for a fresh URL when the last one is spent. */
  private retryLater(team: TeamState, why: string): void {
    team.phase = 'waiting';
    team.failures++;
    const delayMs = backoffDelay(team.failures, this.options.backoff, this.options.random);
    this.log('warn', `team ${team.id}: ${why}; retrying in ${delayMs} ms${team.needsFreshUrl ? ' with a fresh URL' : ''}`);
    this.startTeamTimer(team, 'retry', delayMs);
  }

  private onServerError(message: Extract<GlobalServerMessage, { type: 'error' }>): void {
    const teamId = teamIdOfError(message);
    const team = teamId === undefined ? undefined : this.teams.get(teamId);
    if (team === undefined || team.phase !== 'awaiting-url') {
      this.log('warn', `global: server error: ${excerpt(message.message)}`);
      return;
    }
    // The request for a URL was refused: ask again after a backoff.
    this.cancelTeamTimer(team, 'answer');
    team.needsFreshUrl = true;
    this.retryLater(team, `team.connect refused: ${excerpt(message.message)}`);
  }

  // ── Team connection traffic and liveness ───────────────────────────────────────────────────────

  private onTeamMessage(event: Extract<ManagerEvent, { type: 'teamMessage' }>): void {
    const team = this.teams.get(event.teamId);
    if (team === undefined || team.connectionId !== event.connectionId) return;
    if (event.isBinary) {
      this.log('warn', `team ${team.id}: ignoring a binary message`);
      return;
    }
    const message: TeamServerMessage = parseTeamMessage(event.text);
    switch (message.type) {
      case 'message':
        // Counted whatever the phase: the message did arrive on this team's connection.
        team.messageCount++;
        if (mentionsProps(message.text)) team.propsCount++;
        break;
      case 'pong':
        if (message.unique_id === team.pendingPingId) {
          team.pendingPingId = undefined;
          this.cancelTeamTimer(team, 'pong');
        } else {
          this.log('debug', `team ${team.id}: pong for an unknown ping ${excerpt(message.unique_id)}`);
        }
        break;
      case 'team.left': this.onTeamLeft(team.id, 'team'); break;
      case 'hello': this.log('debug', `team ${team.id}: hello`); break;
      case 'error': this.log('warn', `team ${team.id}: server error: ${excerpt(message.message)}`); break;
      case 'invalid': this.log('warn', `team ${team.id}: ignoring ${message.reason}`); break;
    }
  }

  private onPingDue(team: TeamState): void {
    if (team.phase !== 'open' || team.connectionId === undefined) return;
    this.startTeamTimer(team, 'ping', this.options.pingIntervalMs);
    if (team.pendingPingId !== undefined) return; // the pong timer is already running
    team.pendingPingId = `${team.id}-${this.nextPingNumber++}`;
    this.emit({ type: 'send', connectionId: team.connectionId, message: { type: 'ping', unique_id: team.pendingPingId } });
    this.startTeamTimer(team, 'pong', this.options.pongTimeoutMs);
  }

  private onPongOverdue(team: TeamState): void {
    if (team.phase !== 'open' || team.connectionId === undefined || team.pendingPingId === undefined) return;
    // A silent peer will not answer a close frame either: cut the socket and forget it.
    this.emit({ type: 'terminate', connectionId: team.connectionId });
    team.connectionId = undefined;
    this.stopLiveness(team);
    this.retryLater(team, `no pong within ${this.options.pongTimeoutMs} ms`);
  }

  private stopLiveness(team: TeamState): void {
    team.pendingPingId = undefined;
    this.cancelTeamTimer(team, 'ping');
    this.cancelTeamTimer(team, 'pong');
  }

  // ── Timers ──────────────────────────────────────────────────────────────────────────────────

  private onTimer(timer: TimerId): void {
    if (timer.scope === 'global') {
      if (this.globalPhase === 'waiting') this.openGlobal();
      return;
    }
    const team = this.teams.get(timer.teamId);
    if (team === undefined || team.phase === 'left') return;
    switch (timer.purpose) {
      case 'retry':
        if (team.phase !== 'waiting') return;
        if (team.needsFreshUrl || team.url === undefined) this.requestUrl(team);
        else this.openTeam(team);
        return;
      case 'answer':
        if (team.phase !== 'awaiting-url') return;
        team.needsFreshUrl = true;
        this.retryLater(team, `no answer to team.connect within ${this.options.answerTimeoutMs} ms`);
        return;
      case 'ping': this.onPingDue(team); return;
      case 'pong': this.onPongOverdue(team); return;
    }
  }

  private startTeamTimer(team: TeamState, purpose: TeamTimerPurpose, delayMs: number): void {
    this.emit({ type: 'startTimer', timer: { scope: 'team', teamId: team.id, purpose }, delayMs });
  }

  private cancelTeamTimer(team: TeamState, purpose: TeamTimerPurpose): void {
    this.emit({ type: 'cancelTimer', timer: { scope: 'team', teamId: team.id, purpose } });
  }

  // ── Output ──────────────────────────────────────────────────────────────────────────────────

  private finish(exitCode: number, reason: string): void {
    this.globalPhase = 'finished';
    this.log('info', `finishing: ${reason}`);
    this.emit({ type: 'finish', exitCode, reason });
  }

  private log(level: LogLevel, text: string): void {
    this.emit({ type: 'log', level, text });
  }

  private emit(command: ManagerCommand): void {
    this.commands.push(command);
  }
}

/** One string per timer, for the runtime's table of running timers. */
export function timerKey(timer: TimerId): string {
  return timer.scope === 'global' ? 'global:retry' : `team:${typeof timer.teamId}:${timer.teamId}:${timer.purpose}`;
}
