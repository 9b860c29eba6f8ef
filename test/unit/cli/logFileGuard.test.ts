// verify --log FILE must never be what the verify reads or builds.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UsageError } from '../../../src/cli/args';
import { checkLogFile } from '../../../src/cli/logFileGuard';

describe('checkLogFile', () => {
  let dir: string;
  let sdk: string;
  let header: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccp-logguard-'));
    sdk = path.join(dir, 'sdk');
    fs.mkdirSync(sdk);
    fs.writeFileSync(path.join(sdk, 'bpf_custom.c'), '');
    fs.writeFileSync(path.join(sdk, 'Makefile'), 'BPF_CUSTOM_PROG_FILE ?=\n');
    header = path.join(dir, 'prog.h');
    fs.writeFileSync(header, '');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const refused = (log: string, what: RegExp) =>
    assert.throws(() => checkLogFile(log, header, undefined, sdk), (e: unknown) => e instanceof UsageError && what.test(e.message) && !e.message.includes('\n'));

  it('refuses the header, its object, the landing program and the Makefile', () => {
    refused(header, /would overwrite the header/);
    refused(path.join(dir, 'prog.o'), /would overwrite the object/);
    refused(path.join(sdk, 'bpf_custom.c'), /would overwrite the landing program/);
    refused(path.join(sdk, 'Makefile'), /would overwrite a Makefile of the build/);
  });

  it('refuses them through relative paths, symbolic links and hard links', () => {
    const cwd = process.cwd();
    try {
      process.chdir(dir);
      refused('prog.h', /the header/);
      refused('./sdk/../prog.h', /the header/);
    } finally {
      process.chdir(cwd);
    }
    fs.symlinkSync(header, path.join(dir, 'link.log'));
    refused(path.join(dir, 'link.log'), /the header/);
    fs.linkSync(header, path.join(dir, 'hard.log'));
    refused(path.join(dir, 'hard.log'), /the header/);
  });

  it('refuses anything named like a source, object or Makefile, existing or not', () => {
    for (const name of ['other.h', 'x.c', 'y.o', 'makefile', 'GNUmakefile']) refused(path.join(dir, name), /named like a source/);
  });

  it('refuses the object itself when the object is verified', () => {
    const object = path.join(dir, 'prog.o');
    fs.writeFileSync(object, '');
    assert.throws(() => checkLogFile(object, object, undefined, sdk), /would overwrite the object/);
  });

  it('accepts an ordinary log file, new or existing', () => {
    checkLogFile(path.join(dir, 'verifier.log'), header, undefined, sdk);
    fs.writeFileSync(path.join(dir, 'old.log'), 'x');
    checkLogFile(path.join(dir, 'old.log'), header, undefined, sdk);
    checkLogFile(path.join(dir, 'no-such-dir', 'v.log'), header, undefined, sdk);
  });
});
