/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bytecount: bytes seen per remote security identity.
 *
 * Read the counters with:
 *   bpftool map dump pinned <pin dir>/bytecount_map
 * (key: identity as __u32, value: bytes as __u64).
 */
#include <bpf/ctx/skb.h>
#include <bpf/api.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);		/* remote security identity */
	__type(value, __u64);		/* bytes */
	__uint(max_entries, 1024);
} bytecount_map __section_maps_btf;

static __always_inline
void custom_prog(const struct __ctx_buff *ctx, __u32 identity)
{
	__u64 len = ctx_full_len(ctx);
	__u64 *bytes;

	bytes = map_lookup_elem(&bytecount_map, &identity);
	if (bytes) {
		/* Other CPUs update the same entry concurrently. */
		__sync_fetch_and_add(bytes, len);
		return;
	}

	/* First packet for this identity. BPF_NOEXIST so that if another CPU
	 * inserted the entry meanwhile we add to it instead of overwriting it.
	 * When the map is full the identity simply goes uncounted.
	 */
	if (map_update_elem(&bytecount_map, &identity, &len, BPF_NOEXIST) == 0)
		return;
	bytes = map_lookup_elem(&bytecount_map, &identity);
	if (bytes)
		__sync_fetch_and_add(bytes, len);
}
