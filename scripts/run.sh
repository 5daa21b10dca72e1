#!/usr/bin/env bash
# README command 1: install what is missing, build (Release) and run the server on its embedded defaults.
# With no DATABASE_URL a private PostgreSQL cluster is started (scripts/pg-embedded.sh; stop it with
# `bash scripts/pg-embedded.sh stop`); with no TODO_JWT_SECRET one is generated once into .data/jwt_secret.
# Arguments go to `todo-server serve` (see `build/todo-server --help`). TODO_BUILD_DIR overrides build/.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
build="${TODO_BUILD_DIR:-$root/build}"

bash scripts/deps.sh
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target todo-server -j"$(nproc)"

if [[ -z ${DATABASE_URL:-} ]]; then
  bash scripts/pg-embedded.sh start
  DATABASE_URL="$(bash scripts/pg-embedded.sh url)"
  export DATABASE_URL
fi

if [[ -z ${TODO_JWT_SECRET:-} ]]; then
  secret_file="$root/.data/jwt_secret"
  if [[ ! -s $secret_file ]]; then
    mkdir -p "$root/.data"
    (umask 077 && head -c32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' >"$secret_file")
  fi
  chmod 600 "$secret_file"
  TODO_JWT_SECRET="$(cat "$secret_file")"
  export TODO_JWT_SECRET
fi

exec "$build/todo-server" serve "$@"
