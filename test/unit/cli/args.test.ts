// The one validator of numeric options, and the refusal of empty string options.
import * as assert from 'node:assert/strict';
import { ENDPOINT_ID_RANGE, nonEmptyOption, numberOption, parseCommandArgs, TIMEOUT_SECONDS_RANGE, UsageError } from '../../../src/cli/args';
import { targetFromFlags } from '../../../src/cli/targetArgs';

const usage = (option: string) => (error: unknown) => error instanceof UsageError && error.message.startsWith(`--${option} must be`) && !error.message.includes('\n');

describe('numberOption', () => {
  it('gives undefined for an option not given', () => {
    assert.equal(numberOption('limit', undefined, { min: 1, max: 10 }), undefined);
  });

  it('accepts plain decimal integers within the range, leading zeros included', () => {
    assert.equal(numberOption('limit', '1', { min: 1, max: 10 }), 1);
    assert.equal(numberOption('limit', '10', { min: 1, max: 10 }), 10);
    assert.equal(numberOption('limit', '007', { min: 1, max: 10 }), 7);
    assert.equal(numberOption('endpoint', '65535', ENDPOINT_ID_RANGE), 65535);
  });

  for (const bad of ['abc', '', ' ', '0', '-1', '+1', '1.5', '1e3', ' 5', '5 ', '0x10', 'Infinity', 'NaN', '11', '99999999999999999999999']) {
    it(`refuses ${JSON.stringify(bad)} with one line naming the option and the range`, () => {
      assert.throws(() => numberOption('limit', bad, { min: 1, max: 10 }), usage('limit'));
      assert.throws(() => numberOption('limit', bad, { min: 1, max: 10 }), /from 1 to 10, not /);
    });
  }

  it('caps --timeout where Node timers stop working (no TimeoutOverflowWarning)', () => {
    assert.equal(numberOption('timeout', '2147483', TIMEOUT_SECONDS_RANGE), 2147483);
    assert.throws(() => numberOption('timeout', '2147484', TIMEOUT_SECONDS_RANGE), /--timeout must be an integer from 1 to 2147483 seconds/);
    assert.throws(() => numberOption('timeout', '0', TIMEOUT_SECONDS_RANGE), usage('timeout'));
  });

  it('takes hex only where asked', () => {
    assert.equal(numberOption('identity', '0x3039', { min: 0, max: 0xffffff, hex: true }), 12345);
    assert.equal(numberOption('identity', '0X3039', { min: 0, max: 0xffffff, hex: true }), 12345);
    assert.throws(() => numberOption('identity', '0x1000000', { min: 0, max: 0xffffff, hex: true }), usage('identity'));
    assert.throws(() => numberOption('identity', '0x', { min: 0, max: 0xffffff, hex: true }), usage('identity'));
  });

  it('reads byte suffixes as binary multiples where asked', () => {
    const range = { min: 1, max: Number.MAX_SAFE_INTEGER, bytes: true };
    assert.equal(numberOption('max-bytes', '64', range), 64);
    assert.equal(numberOption('max-bytes', '64B', range), 64);
    assert.equal(numberOption('max-bytes', '64K', range), 64 * 1024);
    assert.equal(numberOption('max-bytes', '64k', range), 64 * 1024);
    assert.equal(numberOption('max-bytes', '64M', range), 64 * 2 ** 20);
    assert.equal(numberOption('max-bytes', '64MiB', range), 64 * 2 ** 20);
    assert.equal(numberOption('max-bytes', '4G', range), 4 * 2 ** 30);
    assert.equal(numberOption('max-bytes', '4GB', range), 4 * 2 ** 30);
    assert.equal(numberOption('max-bytes', '2T', range), 2 * 2 ** 40);
    for (const bad of ['64X', '64iB', 'M', '1.5G', '-1K', '0', '0K', '99999999T']) assert.throws(() => numberOption('max-bytes', bad, range), usage('max-bytes'), bad);
    assert.throws(() => numberOption('limit', '64K', { min: 1, max: 1e9 }), usage('limit'), 'suffixes only for byte counts');
  });

  it('quotes a long or hostile value shortened and escaped', () => {
    assert.throws(() => numberOption('limit', `\x1b[2J${'9'.repeat(100)}`, { min: 1, max: 10 }), (error: Error) => {
      assert.ok(!error.message.includes('\x1b'), error.message);
      assert.ok(error.message.length < 120, error.message);
      return true;
    });
  });
});

describe('nonEmptyOption and parseCommandArgs', () => {
  it('refuses empty and blank strings, passes anything else through', () => {
    assert.equal(nonEmptyOption('ssh', undefined), undefined);
    assert.equal(nonEmptyOption('ssh', 'root@node'), 'root@node');
    for (const bad of ['', ' ', '\t\n']) assert.throws(() => nonEmptyOption('ssh', bad), /^UsageError: --ssh must not be empty$|--ssh must not be empty/);
  });

  it("makes node's multi-line parse errors one line", () => {
    assert.throws(
      () => parseCommandArgs(['--limit', '-1'], { limit: { type: 'string' } }),
      (error: unknown) => error instanceof UsageError && !error.message.includes('\n') && /--limit/.test(error.message),
    );
  });
});

describe('targetFromFlags', () => {
  it('refuses empty target flags and bad destinations as usage errors', () => {
    for (const flags of [{ ssh: '' }, { ssh: '  ' }, { target: '' }, { bpftool: '' }, { bpffs: ' ' }, { identity: '' }, { 'ssh-option': ['A=b', ''] }]) {
      assert.throws(() => targetFromFlags(flags), (e: unknown) => e instanceof UsageError && /must not be empty$/.test(e.message), JSON.stringify(flags));
    }
    assert.throws(() => targetFromFlags({ ssh: '-oProxyCommand=x' }), UsageError);
    assert.throws(() => targetFromFlags({ ssh: 'a', target: 'b' }), /either --target or --ssh/);
  });
});
