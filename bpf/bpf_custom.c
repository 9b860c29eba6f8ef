// SPDX-License-Identifier: GPL-2.0
/*
 * Landing program for a custom program: the datapath tail-calls this with the
 * custom-call meta word in skb->cb[CB_CUSTOM_CALLS], it calls the user's
 * custom_prog(), then returns the verdict the datapath had already chosen.
 *
 * Two ways in, same result:
 *  - the SDK Makefile force-includes sdk/prelude.h and the user's header with
 *    clang -include (any file name works, quotes and spaces included) and
 *    defines BPF_CUSTOM_PROG_PREINCLUDED and BPF_CUSTOM_PROG_SEC (a string);
 *  - the Cilium way: -DBPF_CUSTOM_PROG_FILE=foo.h -DBPF_CUSTOM_PROG_NAME=foo
 *    as bare tokens, stringified here.
 */
#include "sdk/prelude.h"

#ifndef BPF_CUSTOM_PROG_PREINCLUDED
# ifndef BPF_CUSTOM_PROG_FILE
#  error "define BPF_CUSTOM_PROG_FILE (the custom program header), or build with the Makefile"
# endif
# include __stringify(BPF_CUSTOM_PROG_FILE)
#endif

#ifndef BPF_CUSTOM_PROG_SEC
# ifndef BPF_CUSTOM_PROG_NAME
#  error "define BPF_CUSTOM_PROG_NAME (the ELF section name), or build with the Makefile"
# endif
# define BPF_CUSTOM_PROG_SEC __stringify(BPF_CUSTOM_PROG_NAME)
#endif

__section(BPF_CUSTOM_PROG_SEC)
int custom_hook(const struct __ctx_buff *ctx)
{
	__u32 meta = ctx_load_meta(ctx, CB_CUSTOM_CALLS);

	custom_prog(ctx, CUSTOM_META_IDENTITY(meta));

	/* Whatever custom_prog did, the datapath's decision stands. */
	return CUSTOM_META_RET(meta);
}

char __license[] __section("license") = "GPL";
