#!/usr/bin/env bash
# Chat parser benchmark: parses per second on one core and the per-message p50/p99 over the phrasing corpus
# (tests/unit/chat/corpus.json, 482 messages in several zones). No server and no database: the parser alone,
# pinned to one CPU with taskset when available. Figures, not assertions. Goal: ≥ 100 000 parses/s.
#
# Usage:  bash bench/chat.sh
# Environment:
#   DURATION=5      seconds of the throughput run
#   BUILD_DIR=…     build directory (default build-bench);  JOBS=2  build parallelism
#   CPU=0           the core to pin to
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build-bench}
JOBS=${JOBS:-2}
DURATION=${DURATION:-5}
CPU=${CPU:-0}

if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
fi
cmake --build "$BUILD_DIR" -j"$JOBS" --target chat_bench >/dev/null

echo "bench/chat.sh: $(nproc) CPUs, load before: $(cut -d' ' -f1-3 /proc/loadavg)"
PIN=()
if command -v taskset >/dev/null; then PIN=(taskset -c "$CPU"); fi
"${PIN[@]}" "$BUILD_DIR/bench/chat/chat_bench" "$ROOT/tests/unit/chat/corpus.json" "$DURATION"
