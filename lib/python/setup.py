# SPDX-License-Identifier: MIT
"""The atomic_dict._atomic_dict extension (metadata: pyproject.toml).

The extension compiles its own copy of libadict's sources, so the
distribution needs no installed libadict.  The copy is libadict/ next to
this file in the staged build tree of make python-wheel; in the repository
itself (an in-tree build, such as Debian's pybuild runs) the sources are
read where they live (lib/, uapi/).
"""

import os

from setuptools import Extension, setup

HERE = os.path.dirname(os.path.abspath(__file__))
COPY = "libadict"

# libadict's files: path inside the copy -> path in the repository.
LIBADICT = {
    "adict.c": "../adict.c",
    "adict-uring.c": "../adict-uring.c",
    "adict-internal.h": "../adict-internal.h",
    "include/adict.h": "../include/adict.h",
    "include/adict/core.h": "../include/adict/core.h",
    "include/adict/atomics.h": "../include/adict/atomics.h",
    "include/adict/hash.h": "../include/adict/hash.h",
    # A symlink to uapi/linux/atomic_dict.h in the repository; the copy
    # holds the file itself.
    "include/adict/atomic_dict.h": "../include/adict/atomic_dict.h",
    "uapi/linux/atomic_dict.h": "../../uapi/linux/atomic_dict.h",
}


def libadict_path(name):
    """The file as this tree has it: the copy if there is one."""
    if os.path.isdir(os.path.join(HERE, COPY)):
        return os.path.join(COPY, name)
    return os.path.normpath(LIBADICT[name])


# io_uring batches need Debian's liburing-dev, as in the Makefile.
uring = os.path.exists("/usr/include/liburing.h")

setup(
    ext_modules=[
        Extension(
            "atomic_dict._atomic_dict",
            sources=["_atomic_dict.c", libadict_path("adict.c"),
                     libadict_path("adict-uring.c")],
            include_dirs=[os.path.dirname(libadict_path("adict-internal.h")) or ".",
                          os.path.dirname(libadict_path("include/adict.h")),
                          os.path.dirname(os.path.dirname(
                              libadict_path("uapi/linux/atomic_dict.h")))],
            define_macros=[("_GNU_SOURCE", None), ("ADICT_API", "")] +
                          ([("ADICT_HAVE_LIBURING", None)] if uring else []),
            extra_compile_args=["-std=gnu11", "-O2", "-fvisibility=hidden"],
            libraries=["uring"] if uring else [],
        )
    ],
)
