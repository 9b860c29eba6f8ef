// Which effective capabilities count as enough for the commands that touch BPF on this machine.
import * as assert from 'node:assert/strict';
import { capabilitiesSuffice, checkLocalPrivilege, hasBpfPrivilege, PrivilegeError } from '../../../src/cli/privilege';
import { targetFromFlags, targetUsesSudo } from '../../../src/cli/targetArgs';

const caps = (...bits: number[]) => bits.reduce((sum, bit) => sum | (1n << BigInt(bit)), 0n).toString(16).padStart(16, '0');

describe('capabilitiesSuffice', () => {
  it('needs CAP_NET_ADMIN and CAP_BPF, or CAP_SYS_ADMIN in place of CAP_BPF', () => {
    assert.equal(capabilitiesSuffice('000001ffffffffff'), true, 'root');
    assert.equal(capabilitiesSuffice(caps(12, 39)), true);
    assert.equal(capabilitiesSuffice(caps(12, 21)), true);
    assert.equal(capabilitiesSuffice(caps(39)), false, 'no CAP_NET_ADMIN');
    assert.equal(capabilitiesSuffice(caps(12)), false, 'neither CAP_BPF nor CAP_SYS_ADMIN');
    assert.equal(capabilitiesSuffice(caps(12, 38, 40)), false, 'neighbours of CAP_BPF');
    assert.equal(capabilitiesSuffice('0000000000000000'), false, 'an unprivileged user');
  });

  it('refuses what is not a CapEff value', () => {
    for (const bad of ['', 'xyz', '-1', '0x1fffffffff', '1'.repeat(17)]) assert.equal(capabilitiesSuffice(bad), false, bad);
  });
});

describe('checkLocalPrivilege', () => {
  it('lets remote targets pass without looking', () => {
    checkLocalPrivilege('verify', { isRemote: true });
  });

  it('lets a local target with --sudo pass (bpftool escalates through sudo -n), and only that one', () => {
    const withSudo = targetFromFlags({ sudo: true });
    assert.equal(targetUsesSudo(withSudo), true);
    checkLocalPrivilege('verify', withSudo);
    assert.equal(targetUsesSudo(targetFromFlags({})), false);
  });

  it('agrees with hasBpfPrivilege locally, with one line naming the command', () => {
    if (hasBpfPrivilege()) {
      checkLocalPrivilege('verify', { isRemote: false });
      return;
    }
    assert.throws(
      () => checkLocalPrivilege('verify', { isRemote: false }),
      (error: unknown) => error instanceof PrivilegeError && error.message === 'cilium-custom verify needs root (or CAP_BPF and CAP_NET_ADMIN)',
    );
  });
});
