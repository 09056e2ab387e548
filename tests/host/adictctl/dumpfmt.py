#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""An independent implementation of Documentation/dump-format.rst, written
from the document, for the adictctl tests: it writes dumps (also broken
ones on purpose) and reads the ones adictctl writes.

  dumpfmt.py write OUT CAPACITY NAME MODE [GEOMETRY] [KEY=VALUE ...]
                                a valid version 2 dump; GEOMETRY is
                                key=u64,u32 and value=u64|u32|none (default
                                u64 and u64); a KEY is its words joined by
                                commas; in a set a pair is just KEY
  dumpfmt.py write1 OUT CAPACITY NAME MODE [KEY=VALUE ...]
                                a valid version 1 dump (u64 key, u64 value)
  dumpfmt.py read FILE          geometry and pairs as text (versions 1, 2)
  dumpfmt.py crccheck           CRC self-test
  dumpfmt.py corrupt IN OUT HOW a broken copy
"""
import struct
import sys

MAGIC = b"ADICTDMP"
HEADER = 128


def crc64(data, crc=0):
    """CRC-64/XZ: reflected ECMA-182 polynomial, init and xorout all ones."""
    poly = 0xC96C5795D7870F42
    crc ^= 0xFFFFFFFFFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFFFFFFFFFF


DEFAULT = (1, 0, 8)     # key64, key32, value_bytes


def header(capacity, count, name, mode, grant=0, flags=None, version=2,
           header_bytes=HEADER, geometry=DEFAULT):
    """Version 2 keeps the geometry in what version 1 reserves (zeros)."""
    nb = name.encode()
    if flags is None:
        flags = 1 if nb else 0
    k64, k32, vb = geometry if version == 2 else (0, 0, 0)
    h = MAGIC + struct.pack("<IIQQIIII", version, header_bytes, capacity,
                            count, mode, grant, flags, k64)
    h += nb.ljust(64, b"\0") + struct.pack("<II", k32, vb)
    assert len(h) == 120
    return h + struct.pack("<Q", crc64(h))


def record(key, value, geometry):
    k64, k32, vb = geometry
    assert len(key) == k64 + k32
    b = struct.pack("<%dQ%dI" % (k64, k32), *key)
    if vb:
        b += struct.pack("<Q" if vb == 8 else "<I", value)
    return b


def dump(capacity, name, mode, pairs, geometry=DEFAULT, version=2, **kw):
    """pairs: [(key tuple, value)], sorted."""
    body = header(capacity, len(pairs), name, mode, geometry=geometry,
                  version=version, **kw)
    for k, v in pairs:
        body += record(k, v, geometry if version == 2 else DEFAULT)
    return body + struct.pack("<Q", crc64(body))


def record_bytes(b):
    version = struct.unpack_from("<I", b, 8)[0]
    if version == 1:
        return 16
    k64, k32, vb = geometry_of(b)
    return 8 * k64 + 4 * k32 + vb


def geometry_of(b):
    if struct.unpack_from("<I", b, 8)[0] == 1:
        return DEFAULT
    return (struct.unpack_from("<I", b, 44)[0],) + struct.unpack_from("<II", b, 112)


def reseal(b):
    """Recompute both checksums of a (doctored) dump."""
    b = bytearray(b)
    b[120:128] = struct.pack("<Q", crc64(bytes(b[:120])))
    b[-8:] = struct.pack("<Q", crc64(bytes(b[:-8])))
    return bytes(b)


def corrupt(b, how):
    count = struct.unpack_from("<Q", b, 24)[0]
    rb = record_bytes(b)
    if how == "empty":
        return b""
    if how == "short-header":
        return b[:100]
    if how == "no-trailer":
        return b[:-8]
    if how == "half-pairs":
        return b[:HEADER + rb * (count // 2)]
    if how == "trailing":
        return b + b"\0"
    if how == "magic":
        return b"XDICTDMP" + b[8:]
    if how == "version2":   # a version 1 file that says 2: sizes disagree
        return reseal(b[:8] + struct.pack("<I", 2) + b[12:])
    if how == "version3":
        return reseal(b[:8] + struct.pack("<I", 3) + b[12:])
    if how == "geometry":   # value_bytes 2: no such row
        return reseal(b[:116] + struct.pack("<I", 2) + b[120:])
    if how == "header-bit":
        return b[:17] + bytes([b[17] ^ 4]) + b[18:]
    if how == "pair-bit":
        i = HEADER + 9
        return b[:i] + bytes([b[i] ^ 1]) + b[i + 1:]
    if how == "trailer-bit":
        return b[:-1] + bytes([b[-1] ^ 0x80])
    k64, k32, vb = geometry_of(b)
    kb = 8 * k64 + 4 * k32
    if how == "unsorted":   # valid checksums, keys out of order
        p = bytearray(b)
        a, c = HEADER, HEADER + rb
        p[a:a + rb], p[c:c + rb] = b[c:c + rb], b[a:a + rb]
        return reseal(bytes(p))
    if how == "repeated":   # valid checksums, pair 1 repeats pair 0's key
        p = bytearray(b)
        p[HEADER + rb:HEADER + rb + kb] = b[HEADER:HEADER + kb]
        return reseal(bytes(p))
    if how == "key0":
        p = bytearray(b)
        p[HEADER:HEADER + 8] = b"\0" * 8
        return reseal(bytes(p))
    if how == "last-word0":  # the last key word of pair 0 is 0
        p = bytearray(b)
        w = 4 if k32 else 8
        p[HEADER + kb - w:HEADER + kb] = b"\0" * w
        return reseal(bytes(p))
    if how == "over-capacity":  # count > capacity
        return reseal(b[:16] + struct.pack("<Q", count - 1) + b[24:])
    if how == "reserved":
        return reseal(b[:44] + b"\1" + b[45:])
    raise SystemExit("unknown corruption " + how)


def read(b):
    assert b[:8] == MAGIC, "magic"
    version, hb, cap, count = struct.unpack_from("<IIQQ", b, 8)
    assert version in (1, 2) and hb == HEADER
    assert struct.unpack_from("<Q", b, 120)[0] == crc64(b[:120]), "header crc"
    g = geometry_of(b)
    k64, k32, vb = g
    rb = record_bytes(b)
    assert len(b) == HEADER + rb * count + 8, "size"
    assert struct.unpack_from("<Q", b, len(b) - 8)[0] == crc64(b[:-8]), "crc"
    name = b[48:112].split(b"\0")[0].decode()
    mode = struct.unpack_from("<I", b, 32)[0]
    pairs = []
    for i in range(count):
        o = HEADER + rb * i
        key = struct.unpack_from("<%dQ%dI" % (k64, k32), b, o)
        o += 8 * k64 + 4 * k32
        value = 0 if not vb else struct.unpack_from("<Q" if vb == 8 else "<I", b, o)[0]
        pairs.append((key, value))
    keys = [k for k, _ in pairs]
    assert keys == sorted(set(keys)) and all(all(k) for k in keys), "order"
    return name, cap, mode, g, pairs


def parse_pairs(args, geometry):
    """KEY=VALUE (a set: KEY) arguments, KEY as words joined by commas."""
    pairs = []
    for a in args:
        k, _, v = a.partition("=")
        pairs.append((tuple(int(w, 0) for w in k.split(",")),
                      int(v, 0) if geometry[2] else 0))
    return sorted(pairs)


def parse_geometry(args):
    k64, k32, vb = DEFAULT
    rest = []
    for a in args:
        if a.startswith("key=u"):
            words = a[4:].split(",")
            k64, k32 = words.count("u64"), words.count("u32")
        elif a.startswith("value="):
            vb = {"u64": 8, "u32": 4, "none": 0}[a[6:]]
        else:
            rest.append(a)
    return (k64, k32, vb), rest


def main(argv):
    cmd = argv[1]
    if cmd == "crccheck":
        assert crc64(b"123456789") == 0x995DC9BBDF1939FA
        return
    if cmd in ("write", "write1"):
        out, cap, name, mode = argv[2], int(argv[3], 0), argv[4], int(argv[5], 8)
        g, rest = parse_geometry(argv[6:]) if cmd == "write" else (DEFAULT, argv[6:])
        pairs = parse_pairs(rest, g)
        open(out, "wb").write(dump(cap, name, mode, pairs, geometry=g,
                                   version=2 if cmd == "write" else 1))
    elif cmd == "read":
        name, cap, mode, g, pairs = read(open(argv[2], "rb").read())
        print("name=%s capacity=%d mode=%o key64=%d key32=%d value_bytes=%d count=%d"
              % ((name, cap, mode) + g + (len(pairs),)))
        for k, v in pairs:
            print(",".join(map(str, k)), v)
    elif cmd == "corrupt":
        b = open(argv[2], "rb").read()
        open(argv[3], "wb").write(corrupt(b, argv[4]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
