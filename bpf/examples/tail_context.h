/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tail_context: split a custom program into tail-called stages that share
 * per-packet state through a per-CPU scratch map.
 *
 *   custom_prog (landing)  fills the context, tail-calls stage 1
 *   stage 1                counts bytes per identity, tail-calls stage 2
 *   stage 2                counts packets per address family
 *
 * Why a per-CPU array and not the stack: stack frames do not survive a tail
 * call. A program runs to completion on one CPU (tail calls included), so a
 * single per-CPU slot is private to the packet being processed.
 *
 * Every stage is a full program: what it returns goes to the datapath, so
 * stages return the verdict from the cb meta word, never their own.
 *
 * The landing program must stay the first program of the object (bpftool
 * prog load pins the first one): see below.
 *
 * Self-contained: this one file builds with the bundled SDK and, copied
 * alone into a Cilium tree's bpf/custom/, with Cilium's Makefile (v1.12's
 * clang + llc, v1.17's one clang step, -Wall -Wextra -Werror and more).
 * Hence:
 *  - CUSTOM_META_RET() is defined below when missing (Cilium has no such
 *    macro; its bpf_custom.c spells the shift out);
 *  - memset(), not __builtin_memset(): Cilium's bpf/builtins.h turns the
 *    latter into a build error ("A call to built-in function 'abort' is not
 *    supported"); memset() of a constant size is inlined in both;
 *  - tail_call(), not tail_call_static(): Cilium v1.17 takes the map by name
 *    (tail_call_static(ctx, map, slot)), v1.12 and the SDK by address. With a
 *    constant slot the kernel still turns tail_call() into a direct jump;
 *  - explicit narrowing casts (-Wimplicit-int-conversion).
 */
#include <bpf/ctx/skb.h>
#include <bpf/api.h>

/* Keep the landing program first in the object: bpftool prog load (and so
 * verify and attach) pins the first program, and clang orders programs by
 * first reference, which the prog array below makes to the stages. Opening
 * the landing section here fixes its place. The SDK's prelude does this for
 * every header; Cilium's bpf_custom.c does not.
 */
#if defined(BPF_CUSTOM_PROG_NAME) && !defined(SDK_LANDING_SEC)
# define TAIL_CONTEXT_STR_(X) #X
# define TAIL_CONTEXT_STR(X) TAIL_CONTEXT_STR_(X)
asm(".pushsection \"" TAIL_CONTEXT_STR(BPF_CUSTOM_PROG_NAME) "\", \"ax\", @progbits\n"
    ".popsection");
#endif

#ifndef CUSTOM_META_RET
/* The datapath's verdict, bits 24-31 of the cb meta word. */
# define CUSTOM_META_RET(meta) (((meta) >> 24) & 0xff)
#endif

/* Explicit padding, size a multiple of 8: the verifier wants every byte of
 * stack written before it is copied, and the layout is the same for every
 * stage and for anyone reading the map from user space.
 */
struct tail_context {
	__u64 len;		/* ctx_full_len() at the landing program */
	__u32 identity;		/* remote security identity */
	__u32 ret;		/* datapath verdict, from the cb meta word */
	__u16 protocol;		/* skb->protocol, network byte order */
	__u16 pad1;
	__u32 stages;		/* bit n set once stage n ran */
};

_Static_assert(sizeof(struct tail_context) % 8 == 0,
	       "tail_context must be a multiple of 8 bytes");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct tail_context);
	__uint(max_entries, 1);
} tail_context_map __section_maps_btf;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);		/* remote security identity */
	__type(value, __u64);		/* bytes */
	__uint(max_entries, 1024);
} tail_context_bytes __section_maps_btf;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);		/* 0 IPv4, 1 IPv6, 2 other */
	__type(value, __u64);		/* packets */
	__uint(max_entries, 3);
} tail_context_families __section_maps_btf;

enum {
	TAIL_STAGE1 = 0,
	TAIL_STAGE2 = 1,
	TAIL_STAGE_MAX,	/* max_entries of the prog array: covers every slot */
};

/* Tail-call targets must be global: libbpf 1.1 rejects static programs. */
int tail_context_stage1(struct __ctx_buff *ctx);
int tail_context_stage2(struct __ctx_buff *ctx);

/* libbpf fills the slots after loading the programs. Sizes instead of
 * __type(): the kernel refuses BTF key/value types for prog arrays (libbpf
 * then retries without BTF, with a warning).
 */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
	__uint(max_entries, TAIL_STAGE_MAX);
	__array(values, int (void *));
} tail_context_progs __section_maps_btf = {
	.values = {
		[TAIL_STAGE1] = (void *)&tail_context_stage1,
		[TAIL_STAGE2] = (void *)&tail_context_stage2,
	},
};

static __always_inline __u32 tail_context_verdict(const struct __ctx_buff *ctx)
{
	return CUSTOM_META_RET(ctx_load_meta(ctx, CB_CUSTOM_CALLS));
}

static __always_inline
void custom_prog(const struct __ctx_buff *ctx, __u32 identity)
{
	__u32 zero = 0;
	struct tail_context *tc;

	tc = map_lookup_elem(&tail_context_map, &zero);
	if (!tc)
		return;

	/* The slot still holds the previous packet's context. */
	memset(tc, 0, sizeof(*tc));
	tc->len = ctx_full_len(ctx);
	tc->identity = identity;
	tc->ret = tail_context_verdict(ctx);
	tc->protocol = (__u16)ctx->protocol;
	tc->stages = 1 << 0;

	/* tail_call() wants a writable ctx; the cast drops custom_prog's const. */
	tail_call((void *)ctx, &tail_context_progs, TAIL_STAGE1);
	/* Only reached if the tail call failed: the landing program returns
	 * the datapath's verdict, so there is nothing else to do.
	 */
}

__section("tail_context/stage1")
int tail_context_stage1(struct __ctx_buff *ctx)
{
	__u32 zero = 0;
	struct tail_context *tc;
	__u64 *bytes;

	tc = map_lookup_elem(&tail_context_map, &zero);
	if (!tc)
		return tail_context_verdict(ctx);

	tc->stages |= 1 << 1;
	bytes = map_lookup_elem(&tail_context_bytes, &tc->identity);
	if (bytes)
		__sync_fetch_and_add(bytes, tc->len);
	else
		map_update_elem(&tail_context_bytes, &tc->identity, &tc->len,
				BPF_NOEXIST);

	tail_call(ctx, &tail_context_progs, TAIL_STAGE2);
	return tail_context_verdict(ctx);	/* tail call failed */
}

__section("tail_context/stage2")
int tail_context_stage2(struct __ctx_buff *ctx)
{
	__u32 zero = 0, family;
	struct tail_context *tc;
	__u64 *packets;

	tc = map_lookup_elem(&tail_context_map, &zero);
	if (!tc)
		return tail_context_verdict(ctx);

	tc->stages |= 1 << 2;
	if (tc->protocol == bpf_htons(ETH_P_IP))
		family = 0;
	else if (tc->protocol == bpf_htons(ETH_P_IPV6))
		family = 1;
	else
		family = 2;

	packets = map_lookup_elem(&tail_context_families, &family);
	if (packets)
		*packets += 1;

	/* Same value the landing program returned; re-read from cb[] (not
	 * tc->ret) so a failed lookup above could not change the verdict.
	 */
	return tail_context_verdict(ctx);
}
