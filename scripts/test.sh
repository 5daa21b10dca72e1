#!/usr/bin/env bash
# README command 2: install what is missing, build everything (Release, warnings as errors) and run every test.
# Exits non-zero on any failure. Extra arguments go to ctest (e.g. `-L unit`, `-R e2e_auth`).
# The tests start their own PostgreSQL clusters; nothing needs to run beforehand. TODO_BUILD_DIR overrides build/.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
build="${TODO_BUILD_DIR:-$root/build}"

bash scripts/deps.sh
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTODO_WERROR=ON -DBUILD_TESTING=ON >/dev/null
cmake --build "$build" -j"$(nproc)"
ctest --test-dir "$build" --output-on-failure --no-tests=error -j2 "$@"
