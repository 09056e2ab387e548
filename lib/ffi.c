// SPDX-License-Identifier: MIT
/*
 * Export every inline operation of adict.h as a real symbol, for callers
 * that cannot use C inline functions (FFI from other languages, dlsym).
 * The definitions are the header's own; only the linkage changes.
 */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#define ADICTINLINE __attribute__((visibility("default")))
#include "adict.h"
