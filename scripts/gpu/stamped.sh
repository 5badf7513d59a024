#!/usr/bin/env bash
# Runs a command with every output line (carriage-return progress lines too) prefixed by the
# seconds since it started: where a long command's time goes, without a profiler.
set -o pipefail
"$@" 2>&1 | python3 -u -c '
import sys, time
t0, line = time.time(), b""
while True:
    c = sys.stdin.buffer.read1(1) if hasattr(sys.stdin.buffer, "read1") else sys.stdin.buffer.read(1)
    if not c:
        break
    for b in c:
        if b in (10, 13):
            if line:
                text = line.decode("utf-8", "replace")
                print(f"{time.time() - t0:8.2f} {text}", flush=True)
            line = b""
        else:
            line += bytes([b])
if line:
    text = line.decode("utf-8", "replace")
    print(f"{time.time() - t0:8.2f} {text}")
'
