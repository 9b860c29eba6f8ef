// Plain-language explanations for the common verifier errors, matched on the message (then its context
// lines). The patterns cover wording that drifted across kernels: `inv` became `scalar`, `unknown func`
// became `program of this type cannot use helper`, `invalid indirect read` became `invalid read`.

export interface Hint {
  /** Stable id of the error class, e.g. 'null-map-value'; 'generic' for the fallback. */
  id: string;
  summary: string;
  fix: string;
}

interface HintRule extends Hint {
  pattern: RegExp;
}

// Order matters: the first match wins, so specific classes come before broad ones.
const RULES: HintRule[] = [
  {
    id: 'co-re-relocation',
    pattern: /CO-RE relocation|unknown#195896080|relo #\d+: no matching targets/,
    summary: 'A CO-RE relocation (a struct field or type the program reads) matched nothing in the running kernel\'s BTF, so libbpf poisoned that instruction.',
    fix: 'Check that the field or type exists on this kernel (bpftool btf dump file /sys/kernel/btf/vmlinux), guard optional fields with bpf_core_field_exists(), and check the ___flavor struct names.',
  },
  {
    id: 'extern-not-found',
    pattern: /extern .*not found|failed to find BTF for extern|unresolved extern|ksym .*not found|kfunc .*not found|calling kernel function .* is not allowed/,
    summary: 'The program uses an extern (a kfunc or ksym) that this kernel and its modules do not provide, or do not allow for this program type.',
    fix: 'Check the name and the kernel version (kfuncs are listed in /sys/kernel/btf/vmlinux); declare optional ones __weak and test bpf_ksym_exists() before calling them, or load the module that provides them.',
  },
  {
    id: 'null-map-value',
    pattern: /_or_null/,
    summary: 'A pointer that may be NULL (the result of bpf_map_lookup_elem or another *_or_null helper) is used before the program checked it.',
    fix: 'Check the pointer right after the lookup (`if (!val) return ...;`) and use it only on the checked path; inside a subprogram, check it there too.',
  },
  {
    id: 'unbounded-pointer-math',
    pattern: /with unbounded (?:min|max) value|unbounded min value|min value is negative|makes \w+ pointer be out of bounds|pointer arithmetic .* prohibited|unbounded variable-offset/,
    summary: 'An offset without a proven lower and upper bound is added to a pointer (a map value or the packet), so the result could point anywhere.',
    fix: 'Bound the index before the arithmetic with an unsigned type and an explicit check (`__u32 i = idx; if (i >= N) return ...;` or `i &= N - 1`); sign-extended ints keep a negative minimum.',
  },
  {
    id: 'packet-out-of-bounds',
    pattern: /invalid access to packet|offset is outside of the packet|invalid (?:read|write) from pkt|pkt_end/,
    summary: 'A packet access may reach beyond data_end: the verifier did not see a bounds check that covers the bytes accessed.',
    fix: 'Before the access, compare the pointer plus the size you read against data_end (`if ((void *)(ip + 1) > data_end) return ...;`), after any pointer arithmetic, and re-check after helpers that move the packet (bpf_skb_pull_data, bpf_xdp_adjust_head).',
  },
  {
    id: 'map-value-out-of-bounds',
    pattern: /invalid access to map value|(?:min|max) value is outside of the allowed memory range|invalid (?:read|write) from map value/,
    summary: 'The access goes outside the map value: the offset plus the access size exceeds the value size declared for the map.',
    fix: 'Keep offsets within sizeof(value): check the index against the array length before indexing, and make the map\'s __type(value, ...) match the struct the code uses.',
  },
  {
    id: 'unbounded-loop',
    pattern: /back-edge from insn|infinite loop detected|loop detected|jump out of range|bpf_loop/,
    summary: 'The verifier could not prove that a loop terminates (kernels before 5.3 reject every backward jump).',
    fix: 'Give the loop a constant bound the compiler keeps (`for (i = 0; i < 64 && more; i++)`), unroll small loops with #pragma unroll on old kernels, or use bpf_loop() (5.17+); a volatile loop variable hides the bound.',
  },
  {
    id: 'too-complex',
    pattern: /BPF program is too large|too large \(\d+ insns\)|jumps is too complex|too many states|complexity limit/,
    summary: 'Verification explored more than the kernel allows (1 million processed instructions, or 8192 pending branches): too many paths through the program, not necessarily too much code.',
    fix: 'Cut the number of paths: bound loops tightly, avoid repeating the same checks, move shared code into a global (non-static) function that is verified once, or split the work across tail calls.',
  },
  {
    id: 'stack-too-large',
    pattern: /combined stack size|stack size of \d+ calls|invalid stack off=|stack depth .*exceeds|call stack of previous frames/,
    summary: 'The BPF stack is limited to 512 bytes, counted across the whole chain of called functions.',
    fix: 'Move large locals (arrays, big structs) into a per-CPU array map used as scratch space, and avoid deep chains of non-inlined functions (mark small helpers static __always_inline).',
  },
  {
    id: 'unreleased-reference',
    pattern: /Unreleased reference|reference leak|unreleased reference/,
    summary: 'A reference acquired by a helper (bpf_sk_lookup_*, bpf_ringbuf_reserve, ...) is not released on every path to the exit.',
    fix: 'Call the matching release helper (bpf_sk_release, bpf_ringbuf_submit or _discard, ...) on every path before returning, early returns included.',
  },
  {
    id: 'tail-call',
    pattern: /prog array map for tail call|tail_call|tail call/,
    summary: 'bpf_tail_call() needs a BPF_MAP_TYPE_PROG_ARRAY map as its second argument.',
    fix: 'Declare the jump table with __uint(type, BPF_MAP_TYPE_PROG_ARRAY) and __u32 keys and values, and pass its address; Cilium\'s cilium_calls_custom_* maps are such prog arrays.',
  },
  {
    id: 'helper-not-allowed',
    pattern: /cannot use helper|unknown func|invalid func|helper call is not allowed|not allowed for prog type|cannot call GPL-restricted function|helper access to the packet is not allowed/,
    summary: 'This program type is not allowed to call that helper, or the kernel does not know it.',
    fix: 'Use a helper available to tc (classifier) programs (`bpftool feature probe` lists them per type), or change the program type; a helper number the kernel does not know means headers newer than the kernel.',
  },
  {
    id: 'invalid-context-access',
    pattern: /invalid bpf_context access|invalid context access|modified ctx ptr|pointer arithmetic on ctx|ctx access/,
    summary: 'The program reads or writes a context field (struct __sk_buff) in a way this program type does not allow: a read-only field, a bad offset or size, or a moved ctx pointer.',
    fix: 'Read only documented __sk_buff fields with their own size; write only the writable ones (mark, priority, tc_index, cb[]); change packet data through helpers (bpf_skb_store_bytes), and never add offsets to the ctx pointer.',
  },
  {
    id: 'uninitialized-read',
    pattern: /!read_ok|invalid (?:indirect )?read from stack|uninitialized|uninit/,
    summary: 'A register or stack slot is read before anything was written to it (unprivileged loads also reject reading uninitialised padding).',
    fix: 'Initialise variables on every path, and zero whole structs before handing them to helpers (`struct v x = {};` or __builtin_memset), padding included.',
  },
  {
    id: 'helper-argument-type',
    pattern: /type=\w+ expected=|arg#?\d+ .*expected|expected pointer to|is not a pointer|expected an initialized|Possibly NULL pointer passed/,
    summary: 'A helper received the wrong kind of argument: for example a plain number where it needs a map or a pointer, or a pointer that was already released.',
    fix: 'Pass what the helper prototype asks for (&map for map arguments, pointers to initialised stack memory for keys and values); a released or reloaded pointer becomes a scalar, so keep it in a typed variable and do not use it after release.',
  },
  {
    id: 'scalar-dereference',
    pattern: /invalid mem access '(?:scalar|inv)'/,
    summary: 'A plain number is dereferenced as if it were a pointer: the verifier lost track of the pointer type.',
    fix: 'Keep pointers in pointer-typed variables, read kernel memory through bpf_probe_read_kernel() or BPF_CORE_READ(), and do not use a pointer after releasing it.',
  },
  {
    id: 'return-value-range',
    pattern: /At program exit the register R0|should have been in|R0 has value .* should|return value/,
    summary: 'The program returns a value outside the range its program type allows.',
    fix: 'Return one of the allowed codes (TC_ACT_* for tc; 0 or 1 for cgroup skb); a Cilium custom program must return the code it was handed, unchanged.',
  },
  {
    id: 'unreachable-insn',
    pattern: /unreachable insn|dead code/,
    summary: 'Some instructions can never run; the verifier rejects dead code.',
    fix: 'Remove code after an unconditional return or exit (often inline asm or __builtin_unreachable()), and build with -O2 so the compiler drops it.',
  },
];

const GENERIC: Hint = {
  id: 'generic',
  summary: 'The verifier rejected the program at this point.',
  fix: 'Read the register state in the lines just above the error: it shows what the verifier assumed; add the missing check or bound on that path.',
};

/** The error class of a message (then of its context lines), or null when none matches. */
export function classifyError(message: string, context: readonly string[] = []): Hint | null {
  for (const text of [message, ...context]) {
    const rule = RULES.find((r) => r.pattern.test(text));
    if (rule) return { id: rule.id, summary: rule.summary, fix: rule.fix };
  }
  return null;
}

export function hintFor(message: string, context: readonly string[] = []): Hint {
  return classifyError(message, context) ?? GENERIC;
}

/** Ids of every class, for tests and documentation. */
export const HINT_IDS: readonly string[] = RULES.map((r) => r.id);
