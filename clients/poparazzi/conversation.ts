// The client's side of the Poparazzi stream as a script without a socket: authorize, send a state,
// report views, stop. Each received message decides what to send next, so it is testable alone.

export interface ConversationPlan {
  token: string;
  state: { active_group_id: string | number | null; is_typing: boolean | null };
  /** Post id → count; empty to skip the view report. */
  viewCounts: Record<string, number>;
}

export type ConversationStep =
  | { type: 'send'; messages: Record<string, unknown>[] }
  | { type: 'done' }
  | { type: 'failed'; reason: string };

type Waiting = 'authenticated' | 'state' | 'view_counts' | 'finished';

export class Conversation {
  #waiting: Waiting = 'authenticated';

  constructor(private readonly plan: ConversationPlan) {}

  get finished(): boolean {
    return this.#waiting === 'finished';
  }

  /** The first message: the authorization. */
  start(): Record<string, unknown> {
    return { authorization: `Bearer ${this.plan.token}` };
  }

  /** What to do after a message from the server (already JSON-parsed). */
  receive(message: unknown): ConversationStep {
    if (typeof message !== 'object' || message === null) return this.#fail(`unexpected message ${JSON.stringify(message)}`);
    const fields = message as Record<string, unknown>;
    if ('error' in fields) return this.#fail(`server error: ${JSON.stringify(fields['error'])}`);
    switch (this.#waiting) {
      case 'authenticated':
        if (fields['authenticated'] !== true) return this.#fail('authentication refused');
        this.#waiting = 'state';
        return { type: 'send', messages: [{ state: this.plan.state }] };
      case 'state':
        if (!('state' in fields)) return this.#fail(`expected the state echo, got ${JSON.stringify(message)}`);
        if (Object.keys(this.plan.viewCounts).length === 0) return this.#finish();
        this.#waiting = 'view_counts';
        return { type: 'send', messages: [{ view_counts: this.plan.viewCounts }] };
      case 'view_counts':
        if (fields['view_counts'] !== true) return this.#fail(`expected the view_counts acknowledgement, got ${JSON.stringify(message)}`);
        return this.#finish();
      case 'finished':
        return { type: 'done' };
    }
  }

  #finish(): ConversationStep {
    this.#waiting = 'finished';
    return { type: 'done' };
  }

  #fail(reason: string): ConversationStep {
    this.#waiting = 'finished';
    return { type: 'failed', reason };
  }
}
