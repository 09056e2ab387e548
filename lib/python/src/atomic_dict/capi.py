# SPDX-License-Identifier: MIT
"""atomic_dict.capi: the names of the original package's C module.

AtomicValue64 and AtomicValue32 are the types of d[key]; get_pointer()
turns a PyCapsule into an int key.  The original's AtomicArray and
DictIterator were its internals (the table over a memoryview and its
cursor) and have no counterpart here: the tables are libadict's.
"""

from ._atomic_dict import AtomicValue32, AtomicValue64, get_pointer

__all__ = ["AtomicValue32", "AtomicValue64", "get_pointer"]
