/* SPDX-License-Identifier: GPL-2.0 */
/* Shim: headers written for a Cilium tree include <lib/common.h>; the SDK's prelude
 * provides what custom programs use from it.
 */
#include "sdk/prelude.h"
