// EntryScanner against the character-by-character splitter it replaced (kept here as the oracle): the same
// elements, indexes, counts and errors for any window and any chunking, on real dumps and on mutated text.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EntryScanner } from '../../../src/core/maps/entryScanner';

const FIXTURES = path.resolve(__dirname, '../../../../test/unit/maps/fixtures');

/** The old JsonArrayStream, verbatim in behaviour. */
function oracle(text: string): { elements: string[]; error: string | null; done: boolean } {
  let depth = 0;
  let inString = false;
  let escaped = false;
  let started = false;
  let current = '';
  let finished = false;
  let error: string | null = null;
  const elements: string[] = [];
  const emit = () => {
    const t = current.trim();
    current = '';
    if (t !== '') elements.push(t);
  };
  for (const ch of text) {
    if (finished || error) break;
    if (!started) {
      if (/\s/.test(ch)) continue;
      if (ch !== '[') {
        error = `expected a JSON array, got ${JSON.stringify(ch)}`;
        break;
      }
      started = true;
      continue;
    }
    if (inString) {
      current += ch;
      if (escaped) escaped = false;
      else if (ch === '\\') escaped = true;
      else if (ch === '"') inString = false;
      continue;
    }
    if (depth === 0) {
      if (ch === ']') {
        emit();
        finished = true;
        continue;
      }
      if (ch === ',') {
        emit();
        continue;
      }
    }
    if (ch === '"') inString = true;
    else if (ch === '{' || ch === '[') depth++;
    else if (ch === '}' || ch === ']') depth--;
    if (depth < 0) {
      error = 'unbalanced brackets';
      break;
    }
    current += ch;
  }
  return { elements, error, done: finished };
}

function scan(text: string, from: number, to: number, chunk: number) {
  const got: [number, string][] = [];
  const s = new EntryScanner(from, to, (t, i) => got.push([i, t]));
  for (let i = 0; i < text.length; i += chunk) s.push(text.slice(i, i + chunk));
  return { got, count: s.count, error: s.error, done: s.done };
}

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

function check(text: string, from: number, to: number, chunk: number): void {
  const want = oracle(text);
  const got = scan(text, from, to, chunk);
  const label = `window [${from}, ${to}) chunk ${chunk}: ${JSON.stringify(text.slice(0, 80))}`;
  assert.equal(got.error, want.error, label);
  if (want.error) return;
  assert.equal(got.count, want.elements.length, label);
  assert.equal(got.done, want.done, label);
  const expected = want.elements.map((t, i) => [i, t] as [number, string]).filter(([i]) => i >= from && i < to);
  assert.deepEqual(got.got, expected, label);
}

describe('EntryScanner', () => {
  it('matches the character splitter on the real dumps, for windows and chunkings', () => {
    for (const name of fs.readdirSync(FIXTURES).filter((f) => f.startsWith('map-dump') && f.endsWith('.json'))) {
      const text = fs.readFileSync(path.join(FIXTURES, name), 'utf8');
      const n = oracle(text).elements.length;
      for (const [from, to] of [[0, Infinity], [0, 1], [1, 2], [Math.max(0, n - 1), n], [n, n + 5]]) {
        for (const chunk of [1, 2, 3, 7, 64, 4096, text.length]) check(text, from, to, chunk);
      }
    }
  });

  it('matches it on strings with brackets, commas, escapes, odd whitespace and garbage', () => {
    for (const text of [
      '[ {"a":"],[\\"{"} , [1,[2]], "x\\\\" ]',
      '[]',
      '[,]',
      '[ , 1 ,, 2 ]',
      '  \n[\u00a0{"k":"\\\\\\"]"}\u2028,\t"\\u005d"]trailing',
      '{"error":"x"}',
      '[}]',
      '[{]',
      '[["a\\\\"],"b\\""]',
      '',
      '[1',
      'x',
    ]) {
      for (const chunk of [1, 2, 3, 5, 100]) for (const [from, to] of [[0, Infinity], [1, 2], [0, 0]]) check(text, from, to, chunk);
    }
  });

  it('matches it on random mutations of a dump', () => {
    const base = fs.readFileSync(path.join(FIXTURES, 'map-dump-hash-btf.json'), 'utf8');
    const rand = rng(0x5ca11e);
    const alphabet = ['"', '\\', '[', ']', '{', '}', ',', ' ', '\n', 'a', '0', '\u00a0'];
    for (let round = 0; round < 400; round++) {
      const chars = [...base];
      for (let k = 0, m = 1 + Math.floor(rand() * 6); k < m; k++) {
        const at = Math.floor(rand() * chars.length);
        if (rand() < 0.5) chars.splice(at, 1);
        else chars.splice(at, 0, alphabet[Math.floor(rand() * alphabet.length)]);
      }
      const text = chars.join('');
      const from = Math.floor(rand() * 4);
      check(text, from, from + 1 + Math.floor(rand() * 3), 1 + Math.floor(rand() * 50));
    }
  });
});
