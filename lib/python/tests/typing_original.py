# SPDX-License-Identifier: MIT
"""Code written for the original atomic_dict 0.5 API, for mypy --strict.

typecheck.sh checks this file and the original's own programs (original/)
against atomic_dict's stubs; it is type-checked, not run.  It uses only
what the original offered, the way its README and stub (capi.pyi) show.
"""

import multiprocessing

from atomic_dict import AtomicDict, AtomicSet
from atomic_dict.capi import AtomicValue32, AtomicValue64, get_pointer


def tickets(d: AtomicDict, n: int) -> list[int]:
    out = []
    for _ in range(n):
        out.append(d[1].add(1))
    return out


def every_operation(d: AtomicDict) -> int:
    v = d[7]
    v.store(5)
    x: int = v.load()
    x += v.swap(1) + v.add(2) + v.sub(1) + v.band(3) + v.bor(4) + v.bxor(5)
    x += v.cas(6, 7)
    d[8] = x
    d[(9,)] = 1
    if isinstance(v, AtomicValue64):
        x += 1
    elif isinstance(v, AtomicValue32):
        x += 2
    return x


def rows(d: AtomicDict) -> dict[tuple[int, ...], int]:
    out: dict[tuple[int, ...], int] = {}
    for (key, val) in d:
        out[key] = val
    return out


def composite(n: int) -> None:
    # The original's geometries, positional as in its signature.
    wide = AtomicDict(n, 2, 1, 0, 1)
    wide[(1, 2, 3)].add(1)
    seen = AtomicSet(n, 1, 1)
    new: bool = seen.add((4, 5))
    flag = AtomicSet(n)
    again: bool = flag.add(6)
    assert new or again


def pointer_key(d: AtomicDict, capsule: object) -> int:
    return d[get_pointer(capsule)].load()


if __name__ == "__main__":
    table = AtomicDict(1024 * 1024)
    context = multiprocessing.get_context("fork")
    with context.Pool(2) as p:
        p.starmap(tickets, [(table, 10)] * 2)
    print(every_operation(table), rows(table))
