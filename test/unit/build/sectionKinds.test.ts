// What libbpf infers from a section name, with libbpf 1.x's matching rules ("name+" exact or "name/...").
import * as assert from 'node:assert/strict';
import { isTcKind, sectionKind } from '../../../src/core/verify/sectionKinds';

describe('section kinds (libbpf section names)', () => {
  const cases: Array<[string, string | undefined]> = [
    ['xdp', 'xdp'],
    ['xdp.frags', 'xdp'],
    ['xdp/devmap', 'xdp'],
    ['socket', 'socket_filter'],
    ['kprobe', 'kprobe'],
    ['kprobe/do_sys_open', 'kprobe'],
    ['kretprobe/x', 'kprobe'],
    ['uprobe.multi/lib:fn', 'kprobe'],
    ['tracepoint/syscalls/sys_enter_openat', 'tracepoint'],
    ['tp/sched/sched_switch', 'tracepoint'],
    ['raw_tp.w/x', 'raw_tracepoint_writable'],
    ['fentry/tcp_connect', 'tracing'],
    ['lsm/file_open', 'lsm'],
    ['cgroup/skb', 'cgroup_skb'],
    ['cgroup_skb/egress', 'cgroup_skb'],
    ['cgroup/sock', 'cgroup_sock'],
    ['cgroup/connect6', 'cgroup_sock_addr'],
    ['cgroup/dev', 'cgroup_device'],
    ['sk_skb/stream_verdict', 'sk_skb'],
    ['struct_ops/tcp_ca', 'struct_ops'],
    ['action', 'sched_act'],
    ['tc', 'sched_cls'],
    ['classifier', 'sched_cls'],
    ['tc/ingress', 'sched_cls'],
    ['tcx/egress', 'sched_cls'],
    ['netkit/primary', 'sched_cls'],
    // Not libbpf names: libbpf infers nothing (strict 1.x rules), bpftool's "type classifier" applies.
    ['bytecount', undefined],
    ['tail_context/stage1', undefined],
    ['xdp_prog', undefined],
    ['kprobes', undefined],
    ['classifier/foo', undefined],
    ['tc/foo', undefined],
    ['cgroup/unknown', undefined],
  ];
  for (const [name, progType] of cases) {
    it(`${name} -> ${progType ?? 'nothing'}`, () => assert.equal(sectionKind(name)?.progType, progType));
  }

  it('only sched_cls and unknown names are tc programs', () => {
    assert.equal(isTcKind(sectionKind('tc')), true);
    assert.equal(isTcKind(sectionKind('bytecount')), true);
    assert.equal(isTcKind(sectionKind('action')), false);
    assert.equal(isTcKind(sectionKind('xdp')), false);
  });

  it('has a readable title', () => {
    assert.equal(sectionKind('xdp')?.title, 'an XDP program');
    assert.equal(sectionKind('kprobe/x')?.title, 'a kprobe program');
  });
});
