// The `struct __sk_buff` a test run starts from (bpftool prog run ... ctx_in FILE). Only fields the kernel lets a
// sched_cls test run set may be non-zero; the one that matters here is cb[CB_CUSTOM_CALLS], the meta word through
// which Cilium's datapath hands the custom program the remote identity (bits 0-23) and its own return code (bits
// 24-31): see bpf/include/sdk/ctx.h.

/** sizeof(struct __sk_buff) on current kernels; older kernels accept a larger context whose extra bytes are zero. */
export const SKB_CONTEXT_SIZE = 192;
/** offsetof(struct __sk_buff, cb). */
const CB_OFFSET = 48;
/** The cb[] word of the meta word (CB_CUSTOM_CALLS). */
export const CB_CUSTOM_CALLS = 4;

export const MAX_IDENTITY = 0xffffff;
export const MAX_RETURN_CODE = 0xff;

export class ContextError extends Error {}

/** identity | ret << 24, as the datapath writes it. */
export function metaWord(identity: number, datapathReturn: number): number {
  if (!Number.isInteger(identity) || identity < 0 || identity > MAX_IDENTITY) throw new ContextError(`identity ${identity}: expected 0 to ${MAX_IDENTITY} (24 bits)`);
  if (!Number.isInteger(datapathReturn) || datapathReturn < 0 || datapathReturn > MAX_RETURN_CODE) {
    throw new ContextError(`datapath return code ${datapathReturn}: expected 0 to ${MAX_RETURN_CODE} (8 bits)`);
  }
  return (identity | (datapathReturn << 24)) >>> 0;
}

export function skbContext(identity: number, datapathReturn: number): Buffer {
  const ctx = Buffer.alloc(SKB_CONTEXT_SIZE);
  ctx.writeUInt32LE(metaWord(identity, datapathReturn), CB_OFFSET + 4 * CB_CUSTOM_CALLS);
  return ctx;
}
