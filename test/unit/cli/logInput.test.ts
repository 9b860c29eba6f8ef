// What explain takes as a text log, and what it refuses before parsing.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LogInputError, notTextReason, readLogInput } from '../../../src/cli/logInput';

const bytes = (text: string) => Buffer.from(text, 'latin1');

describe('notTextReason', () => {
  it('accepts logs, coloured or not, with CRLF and UTF-8 source text', () => {
    assert.equal(notTextReason(Buffer.from('0: R1=ctx() R10=fp0\r\n; x = 1; // über 日本\n')), null);
    assert.equal(notTextReason(Buffer.from('\x1b[31merror\x1b[0m\n\f\v')), null);
    assert.equal(notTextReason(Buffer.alloc(0)), null);
  });

  it('accepts a little Latin-1 (a few invalid UTF-8 bytes)', () => {
    assert.equal(notTextReason(bytes(`${'a log line\n'.repeat(20)}caf\xe9\n`)), null);
  });

  it('does not count a character cut at the end of the sniffed bytes', () => {
    const text = Buffer.from('ab日');
    assert.equal(notTextReason(text.subarray(0, text.length - 1)), null);
  });

  it('refuses NUL bytes, UTF-16 and mostly invalid or control bytes', () => {
    assert.match(notTextReason(bytes('log\x00more'))!, /NUL byte at offset 3/);
    assert.match(notTextReason(bytes('\xff\xfel\x00o\x00g\x00'))!, /UTF-16/);
    assert.match(notTextReason(bytes('\xfe\xff\x00l'))!, /UTF-16/);
    assert.match(notTextReason(bytes('\x89PNG\r\n\x1a\n\x01\x02\x03\x04\x05'))!, /invalid UTF-8 or control/);
    const junk = Buffer.alloc(4096);
    for (let i = 0; i < junk.length; i++) junk[i] = 0x80 + (i % 0x7f);
    assert.match(notTextReason(junk)!, /invalid UTF-8 or control/);
  });
});

describe('readLogInput', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccp-loginput-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function read(file: string, max = 1 << 30): Promise<string> {
    const chunks: Buffer[] = [];
    await readLogInput(file, max, (c) => chunks.push(Buffer.from(c)));
    return Buffer.concat(chunks).toString('utf8');
  }

  it('passes a text file through whole, across the sniffing boundary', async () => {
    const text = `${'0: R1=ctx() R10=fp0\n'.repeat(10_000)}processed 1 insns\n`;
    fs.writeFileSync(path.join(dir, 'a.log'), text);
    assert.equal(await read(path.join(dir, 'a.log')), text);
  });

  it('refuses a file over the limit before reading it', async () => {
    fs.writeFileSync(path.join(dir, 'a.log'), 'x'.repeat(100));
    await assert.rejects(read(path.join(dir, 'a.log'), 99), (e: unknown) => e instanceof LogInputError && /larger than --max-bytes 99/.test(e.message));
    assert.equal((await read(path.join(dir, 'a.log'), 100)).length, 100);
  });

  it('refuses a NUL after the sniffed start, naming its offset', async () => {
    const file = path.join(dir, 'a.log');
    fs.writeFileSync(file, Buffer.concat([Buffer.from('a\n'.repeat(100_000)), Buffer.alloc(10)]));
    await assert.rejects(read(file), (e: unknown) => e instanceof LogInputError && /NUL byte at offset 200000/.test(e.message));
  });

  it('says which file cannot be read, and why, in one line', async () => {
    await assert.rejects(read(path.join(dir, 'missing.log')), (e: unknown) => e instanceof LogInputError && e.message === `cannot read ${path.join(dir, 'missing.log')}: no such file or directory`);
    await assert.rejects(read(dir), (e: unknown) => e instanceof LogInputError && /it is a directory/.test(e.message));
  });

  it('stops an endless stream at its first bytes', async () => {
    await assert.rejects(read('/dev/zero'), (e: unknown) => e instanceof LogInputError && /NUL byte at offset 0/.test(e.message));
  });
});
