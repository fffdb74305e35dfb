// Tests for the BATCHAT dialogue without any socket: ChatSessions in a ChatRoom, fed
// bytes directly, writing to in-memory peers. The network tests repeat the key cases over TCP.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ChatRoom } from '../servers/batchat/room.ts';
import { ChatSession } from '../servers/batchat/session.ts';
import type { Peer } from '../servers/batchat/session.ts';

class MemoryPeer implements Peer {
  output = '';
  ended = false;
  write(data: string | Uint8Array): void {
    this.output += typeof data === 'string' ? data : Buffer.from(data).toString('latin1');
  }
  end(): void {
    this.ended = true;
  }
  /** Returns what was written since the last call. */
  take(): string {
    const taken = this.output;
    this.output = '';
    return taken;
  }
}

function newUser(room: ChatRoom, name?: string, maxLineBytes?: number) {
  const peer = new MemoryPeer();
  const session = new ChatSession(room, peer, maxLineBytes);
  session.start();
  const type = (text: string) => session.receive(Buffer.from(text, 'utf8'));
  if (name !== undefined) {
    type(`${name}\r\n`);
    peer.take();
  }
  return { peer, session, type };
}

describe('ChatSession', () => {
  test('starts with the banner and ends the welcome with the name prompt', () => {
    const { peer } = newUser(new ChatRoom());
    assert.ok(peer.output.startsWith('   ____      _'));
    assert.ok(peer.output.endsWith('\r\n\r\nWelcome to BATCHAT local reviews and chat!\r\n\r\nPlease enter your name, and press enter: '));
  });

  test('greets by name, then relays lines to the others only', () => {
    const room = new ChatRoom();
    const mike = newUser(room);
    mike.peer.take();
    mike.type('mike\r\n');
    assert.equal(mike.peer.take(), 'Hey, mike! Hope you enjoy the chat.\r\n\r\n');
    const jonny = newUser(room, 'jonny');
    mike.type('hey everyone!\n');
    assert.equal(jonny.peer.take(), '<mike> hey everyone!\r\n');
    assert.equal(mike.peer.take(), '');
  });

  test('/quit ends the session and tells the rest of the room once', () => {
    const room = new ChatRoom();
    const mike = newUser(room, 'mike');
    const jonny = newUser(room, 'jonny');
    jonny.type('/quit\r\nthis line comes after quitting\r\n');
    assert.equal(jonny.session.state, 'gone');
    assert.equal(jonny.peer.ended, true);
    assert.equal(mike.peer.take(), '* jonny has quit the chat\r\n');
    jonny.session.leave('disconnected'); // the socket closing afterwards changes nothing
    assert.equal(mike.peer.take(), '');
    assert.deepEqual(room.names(), ['mike']);
  });

  test('a user still at the name prompt hears nothing and leaves silently', () => {
    const room = new ChatRoom();
    const mike = newUser(room, 'mike');
    const stranger = newUser(room);
    stranger.peer.take();
    mike.type('anyone?\n');
    assert.equal(stranger.peer.take(), '');
    stranger.type('\x03');
    assert.equal(stranger.session.state, 'gone');
    assert.equal(mike.peer.take(), '');
  });

  test('a taken name (in any case) is refused with the prompt again', () => {
    const room = new ChatRoom();
    newUser(room, 'Mike');
    const second = newUser(room);
    second.peer.take();
    second.type('mIKE\n');
    assert.equal(second.peer.take(), 'The name mIKE is taken, please pick another.\r\nPlease enter your name, and press enter: ');
    second.type('mike2\n');
    assert.equal(second.peer.take(), 'Hey, mike2! Hope you enjoy the chat.\r\n\r\n');
  });

  test('a slow reader is announced with the reason', () => {
    const room = new ChatRoom();
    const mike = newUser(room, 'mike');
    const jonny = newUser(room, 'jonny');
    jonny.session.leave('too-slow');
    assert.equal(mike.peer.take(), '* jonny has quit the chat (disconnected: not reading fast enough)\r\n');
  });

  test('a shutdown says goodbye to the user and announces nothing to the others', () => {
    const room = new ChatRoom();
    const mike = newUser(room, 'mike');
    const jonny = newUser(room, 'jonny');
    jonny.session.leave('shutdown', '* bye');
    assert.equal(jonny.peer.take(), '* bye\r\n');
    assert.equal(mike.peer.take(), '');
  });

  test('EOF delivers a final unterminated line, then announces the quit', () => {
    const room = new ChatRoom();
    const mike = newUser(room, 'mike');
    const jonny = newUser(room, 'jonny');
    jonny.type('last words');
    jonny.session.receiveEnd();
    assert.equal(mike.peer.take(), '<jonny> last words\r\n* jonny has quit the chat\r\n');
  });

  test('// sends a line starting with /, unknown commands get a hint', () => {
    const room = new ChatRoom();
    const mike = newUser(room, 'mike');
    const jonny = newUser(room, 'jonny');
    mike.type('//shrug\n/shrug \x1b[2Jx\n');
    assert.equal(jonny.peer.take(), '<mike> /shrug\r\n');
    assert.equal(mike.peer.take(), '* Unknown command /shrug. Type /help for the list.\r\n');
  });
});
