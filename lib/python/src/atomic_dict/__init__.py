# SPDX-License-Identifier: MIT
"""atomic_dict: lock-free shared dictionaries of 64-bit integers.

A drop-in replacement for the original ``atomic_dict`` package, built on
libadict.  Create an :class:`AtomicDict`, fork, then update keyed values
with atomic operations from every process::

    from atomic_dict import AtomicDict
    d = AtomicDict(1024)
    d[7].add(1)         # the original API: a value object per key
    d.add(7, 1)         # the direct form: no value object, faster

Keys are integers in 1..2**64-1; values are 64-bit unsigned, start at 0
and wrap modulo 2**64; value arguments may be negative (two's complement).
A table holds at most ``max_entries`` keys and never shrinks.

Anonymous tables are shared with ``fork()``ed children.  Named tables,
``AtomicDict(n, name="counters")``, live in ``/dev/atomic_dict`` (the
atomic_dict kernel module) and any process allowed by their mode can
``AtomicDict.attach("counters")``.  See Documentation/python.rst.
"""

from ._atomic_dict import (
    CAPACITY_MAX,
    DEVICE_PATH,
    GRANT_ALL,
    GRANT_READ,
    NAME_MAX,
    OP_ADD,
    OP_AND,
    OP_CAS,
    OP_FIND,
    OP_INSERT,
    OP_LOAD,
    OP_OR,
    OP_STORE,
    OP_SUB,
    OP_SWAP,
    OP_XOR,
    AtomicDict,
    AtomicSet,
    AtomicValue,
    Error,
    KernelModuleNotLoadedError,
    TableFullError,
    __version__,
    unlink,
)

__all__ = [
    "AtomicDict",
    "AtomicSet",
    "AtomicValue",
    "Error",
    "TableFullError",
    "KernelModuleNotLoadedError",
    "unlink",
    "DEVICE_PATH",
    "CAPACITY_MAX",
    "NAME_MAX",
    "GRANT_ALL",
    "GRANT_READ",
    "OP_LOAD",
    "OP_STORE",
    "OP_SWAP",
    "OP_ADD",
    "OP_SUB",
    "OP_AND",
    "OP_OR",
    "OP_XOR",
    "OP_CAS",
    "OP_INSERT",
    "OP_FIND",
]
