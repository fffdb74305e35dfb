// One run of the Global/Team API stand-in (seed 002): plays a seeded scenario on a virtual clock,
// injects the faults, and keeps the truth — what was actually delivered to each team — so it can judge
// every healthcheck answer. Healthchecks happen at quiet points, when every delivery is acknowledged.

import { randomBytes } from 'node:crypto';
import type { WebSocketConnection } from '../../lib/websocket/index.ts';
import type { RouteResponse } from '../../lib/http/router.ts';
import { text } from '../../lib/http/responses.ts';
import { FAULT_NAMES, type Fault } from './faults.ts';
import { addCounts, zeroCounts, type Counts } from './ledger.ts';
import { GlobalLink, TeamLink, type GlobalEvent } from './links.ts';
import { SeededRandom } from './random.ts';
import type { ConnectAnswer, Scenario, ScenarioEvent } from './scenario.ts';
import { judgeHealthcheck, type ExpectedTeam } from './verdict.ts';

export interface RunSettings {
  scenario: Scenario;
  seed: number;
  teams: number;
  faults: ReadonlySet<Fault>;
  /** Virtual milliseconds per real millisecond. */
  timeScale: number;
  basePath: string;
  /** Real-time bounds on waiting for the client. */
  quietPointTimeoutMs: number;
  roundTripTimeoutMs: number;
  goodbyeGraceMs: number;
  log: (line: string) => void;
  /** Also log each fault as it is injected. */
  verbose: boolean;
}

export interface Summary {
  seed: number;
  /** Teams that joined (their team.join was delivered). */
  teams: number;
  /** `message` events delivered, and how many of them mention props. */
  messages: number;
  props: number;
  /** Messages due while the team's connection was down: never sent, so never counted. */
  lost: number;
  /** Messages sent on a connection that died before acknowledging them; the verdict accepts either count. */
  inDoubt: number;
  healthchecks: number;
  mismatches: number;
  faults: Record<Fault, number>;
  /** Sockets still open when the client had had `goodbyeGraceMs` to close them after goodbye. */
  openSockets: number;
  /** The run reached goodbye (false when it was closed early). */
  finished: boolean;
  elapsedMs: number;
}

type RunState = 'waiting' | 'running' | 'finishing' | 'over';

interface TeamRecord {
  id: number;
  joined: boolean;
  joinDelivered: boolean;
  left: boolean;
  /** Tokens of the URLs handed out and still valid (the last few). */
  tokens: string[];
  refuseNextConnection: boolean;
  connectAnswers: ConnectAnswer[];
  link: TeamLink | undefined;
  delivered: Counts;
  inDoubt: Counts;
}

/** The clock advances in steps of at most this much real time, so a stalled event loop does not skip the scenario. */
const TICK_MS = 10;
const MAX_STEP_MS = 100;
/** Each team keeps this many recent URLs valid: a client may use an answer that arrived late. */
const VALID_URLS_PER_TEAM = 4;
const MAX_ECHOED_CHARACTERS = 1000;

export class StandinRun {
  state: RunState = 'waiting';
  readonly done: Promise<Summary>;
  private resolveDone!: (summary: Summary) => void;
  private readonly teams = new Map<number, TeamRecord>();
  private readonly connections = new Set<WebSocketConnection>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly random: SeededRandom;
  private global: GlobalLink | undefined;
  /** Global events due while no Global connection was open, or not acknowledged by a dead one. */
  private globalBacklog: GlobalEvent[] = [];
  private globalWaiters: (() => void)[] = [];
  private allClosedWaiters: (() => void)[] = [];
  private pendingReply: { link: GlobalLink; resolve: (reply: unknown) => void } | undefined;
  private host = 'localhost';
  private ticker: NodeJS.Timeout | undefined;
  private virtualNow = 0;
  private lastTickAt = 0;
  private paused = false;
  private cursor = 0;
  private startedAt = 0;
  private counts = { lost: 0, healthchecks: 0, mismatches: 0, openSockets: 0, finished: false };
  private readonly faultCounts = Object.fromEntries(FAULT_NAMES.map((fault) => [fault, 0])) as Record<Fault, number>;

  constructor(private readonly settings: RunSettings) {
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.random = new SeededRandom(settings.seed ^ 0x5eed);
    for (let id = 1; id <= settings.teams; id++) {
      this.teams.set(id, {
        id, joined: false, joinDelivered: false, left: false, tokens: [],
        refuseNextConnection: settings.scenario.refuseFirst.has(id),
        connectAnswers: [...(settings.scenario.connectAnswers.get(id) ?? [])],
        link: undefined, delivered: zeroCounts(), inDoubt: zeroCounts(),
      });
    }
  }

  summary(): Summary {
    const delivered = zeroCounts();
    const inDoubt = zeroCounts();
    let teams = 0;
    for (const team of this.teams.values()) {
      addCounts(delivered, team.delivered);
      addCounts(inDoubt, team.inDoubt);
      if (team.joinDelivered) teams++;
    }
    return {
      seed: this.settings.seed, teams, messages: delivered.messages, props: delivered.props, lost: this.counts.lost,
      inDoubt: inDoubt.messages, healthchecks: this.counts.healthchecks, mismatches: this.counts.mismatches,
      faults: { ...this.faultCounts }, openSockets: this.counts.openSockets, finished: this.counts.finished,
      elapsedMs: this.startedAt === 0 ? 0 : Math.round(performance.now() - this.startedAt),
    };
  }

  // ── Connections from the client ───────────────────────────────────────────────────────────────

  acceptGlobal(connection: WebSocketConnection, host: string | undefined): void {
    if (this.state === 'waiting') this.start();
    if (host !== undefined && /^[A-Za-z0-9.\-:[\]]{1,255}$/.test(host)) this.host = host;
    const link = new GlobalLink(connection);
    this.track(connection);
    const previous = this.global;
    this.global = link;
    previous?.connection.close(4000, 'replaced by a newer Global connection');
    connection.on('message', (data, isBinary) => this.onGlobalMessage(link, data, isBinary));
    connection.once('close', () => this.onGlobalClosed(link));
    link.send({ type: 'hello' });
    // Events wait for one round trip: a client may not be listening yet to what arrives with the 101.
    void link.roundTrips.roundTrip(this.settings.roundTripTimeoutMs).then((acknowledged) => {
      if (!acknowledged || this.global !== link) return;
      link.ready = true;
      const backlog = this.globalBacklog;
      this.globalBacklog = [];
      for (const event of backlog) link.sendTracked(event);
      for (const wake of this.globalWaiters.splice(0)) wake();
    });
  }

  /** The Global connection, if it is open and past its first round trip. */
  private get readyGlobal(): GlobalLink | undefined {
    return this.global?.ready && this.global.open ? this.global : undefined;
  }

  checkTeamUpgrade(teamIdText: string, token: string): RouteResponse | undefined {
    const team = /^[0-9]{1,9}$/.test(teamIdText) ? this.teams.get(Number(teamIdText)) : undefined;
    if (this.state !== 'running' && this.state !== 'finishing') return text('no run in progress\n', 404);
    if (team === undefined || !team.joined) return text('no such team\n', 404);
    if (team.left) return text('this team has left\n', 404);
    if (!team.tokens.includes(token)) return text('this team URL is no longer valid; ask for a new one with team.connect\n', 404);
    if (team.refuseNextConnection) {
      team.refuseNextConnection = false;
      this.faultCounts['refuse-first']++;
      this.logFault(`team ${team.id}: first connection refused with 404`);
      return text('team connection not ready\n', 404);
    }
    return undefined;
  }

  acceptTeam(connection: WebSocketConnection, teamIdText: string): void {
    const team = this.teams.get(Number(teamIdText));
    if (team === undefined) {
      connection.close(1008, 'no such team');
      return;
    }
    const link = new TeamLink(team.id, connection);
    this.track(connection);
    const previous = team.link;
    team.link = link;
    if (previous !== undefined) {
      previous.draining = true;
      previous.connection.close(4000, 'replaced by a newer connection');
    }
    connection.on('message', (data, isBinary) => this.onTeamMessage(link, data, isBinary));
    connection.once('close', () => this.onTeamClosed(team, link));
    link.send({ type: 'hello' });
    // Messages flow only after one round trip: it proves the client is reading this connection.
    void link.roundTrips.roundTrip(this.settings.roundTripTimeoutMs).then((acknowledged) => {
      if (acknowledged) link.ready = true;
    });
  }

  private logFault(text: string): void {
    if (this.settings.verbose) this.settings.log(`fault: ${text}`);
  }

  private track(connection: WebSocketConnection): void {
    this.connections.add(connection);
    connection.on('error', () => {}); // reflected in 'close'; a client's protocol error is not ours to log
    connection.once('close', () => {
      this.connections.delete(connection);
      if (this.connections.size === 0) for (const wake of this.allClosedWaiters.splice(0)) wake();
    });
  }

  private onGlobalClosed(link: GlobalLink): void {
    const unacknowledged = link.takeUnacknowledged();
    if (this.global === link) this.global = undefined;
    const next = this.readyGlobal;
    if (next !== undefined) for (const event of unacknowledged) next.sendTracked(event);
    else this.globalBacklog.unshift(...unacknowledged);
    if (this.pendingReply?.link === link) this.pendingReply.resolve(undefined);
  }

  private onTeamClosed(team: TeamRecord, link: TeamLink): void {
    addCounts(team.inDoubt, link.ledger.unacknowledged);
    if (team.link === link) team.link = undefined;
  }

  private onGlobalMessage(link: GlobalLink, data: Buffer, isBinary: boolean): void {
    if (link !== this.global || this.state === 'over') return;
    if (isBinary) return this.refuse(link, 'binary messages are not part of this API; send JSON text', null);
    const raw = data.toString('utf8');
    const message = parseObject(raw);
    if (message === undefined) return this.refuse(link, 'not a JSON object with a "type"', raw.slice(0, MAX_ECHOED_CHARACTERS));
    switch (message.type) {
      case 'team.connect': return this.onConnectRequest(link, message);
      case 'healthcheck':
        if (this.pendingReply?.link === link) return this.pendingReply.resolve(message);
        return this.refuse(link, 'unexpected healthcheck: none was asked for', message);
      default:
        return this.refuse(link, `unknown message type ${JSON.stringify(message.type).slice(0, 100)}`, message);
    }
  }

  private refuse(link: GlobalLink | TeamLink, reason: string, received: unknown, teamId?: number): void {
    link.send({ type: 'error', message: reason, received_message: received, ...(teamId === undefined ? {} : { team_id: teamId }) });
  }

  private onConnectRequest(link: GlobalLink, message: Record<string, unknown>): void {
    const teamId = message.team_id;
    const team = typeof teamId === 'number' ? this.teams.get(teamId) : undefined;
    if (team === undefined || !team.joined) return this.refuse(link, 'unknown team', message, typeof teamId === 'number' ? teamId : undefined);
    if (team.left) {
      this.refuse(link, 'this team has left', message, team.id);
      this.sendGlobalEvent({ type: 'team.left', team_id: team.id });
      return;
    }
    const answer = team.connectAnswers.shift() ?? 'now';
    if (answer === 'error') {
      this.faultCounts['connect-error']++;
      this.logFault(`team ${team.id}: team.connect answered with an error`);
      return this.refuse(link, 'team is not ready yet; try again later', message, team.id);
    }
    if (answer === 'late') {
      this.faultCounts['late-connect']++;
      const delayMs = this.realMs(this.random.between(1_000, 6_000));
      this.logFault(`team ${team.id}: team.connect answered ${delayMs} ms late`);
      this.after(delayMs, () => this.answerConnect(team));
      return;
    }
    this.answerConnect(team);
  }

  private answerConnect(team: TeamRecord): void {
    if (team.left || this.global === undefined || this.state === 'over') return;
    const token = randomBytes(9).toString('base64url');
    team.tokens.push(token);
    if (team.tokens.length > VALID_URLS_PER_TEAM) team.tokens.shift();
    const wsUrl = `http://${this.host}${this.settings.basePath}/team/${team.id}/${token}`;
    this.global.send({ type: 'team.connect', team_id: team.id, ws_url: wsUrl });
  }

  private onTeamMessage(link: TeamLink, data: Buffer, isBinary: boolean): void {
    if (link.silent || this.state === 'over') return;
    if (isBinary) return this.refuse(link, 'binary messages are not part of this API; send JSON text', null);
    const raw = data.toString('utf8');
    const message = parseObject(raw);
    if (message === undefined) return this.refuse(link, 'not a JSON object with a "type"', raw.slice(0, MAX_ECHOED_CHARACTERS));
    const uniqueId = message.unique_id;
    if (message.type === 'ping' && (typeof uniqueId === 'string' || typeof uniqueId === 'number')) {
      link.send({ type: 'pong', unique_id: uniqueId });
      return;
    }
    this.refuse(link, message.type === 'ping' ? 'ping needs a unique_id' : 'unknown message type', message);
  }

  // ── The scenario on its virtual clock ─────────────────────────────────────────────────────────

  private start(): void {
    this.state = 'running';
    this.startedAt = performance.now();
    this.lastTickAt = this.startedAt;
    this.ticker = setInterval(() => this.tick(), TICK_MS);
    this.settings.log(`run started: ${this.settings.teams} teams, seed ${this.settings.seed}, faults ${[...this.settings.faults].join(',') || 'none'}`);
  }

  private tick(): void {
    const now = performance.now();
    const step = Math.min(now - this.lastTickAt, MAX_STEP_MS);
    this.lastTickAt = now;
    if (this.paused) return;
    this.virtualNow += step * this.settings.timeScale;
    const events = this.settings.scenario.events;
    while (!this.paused && this.cursor < events.length && events[this.cursor]!.at <= this.virtualNow) {
      this.apply(events[this.cursor++]!);
    }
  }

  private realMs(virtualMs: number): number {
    return Math.max(1, Math.round(virtualMs / this.settings.timeScale));
  }

  private apply(event: ScenarioEvent): void {
    switch (event.kind) {
      case 'join': {
        const team = this.teams.get(event.teamId)!;
        team.joined = true;
        this.sendGlobalEvent({ type: 'team.join', team_id: team.id });
        return;
      }
      case 'message': {
        const link = this.teams.get(event.teamId)!.link;
        if (link?.carriesMessages) link.sendMessage(event.text);
        else this.counts.lost++;
        return;
      }
      case 'leave': void this.leave(this.teams.get(event.teamId)!); return;
      case 'healthcheck': void this.quietPoint(false); return;
      case 'drop-team': void this.dropTeam(this.teams.get(event.teamId)!, event.revokeUrl); return;
      case 'silence': this.silence(this.teams.get(event.teamId)!); return;
      case 'drop-global': void this.dropGlobal(); return;
      case 'malformed': this.sendMalformed(event.teamId, event.payload); return;
      case 'end': void this.finish(); return;
    }
  }

  private sendGlobalEvent(event: GlobalEvent): void {
    const global = this.readyGlobal;
    if (global !== undefined) global.sendTracked(event);
    else this.globalBacklog.push(event);
  }

  /** Settle a team link, crediting the team with what the client acknowledged. */
  private settleTeam(team: TeamRecord, link: TeamLink): Promise<boolean> {
    return link.settle(this.settings.roundTripTimeoutMs, (newly) => addCounts(team.delivered, newly));
  }

  private settleGlobal(link: GlobalLink): Promise<boolean> {
    return link.settle(this.settings.roundTripTimeoutMs, (events) => {
      for (const event of events) if (event.type === 'team.join') this.teams.get(event.team_id)!.joinDelivered = true;
    });
  }

  /** team.left goes on the team connection when it is working (after its messages are acknowledged), else on Global. */
  private async leave(team: TeamRecord): Promise<void> {
    team.left = true;
    team.tokens = [];
    const link = team.link;
    if (link?.silent) {
      // A silent link says nothing more; the client hears of the leave on Global and closes the link itself.
      this.sendGlobalEvent({ type: 'team.left', team_id: team.id });
      return;
    }
    if (link === undefined || !link.ready || !link.open) {
      link?.connection.close(1000, 'team left');
      this.sendGlobalEvent({ type: 'team.left', team_id: team.id });
      return;
    }
    link.draining = true;
    const settled = await this.settleTeam(team, link);
    if (!settled || !link.open) {
      this.sendGlobalEvent({ type: 'team.left', team_id: team.id });
      return;
    }
    link.send({ type: 'team.left', team_id: team.id });
    // The client is expected to close it; a client that does not gets it closed for it.
    this.after(this.settings.goodbyeGraceMs, () => link.connection.close(1000, 'team left'));
  }

  private async dropTeam(team: TeamRecord, revokeUrl: boolean): Promise<void> {
    const link = team.link;
    if (link === undefined || !link.ready || !link.open || link.draining) return;
    link.draining = true;
    await this.settleTeam(team, link);
    this.faultCounts['drop-team']++;
    this.logFault(`team ${team.id}: socket cut without a close frame${revokeUrl ? ', URL revoked' : ''}`);
    if (revokeUrl) team.tokens = [];
    link.connection.terminate();
  }

  private silence(team: TeamRecord): void {
    const link = team.link;
    if (link === undefined || !link.carriesMessages) return;
    link.silent = true;
    this.faultCounts.silent++;
    this.logFault(`team ${team.id}: connection goes silent`);
    // Its WebSocket-level pongs still work (the client's library answers them): settle what it has.
    void this.settleTeam(team, link);
  }

  private async dropGlobal(): Promise<void> {
    const link = this.readyGlobal;
    if (link === undefined) return;
    await this.settleGlobal(link);
    this.faultCounts['drop-global']++;
    this.logFault('Global connection cut without a close frame');
    link.connection.terminate();
  }

  private sendMalformed(teamId: number | undefined, payload: string | Buffer): void {
    const link = teamId === undefined ? this.readyGlobal : this.teams.get(teamId)!.link;
    if (link === undefined || !link.open || (link instanceof TeamLink && !link.carriesMessages)) return;
    link.connection.send(payload);
    this.faultCounts.malformed++;
    this.logFault(`${teamId === undefined ? 'Global' : `team ${teamId}`}: sent ${typeof payload === 'string' ? JSON.stringify(payload) : 'a binary frame'}`);
  }

  // ── Healthchecks and the end ──────────────────────────────────────────────────────────────────

  /**
   * Pause the scenario, get every delivery acknowledged (team messages and global events), then ask.
   * Nothing is sent between the snapshot of the truth and the question, so the answer must be exact.
   */
  private async quietPoint(final: boolean): Promise<void> {
    this.paused = true;
    const deadline = performance.now() + this.settings.quietPointTimeoutMs;
    const number = this.counts.healthchecks + 1;
    let problems: string[] | undefined;
    let summaryText = '';
    while (problems === undefined) {
      const global = await this.waitForGlobal(deadline);
      if (global === undefined) {
        problems = ['no Global connection to ask on'];
        break;
      }
      const links = [...this.teams.values()].filter((team) => team.link?.open).map((team) => this.settleTeam(team, team.link!));
      await Promise.all([this.settleGlobal(global), ...links]);
      if (!global.open) continue;
      const expected = this.expectedStats();
      global.send({ type: 'healthcheck' });
      const reply = await this.waitForReply(global, deadline);
      if (reply === undefined && !global.open && performance.now() < deadline) continue; // ask again on the next connection
      if (reply === undefined) {
        problems = ['no healthcheck answer in time'];
        break;
      }
      const verdict = judgeHealthcheck(expected, reply);
      problems = verdict.problems;
      const messages = expected.reduce((total, team) => total + team.delivered.messages, 0);
      const props = expected.reduce((total, team) => total + team.delivered.props, 0);
      summaryText = `${expected.length} teams (${verdict.disconnected} reported disconnected), ${messages} messages, ${props} props`;
    }
    this.counts.healthchecks++;
    if (problems.length === 0) {
      this.settings.log(`healthcheck ${number}${final ? ' (final)' : ''}: match — ${summaryText}`);
    } else {
      this.counts.mismatches++;
      const shown = problems.slice(0, 5).join('; ');
      this.settings.log(`healthcheck ${number}${final ? ' (final)' : ''}: MISMATCH — ${shown}${problems.length > 5 ? `; …and ${problems.length - 5} more` : ''}`);
    }
    if (!final) this.paused = false;
  }

  private expectedStats(): ExpectedTeam[] {
    return [...this.teams.values()]
      .filter((team) => team.joinDelivered)
      .map((team) => ({ id: team.id, delivered: { ...team.delivered }, inDoubt: { ...team.inDoubt } }));
  }

  private waitForGlobal(deadline: number): Promise<GlobalLink | undefined> {
    const ready = this.readyGlobal;
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve) => {
      const timer = this.after(Math.max(0, deadline - performance.now()), () => resolve(undefined));
      this.globalWaiters.push(() => {
        this.cancel(timer);
        resolve(this.readyGlobal);
      });
    });
  }

  private waitForReply(link: GlobalLink, deadline: number): Promise<unknown> {
    return new Promise((resolve) => {
      const timer = this.after(Math.max(0, deadline - performance.now()), () => settle(undefined));
      const settle = (reply: unknown): void => {
        this.cancel(timer);
        this.pendingReply = undefined;
        resolve(reply);
      };
      this.pendingReply = { link, resolve: settle };
    });
  }

  private async finish(): Promise<void> {
    this.state = 'finishing';
    clearInterval(this.ticker);
    await this.quietPoint(true);
    const global = await this.waitForGlobal(performance.now() + this.settings.quietPointTimeoutMs);
    global?.send({ type: 'goodbye' });
    this.state = 'over';
    await this.allClosed(this.settings.goodbyeGraceMs);
    this.counts.openSockets = this.connections.size;
    this.counts.finished = true;
    await this.end();
    this.settings.log(formatSummary(this.summary()));
  }

  /** Stop early (server shutdown): cut every connection and settle `done`. */
  async abort(): Promise<void> {
    if (this.state === 'over' && this.connections.size === 0) return;
    this.state = 'over';
    await this.end();
  }

  private async end(): Promise<void> {
    clearInterval(this.ticker);
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.pendingReply?.resolve(undefined);
    for (const wake of this.globalWaiters.splice(0)) wake();
    for (const connection of this.connections) connection.terminate();
    await this.allClosed(1_000);
    this.resolveDone(this.summary());
  }

  private allClosed(timeoutMs: number): Promise<void> {
    if (this.connections.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = this.after(timeoutMs, resolve);
      this.allClosedWaiters.push(() => {
        this.cancel(timer);
        resolve();
      });
    });
  }

  private after(delayMs: number, action: () => void): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      action();
    }, delayMs);
    this.timers.add(timer);
    return timer;
  }

  private cancel(timer: NodeJS.Timeout): void {
    clearTimeout(timer);
    this.timers.delete(timer);
  }
}

function parseObject(raw: string): (Record<string, unknown> & { type: string }) | undefined {
  try {
    const value: unknown = JSON.parse(raw);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    return typeof (value as { type?: unknown }).type === 'string' ? (value as Record<string, unknown> & { type: string }) : undefined;
  } catch {
    return undefined;
  }
}

/** The one-line summary printed at the end of a run. */
export function formatSummary(summary: Summary): string {
  const faults = FAULT_NAMES.filter((fault) => summary.faults[fault] > 0).map((fault) => `${fault}:${summary.faults[fault]}`).join(',') || 'none';
  return `summary: teams=${summary.teams} messages=${summary.messages} props=${summary.props} healthchecks=${summary.healthchecks} ` +
    `mismatches=${summary.mismatches} lost=${summary.lost} in-doubt=${summary.inDoubt} open-sockets=${summary.openSockets} ` +
    `faults=${faults} seed=${summary.seed} elapsed=${summary.elapsedMs}ms${summary.finished ? '' : ' (stopped early)'}`;
}
