/* SPDX-License-Identifier: GPL-2.0 */
/* Map and tail-call helpers under the names Cilium's code uses. */
#ifndef SDK_MAPS_H
#define SDK_MAPS_H

/* For __uint(pinning, LIBBPF_PIN_BY_NAME): libbpf then pins the map as
 * /sys/fs/bpf/<name> at load time and reuses it on the next load. Don't use
 * it with "bpftool prog load ... pinmaps DIR" (the documented way to load
 * custom programs): the map already has a pin path and pinmaps fails.
 */
#ifndef LIBBPF_PIN_BY_NAME
# define LIBBPF_PIN_BY_NAME 1
#endif

/* Macros rather than wrappers so the map pointer keeps its BTF type and the
 * value pointer's type follows the caller's variable.
 */
#define map_lookup_elem(map, key) bpf_map_lookup_elem(map, key)
#define map_update_elem(map, key, val, flags) \
	bpf_map_update_elem(map, key, val, flags)
#define map_delete_elem(map, key) bpf_map_delete_elem(map, key)

/* bpf_tail_call() only returns when the call failed (empty slot, slot out of
 * range, or tail-call limit reached): code after it is the fall-through path
 * and must produce a verdict. The cast drops the const of custom_prog's ctx.
 */
#define tail_call(ctx, map, slot) bpf_tail_call((void *)(ctx), map, slot)

/* A constant slot lets the kernel patch the tail call into a direct jump;
 * refuse anything else at compile time rather than silently losing that.
 * Cilium v1.12's tail_call_static() takes the map's address like this one,
 * v1.17's takes its name (tail_call_static(ctx, map, slot), pasted into
 * inline assembly: "&map" there is "invalid operand for instruction"). Code
 * meant for any tree calls tail_call(ctx, &map, SLOT): with a constant slot
 * the kernel makes it a direct jump as well.
 */
#define tail_call_static(ctx, map, slot)				\
	({								\
		_Static_assert(__builtin_constant_p(slot),		\
			       "tail_call_static needs a constant slot"); \
		bpf_tail_call((void *)(ctx), map, slot);		\
	})

#endif /* SDK_MAPS_H */
