// Tests for what BATCHAT lets through to other people's terminals (sanitize.ts) and for
// the nickname rules (names.ts).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkName, nameKey } from '../servers/batchat/names.ts';
import { hasControlCharacters, sanitizeText } from '../servers/batchat/sanitize.ts';

describe('sanitizeText', () => {
  test('removes CSI sequences whole: clear screen, cursor moves, colours', () => {
    assert.equal(sanitizeText('\x1b[2J\x1b[Hhi \x1b[1;31mred\x1b[0m'), 'hi red');
    assert.equal(sanitizeText('a\x1b[?25lb'), 'ab'); // private parameters (hide cursor)
  });

  test('removes the one-byte C1 CSI (U+009B) form', () => {
    assert.equal(sanitizeText('a\u009b2Jb'), 'ab');
  });

  test('removes OSC strings ended by BEL or ST, and an unterminated one to the end', () => {
    assert.equal(sanitizeText('x\x1b]0;pwned title\x07y'), 'xy');
    assert.equal(sanitizeText('x\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\y'), 'xlinky');
    assert.equal(sanitizeText('x\x1b]0;never ends'), 'x');
  });

  test('removes DCS/APC strings and two-byte escapes such as ESC c (full reset)', () => {
    assert.equal(sanitizeText('a\x1bPq#0;2;0;0;0\x1b\\b'), 'ab');
    assert.equal(sanitizeText('a\x1b_hidden\x1b\\b'), 'ab');
    assert.equal(sanitizeText('a\x1bcb\x1b7c\x1b(Bd'), 'abcd');
  });

  test('removes C0 controls, DEL and C1 controls; a tab becomes a space', () => {
    assert.equal(sanitizeText('a\x00b\x07c\x08d\x0be\x0cf\x7fg\u0085h\u0080i'), 'abcdefghi');
    assert.equal(sanitizeText('a\tb'), 'a b');
  });

  test('removes bidirectional overrides that would reorder the line on screen', () => {
    assert.equal(sanitizeText('abc\u202edcba\u202c'), 'abcdcba');
  });

  test('a lone ESC or ESC before a control leaves nothing executable behind', () => {
    assert.equal(sanitizeText('a\x1b'), 'a');
    assert.equal(sanitizeText('\x1b\x00[2J'), '[2J');
  });

  test('UTF-8 text passes through untouched', () => {
    const text = 'Crème brûlée, 日本語, Ελληνικά, 🦇🍵 — “quotes” <tags> & $dollars';
    assert.equal(sanitizeText(text), text);
  });

  test('no control character survives, whatever the input', () => {
    // A deterministic generator, so a failure reproduces.
    let seed = 42;
    const next = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    for (let round = 0; round < 2000; round++) {
      let input = '';
      for (let i = 0; i < 40; i++) input += String.fromCodePoint(next() % 3 === 0 ? 0x1b : next() % 0xa0);
      assert.equal(hasControlCharacters(sanitizeText(input)), false, JSON.stringify(input));
    }
  });
});

describe('checkName', () => {
  test('trims and accepts ordinary names, including non-ASCII ones', () => {
    assert.deepEqual(checkName('  mike \t'), { ok: true, name: 'mike' });
    assert.deepEqual(checkName('J Stopfarm'), { ok: true, name: 'J Stopfarm' });
    assert.deepEqual(checkName('José 🦇'), { ok: true, name: 'José 🦇' });
  });

  test('refuses empty and whitespace-only names', () => {
    assert.deepEqual(checkName(''), { ok: false, reason: 'Your name cannot be empty.' });
    assert.deepEqual(checkName('   '), { ok: false, reason: 'Your name cannot be empty.' });
  });

  test('allows 32 characters (counted as characters, not bytes) and refuses 33', () => {
    assert.equal(checkName('é'.repeat(32)).ok, true);
    assert.equal(checkName('🦇'.repeat(32)).ok, true);
    assert.deepEqual(checkName('x'.repeat(33)), { ok: false, reason: 'Your name can be at most 32 characters.' });
  });

  test('refuses control characters and escape sequences', () => {
    for (const name of ['a\x1b[31mb', 'a\x07', 'a\u009bb', 'a\u202eb']) {
      assert.deepEqual(checkName(name), {
        ok: false,
        reason: 'Your name cannot contain control characters or escape sequences.',
      });
    }
  });

  test('refuses angle brackets and a leading slash', () => {
    assert.deepEqual(checkName('alice> hi <bob'), { ok: false, reason: 'Your name cannot contain < or >.' });
    assert.deepEqual(checkName('/who'), { ok: false, reason: 'Your name cannot start with /.' });
  });
});

describe('nameKey', () => {
  test('ignores case and Unicode normalization form', () => {
    assert.equal(nameKey('Mike'), nameKey('mIKE'));
    assert.equal(nameKey('Jos\u00e9'), nameKey('JOSE\u0301'));
  });
});
