# SPDX-License-Identifier: MIT
"""Type stubs of atomic_dict (the _atomic_dict C extension)."""

from collections.abc import Iterable, Iterator, Sequence
from types import TracebackType
from typing import Literal, Protocol, TypedDict, TypeVar, final, overload

from . import capi as capi

__version__: str
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

DEVICE_PATH: str
CAPACITY_MAX: int
NAME_MAX: int
GRANT_ALL: int
GRANT_READ: int
OP_LOAD: int
OP_STORE: int
OP_SWAP: int
OP_ADD: int
OP_SUB: int
OP_AND: int
OP_OR: int
OP_XOR: int
OP_CAS: int
OP_INSERT: int
OP_FIND: int

_T = TypeVar("_T")
_Table = TypeVar("_Table", bound="_TableBase")
_Backend = Literal["auto", "memfd", "device"]
# A key: an int for a one-word table, or a tuple of one int per key word.
_Key = int | tuple[int, ...]

class _HasFileno(Protocol):
    def fileno(self) -> int: ...

class Error(Exception):
    """Base class of the errors atomic_dict defines."""

class TableFullError(Error, ValueError):
    """A new key did not fit: the table already holds max_entries keys."""

class KernelModuleNotLoadedError(Error, OSError):
    """/dev/atomic_dict is absent (errno ENODEV): `modprobe atomic_dict`."""

class _TableInfo(TypedDict):
    capacity: int
    k64: int
    k32: int
    v64: int
    v32: int
    buckets: int
    bytes: int
    used: int
    backend: Literal["memfd", "device"]
    access: Literal["readwrite", "readonly", "mediated"]
    name: str | None
    id: int | None
    uid: int | None
    gid: int | None
    mode: int | None
    grant: int | None
    users: int | None

# Typing only: at run time the two value types share these methods but no
# base class.
class _AtomicValueBase:
    @property
    def key(self) -> int: ...
    @property
    def table(self) -> AtomicDict: ...
    def load(self) -> int: ...
    def store(self, value: int) -> int: ...
    def swap(self, value: int) -> int: ...
    def add(self, delta: int = 1) -> int: ...
    def sub(self, delta: int = 1) -> int: ...
    def band(self, mask: int) -> int: ...
    def bor(self, mask: int) -> int: ...
    def bxor(self, mask: int) -> int: ...
    def cas(self, expected: int, desired: int) -> int: ...
    def __int__(self) -> int: ...
    def __index__(self) -> int: ...
    def __bool__(self) -> bool: ...
    def __eq__(self, other: object) -> bool: ...
    def __ne__(self, other: object) -> bool: ...
    def __lt__(self, other: int | _AtomicValueBase) -> bool: ...
    def __le__(self, other: int | _AtomicValueBase) -> bool: ...
    def __gt__(self, other: int | _AtomicValueBase) -> bool: ...
    def __ge__(self, other: int | _AtomicValueBase) -> bool: ...
    __hash__: None  # type: ignore[assignment]

@final
class AtomicValue64(_AtomicValueBase):
    """d[key]: the shared 64-bit value of one key; every method is one atomic op."""

@final
class AtomicValue32(_AtomicValueBase):
    """The 32-bit value of a table with v32=1; wraps modulo 2**32."""

AtomicValue = AtomicValue64

# Typing only: at run time AtomicDict and AtomicSet share these methods
# but no base class.
class _TableBase:
    @classmethod
    def attach(
        cls: type[_Table], name: str, *, readonly: bool = False, mediated: bool = False
    ) -> _Table: ...
    @classmethod
    def from_fd(cls: type[_Table], fd: int | _HasFileno, /) -> _Table: ...
    def fileno(self) -> int: ...
    @property
    def closed(self) -> bool: ...
    @property
    def name(self) -> str | None: ...
    @property
    def capacity(self) -> int: ...
    def close(self) -> None: ...
    def info(self) -> _TableInfo: ...
    def keys(self) -> Iterator[int]: ...
    def __len__(self) -> int: ...
    def __contains__(self, key: object) -> bool: ...
    def __reduce__(self) -> tuple[object, ...]: ...
    def __enter__(self: _Table) -> _Table: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Literal[False]: ...

class AtomicDict(_TableBase):
    """Lock-free shared table of keys (each word non-zero) to values."""

    def __init__(
        self,
        max_entries: int,
        k64: int = 1,
        k32: int = 0,
        v64: int = 1,
        v32: int = 0,
        *,
        name: str | None = None,
        mode: int = 0o600,
        grant: int = 0,
        backend: _Backend | None = None,
    ) -> None: ...
    def __getitem__(self, key: _Key) -> AtomicValue64 | AtomicValue32: ...
    def __setitem__(self, key: _Key, value: int) -> None: ...
    def __delitem__(self, key: _Key) -> None: ...  # always TypeError
    def __iter__(self) -> Iterator[tuple[tuple[int, ...], int]]: ...
    def items(self) -> Iterator[tuple[int, int]]: ...
    def values(self) -> Iterator[int]: ...
    def load(self, key: _Key) -> int: ...
    @overload
    def find(self, key: _Key) -> int | None: ...
    @overload
    def find(self, key: _Key, default: _T) -> int | _T: ...
    def store(self, key: _Key, value: int) -> int: ...
    def swap(self, key: _Key, value: int) -> int: ...
    def add(self, key: _Key, delta: int = 1) -> int: ...
    def sub(self, key: _Key, delta: int = 1) -> int: ...
    def band(self, key: _Key, mask: int) -> int: ...
    def bor(self, key: _Key, mask: int) -> int: ...
    def bxor(self, key: _Key, mask: int) -> int: ...
    def cas(self, key: _Key, expected: int, desired: int) -> int: ...
    def insert(self, key: _Key) -> bool: ...
    def add_many(self, keys: Iterable[_Key], delta: int | Sequence[int] = 1) -> list[int]: ...
    def load_many(self, keys: Iterable[_Key]) -> list[int]: ...

class AtomicSet(_TableBase):
    """Lock-free shared set of keys (each word non-zero)."""

    def __init__(
        self,
        max_entries: int,
        k64: int = 1,
        k32: int = 0,
        *,
        name: str | None = None,
        mode: int = 0o600,
        grant: int = 0,
        backend: _Backend | None = None,
    ) -> None: ...
    def add(self, key: _Key) -> bool: ...
    def add_many(self, keys: Iterable[_Key]) -> list[bool]: ...
    def __iter__(self) -> Iterator[tuple[tuple[int, ...], bool]]: ...

def unlink(name: str, /) -> None: ...
