/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Prelude of the bundled custom-program SDK.
 *
 * The Makefile force-includes this file before the user's header, so a
 * custom program needs no #include at all. Headers written for a Cilium tree
 * (which include <bpf/ctx/skb.h>, <bpf/api.h>, "lib/common.h") still build:
 * the shims of the same names in bpf/include/ just include this file.
 *
 * Only the idioms custom programs use are provided, spelled as in Cilium's
 * bpf/include so that code moves between the SDK and a Cilium tree unchanged.
 */
#ifndef SDK_PRELUDE_H
#define SDK_PRELUDE_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "sdk/compiler.h"
#include "sdk/builtins.h"
#include "sdk/ctx.h"
#include "sdk/maps.h"

/*
 * Make the landing program the first program of the object.
 * "bpftool prog load" loads every program but pins only the first, and
 * libbpf orders programs by ELF section index, i.e. by the order in which
 * clang first references the functions. The user's header comes before the
 * landing program, so a header with tail-called stages (referenced from a
 * prog array initializer) would otherwise push its stages ahead of it.
 * Opening the landing section here, before anything else, fixes its index.
 * The assembler takes quoted section names verbatim, so a name containing
 * '"' cannot be written here: such objects keep clang's order.
 */
#if defined(BPF_CUSTOM_PROG_SEC)
# if defined(BPF_CUSTOM_PROG_SEC_ASM_SAFE)
#  define SDK_LANDING_SEC BPF_CUSTOM_PROG_SEC
# endif
#elif defined(BPF_CUSTOM_PROG_NAME)
# define SDK_LANDING_SEC __stringify(BPF_CUSTOM_PROG_NAME)
#endif
#ifdef SDK_LANDING_SEC
asm(".pushsection \"" SDK_LANDING_SEC "\", \"ax\", @progbits\n"
    ".popsection");
#endif

#endif /* SDK_PRELUDE_H */
