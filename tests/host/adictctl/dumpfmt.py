#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""An independent implementation of Documentation/dump-format.rst, written
from the document, for the adictctl tests: it writes dumps (also broken
ones on purpose) and reads the ones adictctl writes.

  dumpfmt.py write OUT CAPACITY NAME MODE [KEY=VALUE ...]   a valid dump
  dumpfmt.py read FILE                                     pairs as text
  dumpfmt.py crccheck                                      CRC self-test
  dumpfmt.py corrupt IN OUT HOW                             a broken copy
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


def header(capacity, count, name, mode, grant=0, flags=None, version=1,
           header_bytes=HEADER, reserved=0):
    nb = name.encode()
    if flags is None:
        flags = 1 if nb else 0
    h = MAGIC + struct.pack("<IIQQIIII", version, header_bytes, capacity,
                            count, mode, grant, flags, reserved)
    h += nb.ljust(64, b"\0") + b"\0" * 8
    assert len(h) == 120
    return h + struct.pack("<Q", crc64(h))


def dump(capacity, name, mode, pairs, **kw):
    body = header(capacity, len(pairs), name, mode, **kw)
    for k, v in pairs:
        body += struct.pack("<QQ", k, v)
    return body + struct.pack("<Q", crc64(body))


def reseal(b):
    """Recompute both checksums of a (doctored) dump."""
    b = bytearray(b)
    b[120:128] = struct.pack("<Q", crc64(bytes(b[:120])))
    b[-8:] = struct.pack("<Q", crc64(bytes(b[:-8])))
    return bytes(b)


def corrupt(b, how):
    count = struct.unpack_from("<Q", b, 24)[0]
    if how == "empty":
        return b""
    if how == "short-header":
        return b[:100]
    if how == "no-trailer":
        return b[:-8]
    if how == "half-pairs":
        return b[:HEADER + 16 * (count // 2)]
    if how == "trailing":
        return b + b"\0"
    if how == "magic":
        return b"XDICTDMP" + b[8:]
    if how == "version2":
        return reseal(b[:8] + struct.pack("<I", 2) + b[12:])
    if how == "header-bit":
        return b[:17] + bytes([b[17] ^ 4]) + b[18:]
    if how == "pair-bit":
        i = HEADER + 9
        return b[:i] + bytes([b[i] ^ 1]) + b[i + 1:]
    if how == "trailer-bit":
        return b[:-1] + bytes([b[-1] ^ 0x80])
    if how == "unsorted":   # valid checksums, keys out of order
        p = bytearray(b)
        a, c = HEADER, HEADER + 16
        p[a:a + 16], p[c:c + 16] = b[c:c + 16], b[a:a + 16]
        return reseal(bytes(p))
    if how == "repeated":   # valid checksums, pair 1 repeats pair 0's key
        p = bytearray(b)
        p[HEADER + 16:HEADER + 24] = b[HEADER:HEADER + 8]
        return reseal(bytes(p))
    if how == "key0":
        p = bytearray(b)
        p[HEADER:HEADER + 8] = b"\0" * 8
        return reseal(bytes(p))
    if how == "over-capacity":  # count > capacity
        return reseal(b[:16] + struct.pack("<Q", count - 1) + b[24:])
    if how == "reserved":
        return reseal(b[:44] + b"\1" + b[45:])
    raise SystemExit("unknown corruption " + how)


def read(b):
    assert b[:8] == MAGIC, "magic"
    version, hb, cap, count = struct.unpack_from("<IIQQ", b, 8)
    assert version == 1 and hb == HEADER
    assert struct.unpack_from("<Q", b, 120)[0] == crc64(b[:120]), "header crc"
    assert len(b) == HEADER + 16 * count + 8, "size"
    assert struct.unpack_from("<Q", b, len(b) - 8)[0] == crc64(b[:-8]), "crc"
    name = b[48:112].split(b"\0")[0].decode()
    mode = struct.unpack_from("<I", b, 32)[0]
    pairs = [struct.unpack_from("<QQ", b, HEADER + 16 * i) for i in range(count)]
    keys = [k for k, _ in pairs]
    assert keys == sorted(set(keys)) and 0 not in keys, "order"
    return name, cap, mode, pairs


def main(argv):
    cmd = argv[1]
    if cmd == "crccheck":
        assert crc64(b"123456789") == 0x995DC9BBDF1939FA
        return
    if cmd == "write":
        out, cap, name, mode = argv[2], int(argv[3], 0), argv[4], int(argv[5], 8)
        pairs = sorted((int(k, 0), int(v, 0)) for k, v in
                       (a.split("=") for a in argv[6:]))
        open(out, "wb").write(dump(cap, name, mode, pairs))
    elif cmd == "read":
        name, cap, mode, pairs = read(open(argv[2], "rb").read())
        print("name=%s capacity=%d mode=%o count=%d" % (name, cap, mode, len(pairs)))
        for k, v in pairs:
            print(k, v)
    elif cmd == "corrupt":
        b = open(argv[2], "rb").read()
        open(argv[3], "wb").write(corrupt(b, argv[4]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
