/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hookcount, egress build: packets per hook, counted in hookcount_map.
 * Attach to slots 1 (IPv4 egress) and 3 (IPv6 egress).
 * The direction is fixed at compile time; common/hookcount.h explains why.
 */
#define HOOKCOUNT_EGRESS 1
#include "common/hookcount.h"
