import { test } from 'node:test';
import assert from 'node:assert/strict';
import { joinFieldValues, listMembers } from '../lib/http-common/fields.ts';
import { RequestParser } from '../lib/http/parser.ts';

test('listMembers: trimmed, non-empty members of a comma list, case kept', () => {
  assert.deepEqual(listMembers(' close ,, Upgrade\t,'), ['close', 'Upgrade']);
  assert.deepEqual(listMembers('chat.v2, Chat.V1'), ['chat.v2', 'Chat.V1']);
  assert.deepEqual(listMembers(' , '), []);
  assert.deepEqual(listMembers(''), []);
});

test('joinFieldValues: a repeated field is joined with ", ", Cookie with "; "', () => {
  assert.equal(joinFieldValues('accept', 'text/html', 'application/json'), 'text/html, application/json');
  assert.equal(joinFieldValues('cookie', 'a=1', 'b=2'), 'a=1; b=2');
});

test('the raw parser joins repeated headers the same way (a handler sees one value per name)', () => {
  const parser = new RequestParser();
  const [request] = parser.feed(Buffer.from('GET / HTTP/1.1\r\nHost: a\r\nCookie: a=1\r\nAccept: text/html\r\nCookie: b=2\r\nAccept: */*\r\n\r\n'));
  assert.equal(request!.headers['cookie'], 'a=1; b=2');
  assert.equal(request!.headers['accept'], 'text/html, */*');
});

test('the raw parser reads Connection and Transfer-Encoding as lists, ignoring case and empty members', () => {
  const parser = new RequestParser();
  const [request] = parser.feed(Buffer.from('POST / HTTP/1.1\r\nHost: a\r\nConnection: , CLOSE\r\nTransfer-Encoding: , Chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n'));
  assert.equal(request!.keepAlive, false);
  assert.equal(request!.body.toString(), 'x');
});
