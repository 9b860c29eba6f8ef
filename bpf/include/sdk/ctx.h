/* SPDX-License-Identifier: GPL-2.0 */
/* The context as Cilium's tc programs see it. */
#ifndef SDK_CTX_H
#define SDK_CTX_H

/* Cilium compiles the same code for tc (skb) and XDP by naming the context
 * __ctx_buff; custom calls only exist on the tc side, so it is the skb.
 */
#define __ctx_buff __sk_buff

/* skb->cb[] slot in which the datapath passes the custom-call meta word:
 * bits 0-23 remote security identity, bits 24-31 the datapath's verdict.
 */
#define CB_CUSTOM_CALLS 4

/* Custom programs must hand the datapath's verdict back unchanged. */
#define CUSTOM_META_IDENTITY(meta) ((meta) & 0xffffff)
#define CUSTOM_META_RET(meta) (((meta) >> 24) & 0xff)

/* The cb[] words survive tail calls, which is why Cilium passes data
 * between its tail-called programs through them. The const cast lets the
 * helpers take the const ctx that custom_prog() receives.
 */
static __always_inline __u32
ctx_load_meta(const struct __sk_buff *ctx, const __u32 off)
{
	return ctx->cb[off];
}

static __always_inline void
ctx_store_meta(struct __sk_buff *ctx, const __u32 off, __u32 data)
{
	ctx->cb[off] = data;
}

/* Length of the whole packet, including non-linear data (data_end - data
 * only covers the linear part).
 */
static __always_inline __u64 ctx_full_len(const struct __sk_buff *ctx)
{
	return ctx->len;
}

#endif /* SDK_CTX_H */
