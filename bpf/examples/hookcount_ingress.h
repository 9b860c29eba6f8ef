/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hookcount, ingress build: packets per hook, counted in hookcount_map.
 * Attach to slots 0 (IPv4 ingress) and 2 (IPv6 ingress).
 * The direction is fixed at compile time; common/hookcount.h explains why.
 */
#define HOOKCOUNT_EGRESS 0
#include "common/hookcount.h"
