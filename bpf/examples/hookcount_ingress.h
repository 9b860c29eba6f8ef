/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hookcount, ingress build: packets per custom-call hook, counted in
 * hookcount_map, indexed like Cilium's cilium_calls_custom_* slots:
 *   0 IPv4 ingress, 1 IPv4 egress, 2 IPv6 ingress, 3 IPv6 egress.
 * Attach this object to slots 0 (IPv4 ingress) and 2 (IPv6 ingress);
 * hookcount_egress.h is the same program for the other two.
 *
 * The address family is read from the packet (skb->protocol). The direction
 * cannot be: custom_prog() gets only the ctx and the remote identity, and at
 * run time nothing tells the hooks apart. Both run from tc programs of the
 * endpoint, and pod-to-pod traffic on one node reaches the destination's
 * ingress hook by a tail call made from the source pod's egress path, so
 * skb->ifindex, ingress_ifindex or pkt_type say nothing reliable. Hence one
 * object per direction, fixed at compile time.
 *
 * Each object has its own hookcount_map unless the second load reuses the
 * first one's: bpftool prog load hookcount_egress.o PIN type classifier
 *   map name hookcount_map pinned <first load's pin dir>/hookcount_map
 *   pinmaps DIR
 *
 * Self-contained: this one file builds with the bundled SDK and, copied
 * alone into a Cilium tree's bpf/custom/, with Cilium's own Makefile.
 */
#include <bpf/ctx/skb.h>
#include <bpf/api.h>

enum {
	HOOK_IPV4_INGRESS = 0,
	HOOK_IPV4_EGRESS = 1,
	HOOK_IPV6_INGRESS = 2,
	HOOK_IPV6_EGRESS = 3,
	HOOK_MAX = 4,
};

/* Per-CPU: no atomics on the hot path; readers sum the CPUs' values
 * (bpftool map dump shows one value per CPU).
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);		/* HOOK_* */
	__type(value, __u64);		/* packets */
	__uint(max_entries, HOOK_MAX);
} hookcount_map __section_maps_btf;

static __always_inline
void custom_prog(const struct __ctx_buff *ctx, __u32 identity)
{
	__u32 hook;
	__u64 *packets;

	(void)identity;

	if (ctx->protocol == bpf_htons(ETH_P_IP))
		hook = HOOK_IPV4_INGRESS;
	else if (ctx->protocol == bpf_htons(ETH_P_IPV6))
		hook = HOOK_IPV6_INGRESS;
	else
		return;	/* the IPv4/IPv6 hooks never see anything else */

	packets = map_lookup_elem(&hookcount_map, &hook);
	if (packets)
		*packets += 1;
}
