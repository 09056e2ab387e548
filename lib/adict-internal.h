/* SPDX-License-Identifier: MIT */
#ifndef ADICT_INTERNAL_H
#define ADICT_INTERNAL_H

#include "adict.h"

/* Environment variable that forces the backend of anonymous tables. */
#define ADICT_ENV_BACKEND	"ADICT_BACKEND"

/* Batch look-ahead: keys hashed and prefetched this far ahead. */
#define ADICT_PREFETCH_DIST	16

#endif
