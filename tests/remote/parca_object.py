#!/usr/bin/env python3
"""Checks one object in a Parca filesystem bucket: its metadata (protojson)
says STATE_UPLOADED and records as the upload's hash what Parca's own pkg/hash
computes for the stored bytes (xxhash64, 16 hex digits; computed here, not
taken from the uploader). Prints the reason and exits 1 otherwise.
Usage: parca_object.py METADATA OBJECT
       parca_object.py --hash FILE   (prints the hash)"""
import json
import struct
import sys

M = (1 << 64) - 1
P1 = 11400714785074694791
P2 = 14029467366897019727
P3 = 1609587929392839161
P4 = 9650029242287828579
P5 = 2870177450012600261


def rotl(x, r):
    return ((x << r) | (x >> (64 - r))) & M


def rnd(acc, lane):
    return (rotl((acc + lane * P2) & M, 31) * P1) & M


def merge(h, v):
    return (((h ^ rnd(0, v)) * P1) + P4) & M


def xxh64(data, seed=0):
    n = len(data)
    i = 0
    if n >= 32:
        v1, v2, v3, v4 = (seed + P1 + P2) & M, (seed + P2) & M, seed, (seed - P1) & M
        unpack = struct.Struct("<4Q").unpack_from
        while i + 32 <= n:
            a, b, c, d = unpack(data, i)
            v1, v2, v3, v4 = rnd(v1, a), rnd(v2, b), rnd(v3, c), rnd(v4, d)
            i += 32
        h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) & M
        for v in (v1, v2, v3, v4):
            h = merge(h, v)
    else:
        h = (seed + P5) & M
    h = (h + n) & M
    while i + 8 <= n:
        h ^= rnd(0, struct.unpack_from("<Q", data, i)[0])
        h = (rotl(h, 27) * P1 + P4) & M
        i += 8
    if i + 4 <= n:
        h ^= (struct.unpack_from("<I", data, i)[0] * P1) & M
        h = (rotl(h, 23) * P2 + P3) & M
        i += 4
    while i < n:
        h ^= (data[i] * P5) & M
        h = (rotl(h, 11) * P1) & M
        i += 1
    h ^= h >> 33
    h = (h * P2) & M
    h ^= h >> 29
    h = (h * P3) & M
    h ^= h >> 32
    return "%016x" % h


def main():
    if sys.argv[1] == "--hash":
        with open(sys.argv[2], "rb") as f:
            print(xxh64(f.read()))
        return 0
    with open(sys.argv[1]) as f:
        upload = json.load(f).get("upload", {})
    with open(sys.argv[2], "rb") as f:
        want = xxh64(f.read())
    if upload.get("state") != "STATE_UPLOADED":
        print("  %s: state %s, not STATE_UPLOADED" % (sys.argv[1], upload.get("state")))
        return 1
    if upload.get("hash") != want:
        print("  %s: hash %s, the object's is %s" % (sys.argv[1], upload.get("hash"), want))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
