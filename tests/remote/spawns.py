#!/usr/bin/env python3
"""Reads a Bazel execution log (--execution_log_json_file: a stream of
SpawnExec JSON objects) and prints one line per executed spawn:
MNEMONIC RUNNER HIT, where HIT is "hit" for a remote cache hit and "run"
otherwise. With OUTPUT, only the spawns one of whose listed outputs has OUTPUT
in its path. Usage: spawns.py LOG [MNEMONIC [OUTPUT]]"""
import json
import sys


def spawns(text):
    dec = json.JSONDecoder()
    i = 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return
        obj, i = dec.raw_decode(text, i)
        yield obj


def main():
    with open(sys.argv[1]) as f:
        text = f.read()
    want = sys.argv[2] if len(sys.argv) > 2 else None
    output = sys.argv[3] if len(sys.argv) > 3 else None
    for s in spawns(text):
        m = s.get("mnemonic", "")
        if want and m != want:
            continue
        if output and not any(output in o for o in s.get("listedOutputs", [])):
            continue
        hit = "hit" if s.get("remoteCacheHit") else "run"
        print(m, s.get("runner", "").replace(" ", "-") or "-", hit)


if __name__ == "__main__":
    main()
