import * as assert from 'node:assert/strict';
import { HINT_IDS, classifyError, hintFor } from '../../../src/core/verifier/hints';
import { toExplainJson } from '../../../src/core/verifier/explainJson';
import { parseVerifierLog } from '../../../src/core/verifier/parser';
import { loadCorpus } from './corpus';

// Each error class, with the wording of several kernel generations.
const CASES: [string, string][] = [
  ["R0 invalid mem access 'map_value_or_null'", 'null-map-value'],
  ["R1 invalid mem access 'sock_or_null'", 'null-map-value'],
  ["R0 invalid mem access 'ptr_or_null_'", 'null-map-value'],
  ['invalid access to packet, off=23 size=1, R1(id=0,off=23,r=14)', 'packet-out-of-bounds'],
  ['invalid access to map value, value_size=8 off=8 size=8', 'map-value-out-of-bounds'],
  ['back-edge from insn 65 to 36', 'unbounded-loop'],
  ['infinite loop detected at insn 3', 'unbounded-loop'],
  ['BPF program is too large. Processed 1000001 insn', 'too-complex'],
  ['The sequence of 8193 jumps is too complex.', 'too-complex'],
  ['Program  too large (113 insns), at most 4096 insns', 'too-complex'],
  ['combined stack size of 3 calls is 624. Too large', 'stack-too-large'],
  ['invalid stack off=-520 size=8', 'stack-too-large'],
  ['Unreleased reference id=2 alloc_insn=15', 'unreleased-reference'],
  ['program of this type cannot use helper bpf_override_return#58', 'helper-not-allowed'],
  ['invalid func unknown#158', 'helper-not-allowed'],
  ['unknown func bpf_override_return#58', 'helper-not-allowed'],
  ['invalid bpf_context access off=0 size=4', 'invalid-context-access'],
  ['R2 !read_ok', 'uninitialized-read'],
  ['invalid read from stack R3 off -24+8 size 16', 'uninitialized-read'],
  ['invalid indirect read from stack off -144+0 size 128', 'uninitialized-read'],
  ['invalid indirect read from stack R4 off -64+0 size 64', 'uninitialized-read'],
  ['expected prog array map for tail call', 'tail-call'],
  ['R1 type=scalar expected=map_ptr', 'helper-argument-type'],
  ['R1 type=inv expected=map_ptr', 'helper-argument-type'],
  ['math between map_value pointer and register with unbounded min value is not allowed', 'unbounded-pointer-math'],
  ['value -2147483648 makes pkt pointer be out of bounds', 'unbounded-pointer-math'],
  ['failed to resolve CO-RE relocation <byte_off> [7] struct task_struct___old.f (0:1 @ offset 8)', 'co-re-relocation'],
  ['invalid func unknown#195896080', 'co-re-relocation'],
  ["libbpf: extern (func ksym) 'bpf_frobnicate_skb': not found in kernel or module BTFs", 'extern-not-found'],
  ['At program exit the register R0 has smin=0 smax=1500 should have been in [0, 3]', 'return-value-range'],
  ['At program exit the register R0 has value (0x5dc; 0x0) should have been in (0x0; 0x1)', 'return-value-range'],
  ['unreachable insn 2', 'unreachable-insn'],
  ["R1 invalid mem access 'scalar'", 'scalar-dereference'],
  ["R1 invalid mem access 'inv'", 'scalar-dereference'],
];

describe('verifier error hints', () => {
  for (const [message, id] of CASES) {
    it(`${id}: ${message}`, () => {
      const hint = classifyError(message);
      assert.equal(hint?.id, id);
      assert.ok(hint.summary.length > 20 && hint.fix.length > 20);
    });
  }

  it('every class has at least one case above', () => {
    const covered = new Set(CASES.map(([, id]) => id));
    for (const id of HINT_IDS) assert.ok(covered.has(id), `no test case for ${id}`);
  });

  it('falls back to the context lines, then to a generic hint', () => {
    assert.equal(hintFor('something new', ['R0 min value is outside of the allowed memory range']).id, 'map-value-out-of-bounds');
    assert.equal(hintFor('a message no kernel printed yet').id, 'generic');
  });

  it('every rejected corpus log gets a specific hint', () => {
    for (const c of loadCorpus()) {
      const log = parseVerifierLog(c.text);
      if (log.error) assert.notEqual(hintFor(log.error.message, log.error.context).id, 'generic', c.name);
    }
  });
});

describe('explain JSON', () => {
  it('has exactly the contract keys, for a rejected log', () => {
    const c = loadCorpus().find((x) => x.name.startsWith('16-'));
    assert.ok(c);
    const json = toExplainJson(parseVerifierLog(c.text));
    assert.deepEqual(Object.keys(json), ['verdict', 'error', 'stats', 'truncated']);
    assert.ok(json.error && json.stats);
    assert.deepEqual(Object.keys(json.error), ['message', 'insn', 'file', 'line', 'hint']);
    assert.deepEqual(Object.keys(json.stats), ['insnsProcessed', 'insnLimit', 'totalStates', 'peakStates', 'stackDepth']);
    assert.deepEqual(json, {
      verdict: 'rejected',
      error: {
        message: "R0 invalid mem access 'map_value_or_null'",
        insn: 14,
        file: '16-subprog-null-deref-frame1-verbose-k6.18.44.c',
        line: 16,
        hint: json.error.hint,
      },
      stats: { insnsProcessed: 23, insnLimit: 1000000, totalStates: 2, peakStates: 2, stackDepth: 8 },
      truncated: false,
    });
    const h = hintFor(json.error.message);
    assert.equal(json.error.hint, `${h.summary} ${h.fix}`);
  });

  it('accepted and unknown logs', () => {
    assert.deepEqual(toExplainJson(parseVerifierLog('garbage\n')), { verdict: 'unknown', error: null, stats: null, truncated: false });
    const ok = toExplainJson(parseVerifierLog('verification time 42 usec\nstack depth 8\nprocessed 27 insns (limit 1000000) max_states_per_insn 0 total_states 2 peak_states 2 mark_read 0\n'));
    assert.deepEqual(ok, { verdict: 'accepted', error: null, stats: { insnsProcessed: 27, insnLimit: 1000000, totalStates: 2, peakStates: 2, stackDepth: 8 }, truncated: false });
  });
});
