// escapeControls: what reaches a terminal from a log cannot steer it.
import * as assert from 'node:assert/strict';
import { escapeControls } from '../../../src/cli/output';

describe('escapeControls', () => {
  it('keeps ordinary text, newlines, tabs, backslashes and non-ASCII letters', () => {
    const text = 'R1=ctx() R10=fp0\n\tinvalid mem access \'scalar\' \\ über 日本 😀';
    assert.equal(escapeControls(text), text);
  });

  it('escapes C0 controls as \\xHH, DEL and C1 controls as \\uHHHH', () => {
    assert.equal(escapeControls('\x1b[2J'), '\\x1b[2J');
    assert.equal(escapeControls('a\rb'), 'a\\x0db');
    assert.equal(escapeControls('\x00\x07\x08\x0b\x0c\x7f'), '\\x00\\x07\\x08\\x0b\\x0c\\u007f');
    assert.equal(escapeControls('\u009b31m'), '\\u009b31m');
    assert.equal(escapeControls('\x1b]0;title\x07'), '\\x1b]0;title\\x07');
  });

  it('escapes bidirectional overrides (Trojan Source) as \\uHHHH', () => {
    assert.equal(escapeControls('a\u202eb\u2066c\u200fd\u061c'), 'a\\u202eb\\u2066c\\u200fd\\u061c');
  });

  it('leaves JSON meaning the same: what JSON.stringify leaves raw becomes a valid JSON escape', () => {
    const value = { message: 'a\x1b[2J\x7f\u009b\u202e\u2066\t\n\\x1b b' };
    const printed = escapeControls(JSON.stringify(value, null, 2));
    assert.ok(!/[\x7f-\x9f\u202e\u2066]/.test(printed), printed);
    assert.deepEqual(JSON.parse(printed), value);
  });

  it('leaves no control character but \\n and \\t, and is idempotent', () => {
    let all = '';
    for (let c = 0; c < 0x300; c++) all += String.fromCharCode(c);
    all += '\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f';
    const once = escapeControls(all);
    assert.ok(!/[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/.test(once));
    assert.equal(escapeControls(once), once);
  });
});
