// What a call that must fail failed with: the tests assert on the problem the user would see.
import * as assert from 'node:assert/strict';

/** The rejection of `pending`; fails the test when it resolves. */
export async function caught(pending: Promise<unknown>): Promise<unknown> {
  try {
    await pending;
  } catch (error) {
    return error;
  }
  return assert.fail('expected a failure, the call succeeded');
}

/** The rejection of `pending` when it is a `kind`; anything else is rethrown as it came, with its own stack. */
export async function rejectionOf<T extends Error>(pending: Promise<unknown>, kind: abstract new (...args: never[]) => T): Promise<T> {
  const error = await caught(pending);
  if (error instanceof kind) return error;
  throw error;
}
