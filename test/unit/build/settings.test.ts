// One BuildSettings object: picked whole from larger requests, and carried to the CLI as flags and back.
import * as assert from 'node:assert/strict';
import { buildSettingsFromFlags } from '../../../src/cli/buildCli';
import { buildSettingsOf, buildSettingsToFlags, type BuildSettings } from '../../../src/core/build/settings';
import { parseCommandArgs } from '../../../src/cli/args';
import { BUILD_OPTIONS } from '../../../src/cli/buildCli';

describe('build settings', () => {
  const full: BuildSettings = { bundledSdkDir: '/sdk', makeDirSetting: '/m', make: 'gmake', extraVariables: { EXTRA_CFLAGS: '-DX -DY', CLANG: 'clang-17' }, timeoutMs: 30_000 };

  it('buildSettingsOf takes every setting of a larger request and nothing else', () => {
    const request = { ...full, input: '/h.h', target: 'not a setting', hooks: ['ipv4-ingress'] };
    assert.deepEqual(buildSettingsOf(request), full);
    assert.deepEqual(buildSettingsOf({ bundledSdkDir: '/sdk' }), { bundledSdkDir: '/sdk' });
  });

  it('flags and back give the same settings (the editor runs its verify task through the CLI)', () => {
    const flags = buildSettingsToFlags(full);
    assert.deepEqual(flags, ['--make-dir', '/m', '--make', 'gmake', '--make-var', 'EXTRA_CFLAGS=-DX -DY', '--make-var', 'CLANG=clang-17', '--timeout', '30']);
    const { values } = parseCommandArgs(flags, { ...BUILD_OPTIONS });
    assert.deepEqual(buildSettingsFromFlags(values, '/sdk'), full);
    assert.deepEqual(buildSettingsToFlags({ bundledSdkDir: '/sdk', make: 'make' }), []);
  });

  it('a make variable value keeps its = and spaces; a bad one is bad usage', () => {
    assert.deepEqual(buildSettingsFromFlags({ 'make-var': ['A=b=c d'] }, '/sdk').extraVariables, { A: 'b=c d' });
    assert.throws(() => buildSettingsFromFlags({ 'make-var': ['1A=x'] }, '/sdk'), /--make-var must be NAME=VALUE/);
    assert.throws(() => buildSettingsFromFlags({ timeout: '0' }, '/sdk'), /--timeout must be/);
    assert.throws(() => buildSettingsFromFlags({ 'make-dir': ' ' }, '/sdk'), /--make-dir must not be empty/);
  });
});
