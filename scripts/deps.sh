#!/usr/bin/env bash
# Installs the Debian bookworm packages the build, the server and the tests need.
# Idempotent and quiet when everything is already present.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config clang-format git ca-certificates
  libboost1.81-dev libpqxx-dev libpq-dev nlohmann-json3-dev libspdlog-dev libfmt-dev
  librdkafka-dev libsodium-dev libjwt-dev libcurl4-openssl-dev libjemalloc-dev
  libhowardhinnant-date-dev tzdata libicu-dev
  libgtest-dev libgmock-dev
  postgresql postgresql-contrib
  python3 curl wrk prometheus
  python3-jsonschema python3-dateutil kcat
  python3-aiosmtpd openssl
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
