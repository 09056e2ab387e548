# SPDX-License-Identifier: MIT
"""Type stubs of atomic_dict.capi: the original package's C module names."""

from . import AtomicValue32 as AtomicValue32, AtomicValue64 as AtomicValue64

__all__ = ["AtomicValue32", "AtomicValue64", "get_pointer"]

def get_pointer(capsule: object, /) -> int: ...
