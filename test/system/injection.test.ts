// Process-level proof that hostile strings run nothing: every entry of the shared hostile table (which embeds
// `$(touch M)`, `;touch M`, `` `touch M` ``, `|touch M` ...) goes (a) through make as the directory and file name of a
// header built with the bundled SDK, (b) through an SshTarget to a throwaway sshd as one printf argument, and (c) as
// the file name of an object verified over SSH. A marker file M must never appear anywhere a shell could have run.
// (verifySsh.test.ts covers one combined hostile path for verify; this runs the whole table.)
import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildHeader } from '../../src/core/build/build';
import { SshTarget } from '../../src/core/target';
import { verifyHeaderOrObject } from '../../src/core/verify/verifyHeader';
import { VerifyProblem } from '../../src/core/verify/verifyErrors';
import { hostileInputs, injectionPayloads, type HostileInput } from '../unit/security/hostileInputs';
import { SDK_DIR, tempDir } from './helpers/fixtures';
import { verifyPinDirs } from './helpers/pins';
import { hasCommand, isRoot, requireBpf, requireOrSkip, requireToolchain } from './helpers/require';
import { sshdAvailable, sshTargetConfig, startSshd, type Sshd } from './helpers/sshd';

const MARKER = `ccp-pwned-${crypto.randomBytes(4).toString('hex')}`;
const EXAMPLE = path.join(SDK_DIR, 'examples', 'bytecount.h');
/** Every entry of the table, plus the four bare payloads. */
const TABLE: HostileInput[] = [
  ...hostileInputs(MARKER),
  ...injectionPayloads(MARKER).map((value, i) => ({ label: `payload ${i}`, value })),
];
/** Usable as one file name: no NUL, no '/', not empty / '.' / '..', at most 255 bytes with an extension. */
const fileNameOk = (h: HostileInput) => !h.nul && !h.slash && h.value !== '' && h.value !== '..' && h.value !== '.' && Buffer.byteLength(h.value) < 250;
const short = (h: HostileInput) => `${h.label} ${JSON.stringify(h.value.slice(0, 30))}`;

describe('hostile strings run nothing: make, ssh, verify over ssh (system)', function () {
  this.timeout(120_000);
  let tmp: ReturnType<typeof tempDir>;
  const places = () => [tmp.dir, os.tmpdir(), os.homedir(), '/root', '/', process.cwd(), SDK_DIR, path.join(SDK_DIR, 'examples')];

  function assertNoMarker(where: string): void {
    for (const place of places()) assert.ok(!fs.existsSync(path.join(place, MARKER)), `${where}: a command hidden in a string ran in ${place}`);
    // Hostile directories of this test: the marker could also be created inside them (make's or a shell's cwd).
    for (const entry of fs.readdirSync(tmp.dir, { withFileTypes: true })) {
      if (entry.isDirectory()) assert.ok(!fs.existsSync(path.join(tmp.dir, entry.name, MARKER)), `${where}: ran in ${entry.name}`);
    }
  }

  beforeEach(() => {
    tmp = tempDir('ccp-injection-');
  });
  afterEach(() => {
    for (const place of places()) fs.rmSync(path.join(place, MARKER), { force: true });
    tmp.remove();
  });

  describe('(a) make: header directory and file named with the hostile string', () => {
    before(function () {
      requireToolchain(this);
    });
    for (const h of TABLE) {
      if (!fileNameOk(h)) continue;
      it(short(h), async () => {
        const dir = path.join(tmp.dir, h.value);
        fs.mkdirSync(dir);
        const header = path.join(dir, `${h.value}.h`);
        fs.copyFileSync(EXAMPLE, header);
        const result = await buildHeader({ headerPath: header, bundledSdkDir: SDK_DIR });
        if (h.newline) {
          assert.equal(result.ok, false, 'a newline in a make variable must be refused');
          assert.match(result.failure ?? result.output, /newline/, `a clear reason: ${result.failure}`);
        } else {
          assert.ok(result.ok, `${result.failure}\n${result.output.slice(-2000)}`);
          assert.ok(fs.existsSync(result.objectPath), result.objectPath);
          assert.equal(result.objectPath, path.join(dir, `${h.value}.o`));
        }
        assertNoMarker('make');
      });
    }
  });

  describe('(b) and (c): through an SshTarget to a throwaway sshd', () => {
    let sshd: Sshd | undefined;
    let target: SshTarget | undefined;
    let object: string;
    let objectsDir: ReturnType<typeof tempDir>;

    before(async function () {
      requireOrSkip(this, isRoot(), 'the SSH injection tests start sshd, which needs root');
      requireOrSkip(this, sshdAvailable(), 'sshd is not installed (apt-get install openssh-server)');
      requireOrSkip(this, hasCommand('ssh'), 'the ssh client is not installed (apt-get install openssh-client)');
      sshd = await startSshd();
      target = new SshTarget(sshTargetConfig(sshd, { name: 'injection-node' }));
    });

    after(async () => {
      await target?.dispose();
      await sshd?.stop();
      objectsDir?.remove();
    });

    for (const h of TABLE) {
      it(`(b) printf over ssh, byte for byte: ${short(h)}`, async () => {
        const result = await target!.run(['printf', '%s\\0', h.value, 'end']);
        if (h.nul) {
          assert.equal(result.spawnError?.code, 'EINVAL');
          assert.match(result.spawnError?.message ?? '', /NUL byte/);
        } else {
          assert.equal(result.exitCode, 0, result.stderr);
          assert.deepEqual(Buffer.from(result.stdout), Buffer.from(`${h.value}\0end\0`));
        }
        assertNoMarker('ssh');
      });
    }

    describe('(c) verify over ssh of an object whose file name is hostile', () => {
      before(async function () {
        requireBpf(this);
        objectsDir = tempDir('ccp-injection-objects-');
        const header = path.join(objectsDir.dir, 'bytecount.h');
        fs.copyFileSync(EXAMPLE, header);
        const build = await buildHeader({ headerPath: header, bundledSdkDir: SDK_DIR });
        assert.ok(build.ok, build.output);
        object = build.objectPath;
      });

      for (const h of TABLE) {
        if (!fileNameOk(h)) continue;
        it(short(h), async () => {
          const hostileObject = path.join(objectsDir.dir, `${h.value}.o`);
          fs.copyFileSync(object, hostileObject);
          try {
            const result = await verifyHeaderOrObject({ input: hostileObject, target: target!, bundledSdkDir: SDK_DIR });
            assert.equal(result.log.verdict, 'accepted', JSON.stringify(result.log.error));
            assert.deepEqual(result.leftovers, []);
          } catch (error) {
            // Refusing is fine, with a clear message; running anything is not.
            if (!(error instanceof VerifyProblem)) throw error;
            assert.ok(error.message.length > 10, error.full);
            console.log(`      refused: ${error.message}`);
          } finally {
            fs.rmSync(hostileObject, { force: true });
          }
          assertNoMarker('verify over ssh');
          // Other test runs may share this bpffs: only this process's pin directories (named with its pid) count.
          assert.deepEqual(verifyPinDirs().filter((d) => path.basename(d).startsWith(`cilium-custom-verify-${process.pid}-`)), [], 'no temporary pin directory left');
          const uploads = fs.readdirSync('/tmp').filter((name) => name.startsWith(`cilium-custom-verify-${process.pid}-`));
          assert.deepEqual(uploads, [], 'no upload directory left in /tmp');
        });
      }
    });
  });
});
