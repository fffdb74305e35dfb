import { test } from 'node:test';
import assert from 'node:assert/strict';
import { logFailure } from '../lib/http/log-failure.ts';

function captured(run: () => void): string[] {
  const lines: string[] = [];
  const original = console.error;
  console.error = (text: string) => lines.push(text);
  try {
    run();
  } finally {
    console.error = original;
  }
  return lines;
}

test('a failure is one log line naming the stack, the request and the error', () => {
  assert.deepEqual(captured(() => logFailure('router', 'GET /x', new TypeError('boom'))), ['[router] GET /x failed: TypeError: boom']);
  assert.deepEqual(captured(() => logFailure('http', 'GET /x', 'handler answered with status 100')), ['[http] GET /x failed: handler answered with status 100']);
});

test('CR and LF in the request or the error cannot forge a second log line', () => {
  const lines = captured(() => logFailure('http', 'GET /a\r\n[http] fake', new Error('bad\nthing')));
  assert.deepEqual(lines, ['[http] GET /a  [http] fake failed: Error: bad thing']);
});
