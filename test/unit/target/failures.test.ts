import * as assert from 'node:assert/strict';
import type { RunResult } from '../../../src/core/process';
import { describeSshFailure, describeSudoFailure } from '../../../src/core/target/failures';
import { MarkerFilter, SshTarget, stripMarker } from '../../../src/core/target/sshTarget';

const SSH_ARGV = ['ssh', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=7', '-p', '2222', '-T', '--', 'root@node1', 'true'];

function sshResult(exitCode: number | null, stderr: string, extra: Partial<RunResult> = {}): RunResult {
  return { argv: SSH_ARGV, exitCode, signal: null, stdout: '', stderr, durationMs: 5, cancelled: false, timedOut: false, ...extra };
}

describe('describeSshFailure', () => {
  const table: Array<[string, RegExp]> = [
    ['root@node1: Permission denied (publickey,password).', /SSH authentication failed for root@node1 \(BatchMode: no password prompts; set up a key or agent\)/],
    ['ssh: connect to host node1 port 2222: Connection refused', /refused.*root@node1 port 2222|root@node1 port 2222 refused/],
    ['ssh: Could not resolve hostname node1: Name or service not known', /could not resolve the host name/],
    ['ssh: connect to host node1 port 2222: Connection timed out', /timed out after 7 s \(ConnectTimeout\): the host is unreachable/],
    ['ssh: connect to host node1 port 2222: Operation timed out', /timed out after 7 s/],
    ['Connection timed out during banner exchange\nConnection to UNKNOWN port 65535 timed out', /timed out after 7 s.*no SSH server answered/],
    ['Host key verification failed.', /host key verification failed.*known_hosts/],
    ['ssh: connect to host node1 port 2222: No route to host', /cannot reach root@node1 port 2222/],
    ['kex_exchange_identification: Connection closed by remote host', /closed before login completed/],
    ['something new and strange', /SSH to root@node1 port 2222 failed \(exit 255\): something new and strange/],
  ];
  for (const [stderr, message] of table) {
    it(`explains ${JSON.stringify(stderr.split('\n')[0])}`, () => assert.match(describeSshFailure(sshResult(255, stderr)) ?? '', message));
  }

  it('explains sudo wanting a password, and sudo missing', () => {
    assert.match(describeSshFailure(sshResult(1, 'sudo: a password is required\n')) ?? '', /NOPASSWD.*or log in as root/);
    assert.match(describeSshFailure(sshResult(127, 'bash: line 1: exec: sudo: not found\n')) ?? '', /sudo is not installed on root@node1/);
    assert.match(describeSudoFailure({ ...sshResult(null, ''), argv: ['sudo', '-n', 'true'], spawnError: { code: 'ENOENT', message: '' } }, 'here') ?? '', /sudo is not installed here/);
  });

  it('says nothing when the remote command ran and failed by itself', () => {
    assert.equal(describeSshFailure(sshResult(1, 'Error: no such map\n')), undefined);
    assert.equal(describeSshFailure({ ...sshResult(255, 'tool failed\n'), remotePid: 42 } as RunResult), undefined);
    assert.equal(describeSshFailure(sshResult(0, '')), undefined);
  });

  it('notices a connection lost mid-command', () => {
    const lost = { ...sshResult(255, 'Connection to 127.0.0.1 closed by remote host.\n'), remotePid: 42 } as RunResult;
    assert.match(describeSshFailure(lost) ?? '', /lost while the command ran/);
    const silent = { ...sshResult(255, ''), remotePid: 42, connectionLost: true } as RunResult;
    assert.match(describeSshFailure(silent) ?? '', /^SSH connection to root@node1 port 2222 was lost while the command ran$/);
  });

  it('reports a missing ssh client', () => {
    assert.match(describeSshFailure(sshResult(null, '', { spawnError: { code: 'ENOENT', message: 'x' } })) ?? '', /not installed/);
  });
});

describe('remote PID marker', () => {
  const marker = '__m_0123:';

  it('is stripped from a whole stderr text, and its PID kept', () => {
    assert.deepEqual(stripMarker(`${marker}4242\nerror: x\n`, marker), { text: 'error: x\n', pid: 4242 });
    assert.deepEqual(stripMarker(`Warning: added key\n${marker}7\nrest`, marker), { text: 'Warning: added key\nrest', pid: 7 });
    assert.deepEqual(stripMarker('ssh: connect to host x: Connection refused\n', marker), { text: 'ssh: connect to host x: Connection refused\n' });
    assert.deepEqual(stripMarker(`${marker}12x\n`, marker), { text: `${marker}12x\n` });
  });

  it('is stripped from a stream split at any point', () => {
    const text = `${marker}99\nline one\nline two`;
    for (let cut = 0; cut <= text.length; cut++) {
      let out = '';
      const filter = new MarkerFilter(marker, (chunk) => (out += chunk));
      filter.push(text.slice(0, cut));
      filter.push(text.slice(cut));
      filter.end();
      assert.equal(out, 'line one\nline two', `cut at ${cut}`);
      assert.equal(filter.pid, 99);
    }
  });
});

describe('SshTarget command line', () => {
  it('builds one remote string from the argv, with sudo only when privileged and enabled', () => {
    const plain = new SshTarget({ name: 'n', destination: 'root@node1' });
    const withSudo = new SshTarget({ name: 'n', destination: 'root@node1', sudo: true });
    assert.match(plain.remoteCommand(['bpftool', 'prog', 'show'], true), /; exec 'bpftool' prog show$/);
    assert.match(withSudo.remoteCommand(['bpftool', 'prog', 'show'], false), /; exec 'bpftool' prog show$/);
    assert.match(withSudo.remoteCommand(['bpftool', 'prog', 'show'], true), /; exec 'sudo' -n -- bpftool prog show$/);
  });

  it('refuses NUL bytes and over-long commands without starting ssh', async () => {
    const target = new SshTarget({ name: 'n', destination: 'root@node1', sshPath: '/nonexistent/ssh' });
    const nul = await target.run(['echo', 'a\0b']);
    assert.equal(nul.spawnError?.code, 'EINVAL');
    assert.match(target.describeFailure(nul), /NUL byte/);
    const long = await target.run(['echo', 'x'.repeat(200_000)]);
    assert.match(target.describeFailure(long), /more than the 131071/);
    await target.dispose();
  });
});
