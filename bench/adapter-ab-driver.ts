// The timed side of bench/adapter-ab.ts, imported once per checkout under its own URL (as
// parse-ab-driver.ts is, for the same reason: ab-checkouts.ts): 100 echo connections of one checkout's WebSocketConnection
// over in-memory duplex streams, so the measure is the adapter's own JavaScript with no system call in it.

import { resolve } from 'node:path';
import { Duplex } from 'node:stream';
import { pathToFileURL } from 'node:url';

/** A socket stand-in: what is pushed into it is "received"; what is written to it is counted and dropped. */
class CountingPipe extends Duplex {
  written = 0;
  override _read(): void {}
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.written += chunk.length;
    done();
  }
}

/**
 * `connections` echo connections of one checkout; the function returned feeds `chunk` to every one
 * `turns` times, in reads of `readBytes` (all of it at once when 0), letting the event loop turn between
 * (the writes go out then), and returns the bytes written.
 */
export async function loadEchoConnections(checkout: string, connections: number): Promise<(chunk: Buffer, turns: number, readBytes: number) => Promise<number>> {
  const { WebSocketConnection } = await import(pathToFileURL(resolve(checkout, 'lib/websocket/connection.ts')).href);
  const pipes: CountingPipe[] = [];
  for (let index = 0; index < connections; index++) {
    const pipe = new CountingPipe();
    const connection = new WebSocketConnection(pipe, 'server', {});
    connection.on('message', (data: Buffer, isBinary: boolean) => connection.send(data, { binary: isBinary }));
    pipes.push(pipe);
  }
  return async (chunk, turns, readBytes) => {
    let written = 0;
    const step = readBytes > 0 ? readBytes : chunk.length;
    for (let turn = 0; turn < turns; turn++) {
      for (const pipe of pipes) {
        const copy = Buffer.from(chunk); // a copy: the parser unmasks in place
        for (let offset = 0; offset < copy.length; offset += step) pipe.push(copy.subarray(offset, offset + step));
      }
      await new Promise(setImmediate);
    }
    for (const pipe of pipes) {
      written += pipe.written;
      pipe.written = 0;
    }
    return written;
  };
}
