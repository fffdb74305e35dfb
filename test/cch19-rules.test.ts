// Day 19's protocol logic without any socket: the ping game, the tweet format and its 128-code-point
// limit, room numbers, and the bird app's rooms and view counter (servers/cch19/{ping-game,tweets,bird-app}.ts).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BirdApp, type RoomMember } from '../servers/cch19/bird-app.ts';
import { PingGame } from '../servers/cch19/ping-game.ts';
import { countCodePoints, formatTweet, readTweetMessage, roomKey } from '../servers/cch19/tweets.ts';

describe('ping game', () => {
  test('ping before serve is met with silence, then pong after serve', () => {
    const game = new PingGame();
    assert.equal(game.receive('ping', false), undefined);
    assert.equal(game.receive('serve', false), undefined);
    assert.equal(game.receive('ping', false), 'pong');
    assert.equal(game.receive(Buffer.from('ping'), false), 'pong');
  });

  test('only the exact text words count: binary, other case, spaces and other words are ignored', () => {
    const game = new PingGame();
    assert.equal(game.receive(Buffer.from('serve'), true), undefined);
    assert.equal(game.started, false);
    for (const word of ['Serve', ' serve', 'serve\n', 'serves']) game.receive(word, false);
    assert.equal(game.started, false);
    game.receive('serve', false);
    for (const other of ['Ping', 'ping ', 'pong', '', 'serve', '🏓']) assert.equal(game.receive(other, false), undefined, other);
    assert.equal(game.receive(Buffer.from('ping'), true), undefined);
    assert.equal(game.receive('ping', false), 'pong');
  });
});

describe('tweets', () => {
  test('a tweet is {"message": string}; other keys are tolerated', () => {
    assert.equal(readTweetMessage('{"message":"Hello North Pole!"}', false), 'Hello North Pole!');
    assert.equal(readTweetMessage(Buffer.from('{ "message" : "" }'), false), '');
    assert.equal(readTweetMessage('{"message":"hi","mood":"festive"}', false), 'hi');
  });

  test('invalid JSON, trailing junk, wrong shapes and binary frames are ignored', () => {
    const ignored = ['', 'hello', '{"message":"hi"} junk', '{"message":"hi"', '"message"', 'null', '[]', '["hi"]', '42',
      '{}', '{"msg":"hi"}', '{"message":42}', '{"message":null}', '{"message":["hi"]}', '{"message":{"text":"hi"}}',
      '{"__proto__":{"message":"hi"}}'];
    for (const text of ignored) assert.equal(readTweetMessage(text, false), undefined, text);
    assert.equal(readTweetMessage(Buffer.from('{"message":"hi"}'), true), undefined);
  });

  test('128 code points pass, 129 do not — an emoji counts as one', () => {
    const tweet = (message: string) => JSON.stringify({ message });
    assert.equal(readTweetMessage(tweet('a'.repeat(128)), false), 'a'.repeat(128));
    assert.equal(readTweetMessage(tweet('a'.repeat(129)), false), undefined);
    assert.equal(readTweetMessage(tweet('🎄'.repeat(128)), false), '🎄'.repeat(128)); // 256 UTF-16 units
    assert.equal(readTweetMessage(tweet('🎄'.repeat(129)), false), undefined);
    assert.equal(readTweetMessage(tweet('é'.repeat(127) + '🎅'), false), 'é'.repeat(127) + '🎅');
    assert.equal(countCodePoints('🎄🎅x'), 3);
  });

  test('escaped characters count once decoded', () => {
    const escaped = `{"message":"${'\\ud83c\\udf84'.repeat(128)}"}`;
    assert.equal(readTweetMessage(escaped, false), '🎄'.repeat(128));
  });

  test('the outgoing tweet has exactly user then message', () => {
    assert.equal(formatTweet('xX_f4th3r_0f_chr1stm4s_Xx', 'Hello North Pole!'), '{"user":"xX_f4th3r_0f_chr1stm4s_Xx","message":"Hello North Pole!"}');
    assert.equal(formatTweet('a "b"', 'line\nbreak'), '{"user":"a \\"b\\"","message":"line\\nbreak"}');
  });
});

describe('room numbers', () => {
  test('decimal digits only; leading zeros name the same room', () => {
    assert.equal(roomKey('0'), '0');
    assert.equal(roomKey('42'), '42');
    assert.equal(roomKey('007'), '7');
    assert.equal(roomKey('000'), '0');
    assert.equal(roomKey('123456789012345678901234567890'), '123456789012345678901234567890');
    for (const bad of ['', 'abc', '-1', '+1', '1.5', '1e3', ' 1', '1 ', '0x10', '١']) assert.equal(roomKey(bad), undefined, bad);
  });
});

/** A member that records what it was handed; `open` false plays a socket that is closing. */
function fakeMember(open = true): RoomMember<string> & { received: string[]; open: boolean } {
  return {
    received: [],
    open,
    deliver(frame) {
      if (!this.open) return false;
      this.received.push(frame);
      return true;
    },
  };
}

describe('bird app', () => {
  test('a tweet reaches every member of its room, sender included, and counts one view each', () => {
    const app = new BirdApp<string>((text) => text);
    const [alice, bob, carol] = [fakeMember(), fakeMember(), fakeMember()];
    app.join('1', alice);
    app.join('1', bob);
    app.join('2', carol);
    const posted = app.receive('1', 'alice', '{"message":"hi"}', false);
    assert.deepEqual(posted, { text: '{"user":"alice","message":"hi"}', views: 2 });
    assert.deepEqual(alice.received, ['{"user":"alice","message":"hi"}']);
    assert.deepEqual(bob.received, alice.received);
    assert.deepEqual(carol.received, []);
    assert.equal(app.views, 2);
  });

  test('the tweet is framed once per post, whatever the room size', () => {
    let framings = 0;
    const app = new BirdApp<string>((text) => { framings++; return text; });
    for (let index = 0; index < 50; index++) app.join('9', fakeMember());
    app.receive('9', 'elf', '{"message":"once"}', false);
    assert.equal(framings, 1);
    assert.equal(app.views, 50);
  });

  test('ignored input changes nothing', () => {
    const app = new BirdApp<string>((text) => text);
    const member = fakeMember();
    app.join('1', member);
    assert.equal(app.receive('1', 'elf', 'not json', false), undefined);
    assert.equal(app.receive('1', 'elf', JSON.stringify({ message: 'x'.repeat(129) }), false), undefined);
    assert.equal(app.receive('1', 'elf', Buffer.from('{"message":"hi"}'), true), undefined);
    assert.deepEqual(member.received, []);
    assert.equal(app.views, 0);
  });

  test('members that left, or whose socket is closing, get nothing and count no view', () => {
    const app = new BirdApp<string>((text) => text);
    const [stays, leaves, closing] = [fakeMember(), fakeMember(), fakeMember(false)];
    for (const member of [stays, leaves, closing]) app.join('5', member);
    app.leave('5', leaves);
    app.receive('5', 'elf', '{"message":"a"}', false);
    assert.equal(stays.received.length, 1);
    assert.equal(leaves.received.length, 0);
    assert.equal(closing.received.length, 0);
    assert.equal(app.views, 1);
  });

  test('reset sets the counter to zero; counting goes on from there', () => {
    const app = new BirdApp<string>((text) => text);
    app.join('1', fakeMember());
    app.join('1', fakeMember());
    app.receive('1', 'elf', '{"message":"a"}', false);
    app.resetViews();
    assert.equal(app.views, 0);
    app.receive('1', 'elf', '{"message":"b"}', false);
    assert.equal(app.views, 2);
  });

  test('a tweet into a room with nobody left counts nothing; empty rooms are forgotten', () => {
    const app = new BirdApp<string>((text) => text);
    const member = fakeMember();
    app.join('3', member);
    assert.equal(app.roomCount, 1);
    app.leave('3', member);
    app.leave('3', member);
    assert.equal(app.roomCount, 0);
    assert.deepEqual(app.receive('3', 'ghost', '{"message":"anyone?"}', false), { text: '{"user":"ghost","message":"anyone?"}', views: 0 });
    assert.equal(app.views, 0);
  });

  test('tweets reach each member in the order they were received', () => {
    const app = new BirdApp<string>((text) => text);
    const members = [fakeMember(), fakeMember(), fakeMember()];
    for (const member of members) app.join('1', member);
    for (let index = 0; index < 100; index++) app.receive('1', `user${index % 3}`, JSON.stringify({ message: String(index) }), false);
    const expected = Array.from({ length: 100 }, (_, index) => formatTweet(`user${index % 3}`, String(index)));
    for (const member of members) assert.deepEqual(member.received, expected);
  });
});
