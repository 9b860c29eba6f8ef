// What libbpf infers from an ELF section name: the program type it would load the section as. bpftool is always
// told `type classifier`, which overrides that inference for every program in the object, so an `SEC("xdp")`
// program would be verified (and attached) as a tc program although it was written for another context. This
// table lets verify and attach refuse such objects and say what they are.
//
// The patterns and their matching rules are libbpf 1.x's section_defs (libbpf.c, sec_def_matches): "name+" is
// the exact name or "name/anything", "name/" is any name with that prefix, anything else must match exactly.
// Later libbpf versions add names; an unknown name is not refused (libbpf infers nothing, so `type classifier`
// is what the author relied on, as Cilium's own custom-program section does).

export interface SectionKind {
  /** The kernel's program type name, as bpftool prints it. */
  progType: string;
  /** A readable name, used as "an XDP program". */
  title: string;
}

type Def = readonly [pattern: string, progType: string, title: string];

const KPROBE = 'kprobe';
const CGROUP_SOCK = ['cgroup_sock', 'a cgroup socket program'] as const;
const CGROUP_SOCK_ADDR = ['cgroup_sock_addr', 'a cgroup socket-address program'] as const;

const SOCK_ADDR_HOOKS = ['bind4', 'bind6', 'connect4', 'connect6', 'connect_unix', 'sendmsg4', 'sendmsg6', 'sendmsg_unix']
  .concat(['recvmsg4', 'recvmsg6', 'recvmsg_unix', 'getpeername4', 'getpeername6', 'getpeername_unix'])
  .concat(['getsockname4', 'getsockname6', 'getsockname_unix']);

const DEFS: readonly Def[] = [
  ['socket', 'socket_filter', 'a socket filter program'],
  ['sk_reuseport/migrate', 'sk_reuseport', 'an SO_REUSEPORT program'],
  ['sk_reuseport', 'sk_reuseport', 'an SO_REUSEPORT program'],
  ['kprobe+', KPROBE, 'a kprobe program'],
  ['uprobe+', KPROBE, 'a uprobe program'],
  ['uprobe.s+', KPROBE, 'a uprobe program'],
  ['kretprobe+', KPROBE, 'a kretprobe program'],
  ['uretprobe+', KPROBE, 'a uretprobe program'],
  ['uretprobe.s+', KPROBE, 'a uretprobe program'],
  ['kprobe.multi+', KPROBE, 'a kprobe program'],
  ['kretprobe.multi+', KPROBE, 'a kretprobe program'],
  ['uprobe.multi+', KPROBE, 'a uprobe program'],
  ['uretprobe.multi+', KPROBE, 'a uretprobe program'],
  ['uprobe.multi.s+', KPROBE, 'a uprobe program'],
  ['uretprobe.multi.s+', KPROBE, 'a uretprobe program'],
  ['ksyscall+', KPROBE, 'a syscall kprobe program'],
  ['kretsyscall+', KPROBE, 'a syscall kretprobe program'],
  ['usdt+', KPROBE, 'a USDT probe program'],
  ['usdt.s+', KPROBE, 'a USDT probe program'],
  ['tc/ingress', 'sched_cls', 'a tc program'],
  ['tc/egress', 'sched_cls', 'a tc program'],
  ['tcx/ingress', 'sched_cls', 'a tcx program'],
  ['tcx/egress', 'sched_cls', 'a tcx program'],
  ['tc', 'sched_cls', 'a tc program'],
  ['classifier', 'sched_cls', 'a tc classifier program'],
  ['action', 'sched_act', 'a tc action program'],
  ['netkit/primary', 'sched_cls', 'a netkit program'],
  ['netkit/peer', 'sched_cls', 'a netkit program'],
  ['tracepoint+', 'tracepoint', 'a tracepoint program'],
  ['tp+', 'tracepoint', 'a tracepoint program'],
  ['raw_tracepoint+', 'raw_tracepoint', 'a raw tracepoint program'],
  ['raw_tp+', 'raw_tracepoint', 'a raw tracepoint program'],
  ['raw_tracepoint.w+', 'raw_tracepoint_writable', 'a writable raw tracepoint program'],
  ['raw_tp.w+', 'raw_tracepoint_writable', 'a writable raw tracepoint program'],
  ['tp_btf+', 'tracing', 'a BTF tracepoint program'],
  ['fentry+', 'tracing', 'an fentry program'],
  ['fmod_ret+', 'tracing', 'an fmod_ret program'],
  ['fexit+', 'tracing', 'an fexit program'],
  ['fentry.s+', 'tracing', 'an fentry program'],
  ['fmod_ret.s+', 'tracing', 'an fmod_ret program'],
  ['fexit.s+', 'tracing', 'an fexit program'],
  ['freplace+', 'ext', 'a freplace (extension) program'],
  ['lsm+', 'lsm', 'an LSM program'],
  ['lsm.s+', 'lsm', 'an LSM program'],
  ['lsm_cgroup+', 'lsm', 'a cgroup LSM program'],
  ['iter+', 'tracing', 'a BPF iterator program'],
  ['iter.s+', 'tracing', 'a BPF iterator program'],
  ['syscall', 'syscall', 'a syscall program'],
  ['xdp.frags/devmap', 'xdp', 'an XDP program'],
  ['xdp/devmap', 'xdp', 'an XDP program'],
  ['xdp.frags/cpumap', 'xdp', 'an XDP program'],
  ['xdp/cpumap', 'xdp', 'an XDP program'],
  ['xdp.frags', 'xdp', 'an XDP program'],
  ['xdp', 'xdp', 'an XDP program'],
  ['perf_event', 'perf_event', 'a perf event program'],
  ['lwt_in', 'lwt_in', 'a lightweight-tunnel program'],
  ['lwt_out', 'lwt_out', 'a lightweight-tunnel program'],
  ['lwt_xmit', 'lwt_xmit', 'a lightweight-tunnel program'],
  ['lwt_seg6local', 'lwt_seg6local', 'a lightweight-tunnel (seg6local) program'],
  ['sockops', 'sock_ops', 'a sock_ops program'],
  ['sk_skb/stream_parser', 'sk_skb', 'an sk_skb program'],
  ['sk_skb/stream_verdict', 'sk_skb', 'an sk_skb program'],
  ['sk_skb', 'sk_skb', 'an sk_skb program'],
  ['sk_msg', 'sk_msg', 'an sk_msg program'],
  ['lirc_mode2', 'lirc_mode2', 'a lirc_mode2 program'],
  ['flow_dissector', 'flow_dissector', 'a flow dissector program'],
  ['cgroup_skb/ingress', 'cgroup_skb', 'a cgroup skb program'],
  ['cgroup_skb/egress', 'cgroup_skb', 'a cgroup skb program'],
  ['cgroup/skb', 'cgroup_skb', 'a cgroup skb program'],
  ['cgroup/sock_create', ...CGROUP_SOCK],
  ['cgroup/sock_release', ...CGROUP_SOCK],
  ['cgroup/sock', ...CGROUP_SOCK],
  ['cgroup/post_bind4', ...CGROUP_SOCK],
  ['cgroup/post_bind6', ...CGROUP_SOCK],
  ...SOCK_ADDR_HOOKS.map((hook): Def => [`cgroup/${hook}`, ...CGROUP_SOCK_ADDR]),
  ['cgroup/sysctl', 'cgroup_sysctl', 'a cgroup sysctl program'],
  ['cgroup/getsockopt', 'cgroup_sockopt', 'a cgroup sockopt program'],
  ['cgroup/setsockopt', 'cgroup_sockopt', 'a cgroup sockopt program'],
  ['cgroup/dev', 'cgroup_device', 'a cgroup device program'],
  ['struct_ops+', 'struct_ops', 'a struct_ops program'],
  ['struct_ops.s+', 'struct_ops', 'a struct_ops program'],
  ['sk_lookup', 'sk_lookup', 'an sk_lookup program'],
  ['netfilter', 'netfilter', 'a netfilter program'],
];

/** libbpf's sec_def_matches. */
function matches(pattern: string, name: string): boolean {
  if (pattern.endsWith('/')) return name.startsWith(pattern);
  if (pattern.endsWith('+')) {
    const base = pattern.slice(0, -1);
    return name === base || name.startsWith(`${base}/`);
  }
  return name === pattern;
}

/** The program type libbpf would load a section as, or undefined when libbpf infers nothing from the name. */
export function sectionKind(name: string): SectionKind | undefined {
  const def = DEFS.find(([pattern]) => matches(pattern, name));
  return def ? { progType: def[1], title: def[2] } : undefined;
}

/** Custom calls are tail calls from Cilium's tc programs: the callee must be sched_cls. */
export function isTcKind(kind: SectionKind | undefined): boolean {
  return kind === undefined || kind.progType === 'sched_cls';
}
