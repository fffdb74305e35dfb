// A first-in first-out queue with O(1) push and shift: the commands awaiting their replies, which come
// back in the order the commands were sent (RESP2 "Pipelining"). Array.prototype.shift is O(n) on long
// arrays; this keeps a head index and compacts now and then instead.

export class Fifo<Item> {
  private items: (Item | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: Item): void {
    this.items.push(item);
  }

  peek(): Item | undefined {
    return this.items[this.head];
  }

  shift(): Item | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Remove and return every item, oldest first. */
  drain(): Item[] {
    const drained = this.items.slice(this.head) as Item[];
    this.items = [];
    this.head = 0;
    return drained;
  }
}
