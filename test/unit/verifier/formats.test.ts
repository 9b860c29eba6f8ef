import * as assert from 'node:assert/strict';
import { parseVerifierLog } from '../../../src/core/verifier/parser';
import { resolveLogLocations } from '../../../src/core/verifier/sourceLines';

// Formats not in the generated corpus, written from FORMATS.md's descriptions of real output.
const lines = (...l: string[]) => l.join('\n') + '\n';
const STATS = 'processed 8 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0';

const SOURCE = lines(
  '#include <linux/bpf.h>',
  'int prog(struct __sk_buff *skb)',
  '{',
  '\t__u32 key = 0;',
  '\t__u64 *val = bpf_map_lookup_elem(&counts, &key);',
  '',
  '\t*val += 1;',
  '\treturn 0;',
  '}',
);

describe('verifier log formats', () => {
  it('old libbpf framing (BEGIN DUMP LOG ---) with plain "; source" and 5.x precision lines', () => {
    const log = parseVerifierLog(
      lines(
        'libbpf: load bpf program failed: Permission denied',
        'libbpf: -- BEGIN DUMP LOG ---',
        'libbpf: ',
        '; int prog(struct __sk_buff *skb)',
        '0: (b7) r1 = 0',
        '; __u32 key = 0;',
        '1: (63) *(u32 *)(r10 -4) = r1',
        'last_idx 1 first_idx 0',
        'regs=2 stack=0 before 0: (b7) r1 = 0',
        '2: (bf) r2 = r10',
        ';',
        '3: (07) r2 += -4',
        '; __u64 *val = bpf_map_lookup_elem(&counts, &key);',
        '4: (18) r1 = 0xffff888100000000',
        '6: (85) call bpf_map_lookup_elem#1',
        '; *val += 1;',
        '7: (79) r1 = *(u64 *)(r0 +0)',
        "R0 invalid mem access 'map_value_or_null'",
        STATS,
        '',
        'libbpf: -- END LOG --',
        "libbpf: failed to load program 'prog'",
        "libbpf: failed to load object 'x.o'",
      ),
    );
    assert.equal(log.loader, 'libbpf');
    assert.equal(log.verdict, 'rejected');
    assert.equal(log.error?.message, "R0 invalid mem access 'map_value_or_null'");
    assert.equal(log.error?.insn, 7);
    assert.equal(log.error?.sourceText, '*val += 1;');
    assert.equal(log.error?.line, null);
    assert.deepEqual(
      log.path.map((p) => p.text),
      ['int prog(struct __sk_buff *skb)', '__u32 key = 0;', '__u64 *val = bpf_map_lookup_elem(&counts, &key);', '*val += 1;'],
    );
    const resolved = resolveLogLocations(log, [{ name: 'prog.h', content: SOURCE }]);
    assert.equal(resolved.error?.file, 'prog.h');
    assert.equal(resolved.error?.line, 7);
    assert.deepEqual(
      resolved.path.map((p) => p.line),
      [2, 4, 5, 7],
    );
  });

  it('cilium/ebpf %v summary with "(N line(s) omitted)"', () => {
    const log = parseVerifierLog(
      'load program: permission denied: invalid access to packet, off=23 size=1, R1(id=0,off=23,r=14): R1 offset is outside of the packet (12 line(s) omitted)\n',
    );
    assert.equal(log.loader, 'cilium-ebpf');
    assert.equal(log.verdict, 'rejected');
    assert.equal(log.error?.message, 'invalid access to packet, off=23 size=1, R1(id=0,off=23,r=14)');
    assert.deepEqual(log.error?.context, ['R1 offset is outside of the packet']);
    assert.equal(log.error?.insn, null);
    assert.equal(log.truncated, false);
  });

  it('cilium/ebpf truncation marker, with the instruction line before the error', () => {
    const log = parseVerifierLog(
      'program pkt_oob: load program: permission denied: 11: (71) r0 = *(u8 *)(r1 +23): invalid access to packet, off=23 size=1, R1(id=0,off=23,r=14) (truncated, 3 line(s) omitted)\n',
    );
    assert.equal(log.error?.message, 'invalid access to packet, off=23 size=1, R1(id=0,off=23,r=14)');
    assert.equal(log.truncated, true);
  });

  it('cilium/ebpf %+v: header then TAB-indented log lines', () => {
    const log = parseVerifierLog(
      lines(
        'load program: permission denied:',
        '\t0: R1=ctx(off=0,imm=0) R10=fp0',
        '\t; skb->len = 0; @ prog.h:8',
        '\t0: (b7) r2 = 0',
        '\t1: (63) *(u32 *)(r1 +0) = r2',
        '\tinvalid bpf_context access off=0 size=4',
        '\tprocessed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0',
        '\t(truncated, 5 line(s) omitted)',
      ),
    );
    assert.equal(log.loader, 'cilium-ebpf');
    assert.equal(log.error?.message, 'invalid bpf_context access off=0 size=4');
    assert.equal(log.error?.insn, 1);
    assert.equal(log.error?.file, 'prog.h');
    assert.equal(log.error?.line, 8);
    assert.equal(log.truncated, true);
  });

  it('logrus records: the %v summary in error="..." and an escaped multi-line msg', () => {
    const summary = parseVerifierLog(
      `time="2024-03-05T12:34:56Z" level=error msg="Failed to load program" error="load program: permission denied: R0 invalid mem access 'map_value_or_null' (8 line(s) omitted)" subsys=datapath-loader\n`,
    );
    assert.equal(summary.loader, 'cilium-ebpf');
    assert.equal(summary.error?.message, "R0 invalid mem access 'map_value_or_null'");

    const multi = parseVerifierLog(
      'level=debug msg="Verifier log:\\n0: R1=ctx() R10=fp0\\n; *val += 1; @ foo.h:16\\n7: (79) r1 = *(u64 *)(r0 +0)\\nR0 invalid mem access \'map_value_or_null\'\\nprocessed 7 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0" subsys=loader\n',
    );
    assert.equal(multi.verdict, 'rejected');
    assert.equal(multi.error?.message, "R0 invalid mem access 'map_value_or_null'");
    assert.equal(multi.error?.insn, 7);
    assert.equal(multi.error?.file, 'foo.h');
    assert.equal(multi.error?.line, 16);
    assert.equal(multi.stats?.insnsProcessed, 7);
  });

  it('logrus TTY lines and Cilium\'s "Verifier error tail:" with an in-log omission', () => {
    const log = parseVerifierLog(
      lines(
        'ERRO[0045] Verifier error tail:',
        'ERRO[0045] \t(638 line(s) omitted)',
        'ERRO[0045] \t12: (0f) r3 += r2',
        'ERRO[0045] \tvalue -2147483648 makes pkt pointer be out of bounds',
        'ERRO[0045] \tprocessed 14 insns (limit 1000000) max_states_per_insn 0 total_states 1 peak_states 1 mark_read 0',
      ),
    );
    assert.equal(log.loader, 'cilium-ebpf');
    assert.equal(log.error?.message, 'value -2147483648 makes pkt pointer be out of bounds');
    assert.equal(log.error?.insn, 12);
    assert.equal(log.truncated, true);
  });

  it('bcc: log after "bpf: Failed to load program", then HINT and a traceback', () => {
    const log = parseVerifierLog(
      lines(
        'bpf: Failed to load program: Permission denied',
        '0: R1=ctx(id=0,off=0,imm=0) R10=fp0',
        '; int kprobe__do_nanosleep(struct pt_regs *ctx)',
        '0: (79) r1 = *(u64 *)(r1 +112)',
        '1: R1_w=inv(id=0) R10=fp0',
        '1: (79) r2 = *(u64 *)(r1 +16)',
        "R1 invalid mem access 'inv'",
        'processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0',
        '',
        "HINT: The invalid mem access 'inv' error can happen if you try to dereference memory without first using bpf_probe_read_kernel().",
        '',
        'Traceback (most recent call last):',
        '  File "/tmp/t.py", line 5, in <module>',
        '    b = BPF(text=prog)',
        "Exception: Failed to load BPF program b'kprobe__do_nanosleep': Permission denied",
      ),
    );
    assert.equal(log.loader, 'bcc');
    assert.equal(log.error?.message, "R1 invalid mem access 'inv'");
    assert.equal(log.error?.insn, 1);
    assert.equal(log.error?.registers?.R1, 'inv(id=0)');
  });

  it('bcc: libbcc\'s own "too large" message when there is no kernel log', () => {
    const log = parseVerifierLog('Program  too large (113 insns), at most 4096 insns\n');
    assert.equal(log.verdict, 'rejected');
    assert.equal(log.loader, 'bcc');
    assert.equal(log.error?.message, 'Program  too large (113 insns), at most 4096 insns');
  });

  it('aya: first log line on the error line, indented continuation, chain repeated', () => {
    const body = ['0: (b7) r0 = 0', '1: (0f) r0 += r2', 'R2 !read_ok', 'verification time 20 usec', 'stack depth 0', 'processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0'];
    const log = parseVerifierLog(
      lines(
        'Error: the BPF_PROG_LOAD syscall failed. Verifier output: 0: R1=ctx() R10=fp0',
        ...body.map((l) => `    ${l}`),
        '',
        'Caused by:',
        '    0: the BPF_PROG_LOAD syscall failed. Verifier output: 0: R1=ctx() R10=fp0',
        ...body.map((l) => `           ${l}`),
        '    1: Permission denied (os error 13)',
      ),
    );
    assert.equal(log.loader, 'aya');
    assert.equal(log.error?.message, 'R2 !read_ok');
    assert.equal(log.error?.insn, 1);
    assert.equal(log.stats?.verificationTimeUsec, 20);
  });

  it('iproute2 legacy loader with "Verifier analysis:" (4.x, no stats)', () => {
    const log = parseVerifierLog(
      lines(
        "Prog section 'classifier' rejected: Permission denied (13)!",
        ' - Type:         3',
        ' - Instructions: 4 (0 over limit)',
        ' - License:      GPL',
        '',
        'Verifier analysis:',
        '',
        '0: (bf) r6 = r1',
        '1: (61) r1 = *(u32 *)(r6 +76)',
        '2: (71) r0 = *(u8 *)(r1 +23)',
        'invalid access to packet, off=23 size=1, R1(id=0,off=23,r=0)',
        'R1 offset is outside of the packet',
        '',
        'Error fetching program/map!',
      ),
    );
    assert.equal(log.loader, 'iproute2');
    assert.equal(log.error?.message, 'invalid access to packet, off=23 size=1, R1(id=0,off=23,r=0)');
    assert.deepEqual(log.error?.context, ['R1 offset is outside of the packet']);
    assert.equal(log.error?.insn, 2);
    assert.equal(log.stats, null);
  });

  it('iproute2 "Log buffer too small": rejected, truncated, loader message', () => {
    const log = parseVerifierLog(
      lines(
        "Prog section 'classifier' rejected: Argument list too long (7)!",
        ' - Type:         3',
        ' - Instructions: 4100 (4 over limit)',
        ' - License:      GPL',
        '',
        'Log buffer too small to dump verifier log 16777215 bytes (10 tries)!',
        'Error fetching program/map!',
      ),
    );
    assert.equal(log.verdict, 'rejected');
    assert.equal(log.truncated, true);
    assert.equal(log.error?.message, "Prog section 'classifier' rejected: Argument list too long (7)!");
  });

  it('bpftrace: "Error log: " then the log (no line info), then ERROR', () => {
    const log = parseVerifierLog(
      lines(
        'Error log: ',
        '0: (bf) r6 = r1',
        '1: (79) r1 = *(u64 *)(r6 +0)',
        '2: (79) r2 = *(u64 *)(r1 +16)',
        "R1 invalid mem access 'inv'",
        'processed 3 insns (limit 131072), stack depth 0',
        '',
        'ERROR: Error loading program: kprobe:do_nanosleep',
      ),
    );
    assert.equal(log.loader, 'bpftrace');
    assert.equal(log.error?.insn, 2);
    assert.equal(log.error?.file, null);
    assert.equal(log.stats?.insnLimit, 131072);
    assert.equal(log.stats?.stackDepth, '0');
  });

  it('veristat: PROCESSING header, log, then the table', () => {
    const body = (verdict: string, tail: string[]) =>
      lines(
        "Processing 'x.bpf.o'...",
        `PROCESSING x.bpf.o/prog, DURATION US: 123, VERDICT: ${verdict}, VERIFIER LOG:`,
        'func#0 @0',
        '0: R1=ctx() R10=fp0',
        '; *val += 1; @ x.bpf.c:16',
        ...tail,
        '=============',
        'File       Program  Verdict  Duration (us)  Insns  States  Peak states',
        '---------  -------  -------  -------------  -----  ------  -----------',
        `x.bpf.o    prog     ${verdict}            123      7       0            0`,
        'Done. Processed 1 files, 0 programs. Skipped 1 files, 0 programs.',
      );
    const failed = parseVerifierLog(body('failure', ['7: (79) r1 = *(u64 *)(r0 +0)', "R0 invalid mem access 'map_value_or_null'", 'verification time 78 usec', 'stack depth 8', STATS]));
    assert.equal(failed.loader, 'veristat');
    assert.equal(failed.error?.line, 16);
    assert.equal(failed.error?.insn, 7);
    const ok = parseVerifierLog(body('success', ['7: (95) exit', 'verification time 78 usec', 'stack depth 8', STATS]));
    assert.equal(ok.verdict, 'accepted');
    assert.equal(ok.error, null);
  });

  it('journald prefixes and ">"-cut lines', () => {
    const j = (s: string) => `Mar 05 12:34:56 node1 cilium-agent[1234]: ${s}`;
    const log = parseVerifierLog(
      lines(
        j('0: R1=ctx(id=0,off=0,imm=0) R10=fp0'),
        j('; return ip->protocol;'),
        j('11: (71) r0 = *(u8 *)(r1 +23)'),
        j('12: R0_w=inv(id=0) R9=map_valu>'),
        j('12: (61) r3 = *(u32 *)(r9 +0)'),
        j("R9 invalid mem access 'map_value_or_null'"),
      ),
    );
    assert.equal(log.truncated, true);
    assert.equal(log.error?.message, "R9 invalid mem access 'map_value_or_null'");
    assert.equal(log.error?.insn, 12);
    assert.equal(log.error?.registers?.R9, 'map_valu');
  });

  it('4.x state lines: one-space indent, map_value_or_null(...) with min/max, no stats', () => {
    const log = parseVerifierLog(
      lines(
        '0: (bf) r6 = r1',
        '1: (b7) r1 = 0',
        '2: (63) *(u32 *)(r10 -4) = r1',
        '3: (bf) r2 = r10',
        '4: (07) r2 += -4',
        '5: (18) r1 = 0xffff8800b3b1d000',
        '7: (85) call 1',
        '8: (bf) r7 = r0',
        '9: (05) goto pc+0',
        ' R0=map_value_or_null(ks=4,vs=8),min_value=0,max_value=0 R6=ctx R7=map_value_or_null(ks=4,vs=8),min_value=0,max_value=0 R10=fp',
        '10: (79) r1 = *(u64 *)(r7 +0)',
        "R7 invalid mem access 'map_value_or_null'",
      ),
    );
    assert.equal(log.verdict, 'rejected');
    assert.equal(log.error?.insn, 10);
    assert.equal(log.error?.registers?.R7, 'map_value_or_null(ks=4,vs=8),min_value=0,max_value=0');
    assert.equal(log.stats, null);
    assert.equal(log.truncated, false);
  });

  it('5.x "inv" wording and liveness suffixes', () => {
    const log = parseVerifierLog(
      lines(
        '0: R1=ctx(id=0,off=0,imm=0) R10=fp0',
        '; int prog(struct __sk_buff *skb)',
        '0: (61) r1 = *(u32 *)(r1 +8)',
        '1: R1_w=inv(id=0,umax_value=4294967295,var_off=(0x0; 0xffffffff)) R10=fp0',
        '; return bpf_map_lookup_elem(fake, &key) != 0;',
        '1: (85) call bpf_map_lookup_elem#1',
        'R1 type=inv expected=map_ptr',
        'processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0',
      ),
    );
    assert.equal(log.error?.message, 'R1 type=inv expected=map_ptr');
    assert.equal(log.error?.insn, 1);
    assert.equal(log.error?.registers?.R1, 'inv(id=0,umax_value=4294967295,var_off=(0x0; 0xffffffff))');
  });

  it('precision backtracking lines between the failing insn and the error are not instructions', () => {
    const log = parseVerifierLog(
      lines(
        '3: (bf) r1 = r6',
        '4: (67) r1 <<= 3',
        '5: (0f) r0 += r1',
        'last_idx 5 first_idx 0',
        'regs=2 stack=0 before 4: (67) r1 <<= 3',
        'regs=2 stack=0 before 3: (bf) r1 = r6',
        "parent didn't have regs=2 stack=0 marks",
        'mark_precise: frame0: regs=r1 stack= before 3: (bf) r1 = r6',
        'math between map_value pointer and register with unbounded min value is not allowed',
        STATS,
      ),
    );
    assert.equal(log.error?.insn, 5);
    assert.equal(log.error?.message, 'math between map_value pointer and register with unbounded min value is not allowed');
  });

  it('4.14 glued state and instruction; known-direction jump with the target state', () => {
    const log = parseVerifierLog(
      lines(
        '0: (bf) r6 = r1',
        '1: R6=ctx fp-176=map_value 2: (bf) r1 = r6',
        '3: (15) if r1 == 0x0 goto pc+3 7: R1=ctx R6=ctx R10=fp',
        '7: (61) r0 = *(u32 *)(r1 +0)',
        "R1 invalid mem access 'ctx'",
      ),
    );
    assert.equal(log.error?.insn, 7);
    assert.equal(log.error?.registers?.R1, 'ctx');
  });

  it('a paste starting mid-line ("1256 to 2592: ...") is truncated', () => {
    const log = parseVerifierLog(lines('1256 to 2592: R0=inv(id=0) R10=fp0', '2592: (bf) r1 = r0', '2593: (79) r2 = *(u64 *)(r1 +0)', "R1 invalid mem access 'inv'"));
    assert.equal(log.truncated, true);
    assert.equal(log.error?.insn, 2593);
  });

  it('human "..." elisions mark the log truncated', () => {
    const log = parseVerifierLog(lines('0: (b7) r0 = 0', '...', '9: (95) exit', 'R0 !read_ok', STATS));
    assert.equal(log.truncated, true);
    assert.equal(log.error?.insn, 9);
  });

  it('libscap framing: BEGIN/END markers without the libbpf: prefix', () => {
    const log = parseVerifierLog(lines('-- BEGIN PROG LOAD LOG --', 'unreachable insn 6', STATS, '-- END PROG LOAD LOG --'));
    assert.equal(log.loader, 'libscap');
    assert.equal(log.error?.insn, 6);
  });

  it('pre-5.3 back-edge error takes the insn from the message', () => {
    const log = parseVerifierLog(lines('libbpf: prog \'p\': BPF program load failed: Invalid argument', "libbpf: prog 'p': -- BEGIN PROG LOAD LOG --", 'back-edge from insn 65 to 36', "libbpf: prog 'p': -- END PROG LOAD LOG --"));
    assert.equal(log.error?.message, 'back-edge from insn 65 to 36');
    assert.equal(log.error?.insn, 65);
    assert.equal(log.error?.line, null);
  });

  it('cilium/ebpf synthetic line info for CO-RE-poisoned instructions has no file', () => {
    const log = parseVerifierLog(lines('0: R1=ctx() R10=fp0', '; instruction poisoned by CO-RE @ :0', '0: (85) call unknown#195896080', 'invalid func unknown#195896080', STATS));
    assert.equal(log.error?.file, null);
    assert.equal(log.error?.line, null);
    assert.equal(log.error?.insn, 0);
  });
});
