// SPDX-License-Identifier: GPL-2.0
/*
 * Mock datapath for the local sandbox: plays Cilium's part on the host side
 * of a veth, so custom programs can be exercised without a Cilium agent.
 *
 * For every IPv4/IPv6 packet it writes the custom-call meta word into
 * skb->cb[CB_CUSTOM_CALLS] (identity in bits 0-23, the "datapath verdict" in
 * bits 24-31, both taken from mock_config) and tail-calls the slot of the
 * endpoint's custom-calls PROG_ARRAY that matches the hook:
 *   0 IPv4 ingress, 1 IPv4 egress, 2 IPv6 ingress, 3 IPv6 egress.
 * As in Cilium, the hooks are named from the endpoint's point of view: packets
 * the pod sends arrive at the host-side veth's tc ingress and run the
 * endpoint's *egress* slot; packets to the pod leave through the veth's tc
 * egress and run its *ingress* slot.
 *
 * An empty slot makes the tail call fall through: the packet passes
 * (TC_ACT_OK). Other protocols (ARP, ...) are never handed to a slot.
 *
 * The sandbox loads this with
 *   bpftool prog loadall mock_datapath.o DIR type classifier \
 *       map name mock_calls pinned /sys/fs/bpf/tc/globals/cilium_calls_custom_NNNNN \
 *       pinmaps DIR/maps
 * so mock_calls is the very map a custom program gets attached to.
 */
#include "sdk/prelude.h"

struct mock_config {
	__u32 identity;		/* remote security identity, 24 bits */
	__u32 ret_code;		/* verdict the custom program must return */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct mock_config);
	__uint(max_entries, 1);
} mock_config __section_maps_btf;

/* Replaced at load time by the pinned cilium_calls_custom_NNNNN map; same
 * type, key/value size and size, as libbpf requires for reuse.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
	__uint(max_entries, 4);
} mock_calls __section_maps_btf;

#define SLOT_IPV4_INGRESS 0
#define SLOT_IPV4_EGRESS  1
#define SLOT_IPV6_INGRESS 2
#define SLOT_IPV6_EGRESS  3

static __always_inline int mock_hook(struct __sk_buff *skb, int egress)
{
	__u32 zero = 0;
	struct mock_config *cfg;
	__u32 slot;

	if (skb->protocol == bpf_htons(ETH_P_IP))
		slot = egress ? SLOT_IPV4_EGRESS : SLOT_IPV4_INGRESS;
	else if (skb->protocol == bpf_htons(ETH_P_IPV6))
		slot = egress ? SLOT_IPV6_EGRESS : SLOT_IPV6_INGRESS;
	else
		return TC_ACT_OK;

	cfg = bpf_map_lookup_elem(&mock_config, &zero);
	if (!cfg)
		return TC_ACT_OK;

	skb->cb[CB_CUSTOM_CALLS] = ((cfg->ret_code & 0xff) << 24) |
				   (cfg->identity & 0xffffff);
	bpf_tail_call(skb, &mock_calls, slot);

	/* Empty slot: the tail call fell through. Never drop. */
	return TC_ACT_OK;
}

__section("tc/mock_ingress")
int mock_ingress(struct __sk_buff *skb)
{
	/* From the pod: the endpoint's egress. */
	return mock_hook(skb, 1);
}

__section("tc/mock_egress")
int mock_egress(struct __sk_buff *skb)
{
	/* To the pod: the endpoint's ingress. */
	return mock_hook(skb, 0);
}

char __license[] __section("license") = "GPL";
