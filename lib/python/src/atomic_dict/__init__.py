# SPDX-License-Identifier: MIT
"""atomic_dict: lock-free shared dictionaries of 64-bit integers.

A drop-in replacement for the original ``atomic_dict`` package, built on
libadict.  Create an :class:`AtomicDict`, fork, then update keyed values
with atomic operations from every process::

    from atomic_dict import AtomicDict
    d = AtomicDict(1024)
    d[7].add(1)         # the original API: a value object per key
    d.add(7, 1)         # the direct form: no value object, faster

Keys are integers in 1..2**64-1 (or 1-tuples of one, as the original's
iteration yields them); values are 64-bit unsigned, start at 0 and wrap
modulo 2**64; value arguments may be negative (two's complement).  A table
holds at most ``max_entries`` keys and never shrinks.

Anonymous tables are shared with ``fork()``ed children and, under every
multiprocessing start method (fork, spawn, forkserver), with the children
they are passed to as Process or Pool arguments or through a Queue: the
table's file descriptor travels, as ``multiprocessing.heap`` passes its
arenas.  Named tables, ``AtomicDict(n, name="counters")``, live in
``/dev/atomic_dict`` (the atomic_dict kernel module) and any process
allowed by their mode can ``AtomicDict.attach("counters")``.  See
Documentation/python.rst.
"""

import os as _os

from multiprocessing import reduction as _reduction
from typing import Any as _Any, Callable as _Callable, TypeVar as _TypeVar

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
    AtomicValue32,
    AtomicValue64,
    Error,
    KernelModuleNotLoadedError,
    TableFullError,
    unlink,
)
from . import capi

__version__ = "1.0.0"

# The project's name for AtomicValue64 before it took the original's names.
AtomicValue = AtomicValue64


_Table = _TypeVar("_Table", AtomicDict, AtomicSet)


def _rebuild_table(cls: type[_Table], dupfd: _Any) -> _Table:
    fd: int = dupfd.detach()
    try:
        return cls.from_fd(fd)
    finally:
        _os.close(fd)


def _reduce_table(
    table: AtomicDict | AtomicSet,
) -> tuple[_Callable[..., AtomicDict | AtomicSet], tuple[object, ...]]:
    """multiprocessing's pickler only: pass the table's fd to the child.

    DupFd hands the fd to a spawn child at its start, or later (Queue, Pool
    tasks) through multiprocessing's resource sharer, as
    multiprocessing.heap does for its arenas.  A plain pickle (a file) goes
    through __reduce__ instead, which refuses anonymous tables.
    """
    if table.closed:
        raise ValueError("cannot pass a closed %s to another process"
                         % type(table).__name__)
    return _rebuild_table, (type(table), _reduction.DupFd(table.fileno()))


_reduction.register(AtomicDict, _reduce_table)
_reduction.register(AtomicSet, _reduce_table)

__all__ = [
    "AtomicDict",
    "AtomicSet",
    "AtomicValue64",
    "AtomicValue32",
    "AtomicValue",
    "Error",
    "TableFullError",
    "KernelModuleNotLoadedError",
    "capi",
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
