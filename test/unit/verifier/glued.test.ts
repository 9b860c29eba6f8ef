import * as assert from 'node:assert/strict';
import { parseVerifierLog } from '../../../src/core/verifier/parser';

// bpftool -d on kernel 6.18, tail call through a hash map: the message lacks its newline, so the level-4
// statistics line follows on the same line.
const LOG = `0: R1=ctx() R10=fp0
; tail_call(ctx, &tail_call_bad_map_progs, 0); @ tail_call_bad_map.h:22
0: (18) r2 = 0xffff888100a3e000       ; R2=map_ptr(map=tail_call_bad_m,ks=4,vs=4)
2: (b4) w3 = 0                        ; R3=0
3: (85) call bpf_tail_call#12
expected prog array map for tail callverification time 58 usec
stack depth 0
processed 4 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0
`;

describe('glued kernel lines', () => {
  it('splits a message glued to the verification-time line', () => {
    const log = parseVerifierLog(LOG);
    assert.equal(log.verdict, 'rejected');
    assert.equal(log.error?.message, 'expected prog array map for tail call');
    assert.equal(log.error?.insn, 3);
    assert.equal(log.error?.line, 22);
    assert.equal(log.stats?.verificationTimeUsec, 58);
  });
});
