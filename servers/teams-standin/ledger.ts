// What the stand-in knows it delivered on one connection. A message counts as delivered only when a
// WebSocket ping sent after it has come back as a pong: TCP is ordered, so the client has read it.
// Whatever was sent but not acknowledged when the connection died is "in doubt" — neither side can know.

export interface Counts {
  messages: number;
  props: number;
}

export function zeroCounts(): Counts {
  return { messages: 0, props: 0 };
}

export function addCounts(total: Counts, more: Counts): void {
  total.messages += more.messages;
  total.props += more.props;
}

export class DeliveryLedger {
  private readonly sent = zeroCounts();
  private readonly acknowledged = zeroCounts();

  recordSent(mentionsProps: boolean): void {
    this.sent.messages++;
    if (mentionsProps) this.sent.props++;
  }

  /** What has been sent so far; acknowledge it once a ping sent now comes back. */
  checkpoint(): Counts {
    return { ...this.sent };
  }

  /** Mark everything up to `checkpoint` as delivered; returns what became delivered just now. */
  acknowledge(checkpoint: Counts): Counts {
    const newly = {
      messages: Math.max(0, checkpoint.messages - this.acknowledged.messages),
      props: Math.max(0, checkpoint.props - this.acknowledged.props),
    };
    addCounts(this.acknowledged, newly);
    return newly;
  }

  get unacknowledged(): Counts {
    return { messages: this.sent.messages - this.acknowledged.messages, props: this.sent.props - this.acknowledged.props };
  }

  get settled(): boolean {
    return this.sent.messages === this.acknowledged.messages;
  }
}
