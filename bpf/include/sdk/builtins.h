/* SPDX-License-Identifier: GPL-2.0 */
/* memset() as Cilium's bpf/include/bpf/builtins.h offers it. */
#ifndef SDK_BUILTINS_H
#define SDK_BUILTINS_H

/* Cilium's tree turns __builtin_memset() into a build error (llc or clang
 * then say "A call to built-in function 'abort' is not supported") and
 * offers memset() instead, inlined for a constant size. Code meant to build
 * in both says memset(); here it is clang's builtin, inlined the same way.
 */
#ifndef memset
# define memset(d, c, n) __builtin_memset((d), (c), (n))
#endif

#endif /* SDK_BUILTINS_H */
