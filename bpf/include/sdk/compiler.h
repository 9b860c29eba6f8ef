/* SPDX-License-Identifier: GPL-2.0 */
/* Attribute spellings used by Cilium's datapath code. */
#ifndef SDK_COMPILER_H
#define SDK_COMPILER_H

/* libbpf's SEC() does the same; Cilium code says __section(). */
#ifndef __section
# define __section(NAME) __attribute__((section(NAME), used))
#endif

/* BTF-defined maps live in ".maps", which libbpf and bpftool parse. */
#ifndef __section_maps_btf
# define __section_maps_btf __section(".maps")
#endif

/* bpf_helpers.h already defines __always_inline; keep a fallback for
 * headers that include this file on its own.
 */
#ifndef __always_inline
# define __always_inline inline __attribute__((always_inline))
#endif

#ifndef __stringify
# define __stringify_1(X) #X
# define __stringify(X) __stringify_1(X)
#endif

#ifndef likely
# define likely(X) __builtin_expect(!!(X), 1)
# define unlikely(X) __builtin_expect(!!(X), 0)
#endif

/* Only needed by per-CPU sizing in code copied from Cilium; the kernel, not
 * the program, decides the real CPU count.
 */
#ifndef __NR_CPUS__
# define __NR_CPUS__ 128
#endif

#endif /* SDK_COMPILER_H */
