#!/usr/bin/env bash
# Runs every test of Stockroom: unit, contract (SQLite, MongoDB, Redis), API races and
# Socket.IO — installing and starting what the tests need when it is missing, and stopping what it
# started on exit.
#
#   ./scripts/test.sh                 # everything
#   ./scripts/test.sh -p api          # extra arguments go to `cargo test`
#
# MongoDB tests run against SecantusDB (a MongoDB-wire-compatible single-node replica set, run as a
# separate process), built once into $STOCKROOM_TOOLS (default ~/.cache/stockroom-tools). Redis
# comes from Debian's redis-server. With CI set, a server that cannot be installed or started fails
# the run instead of letting its suites skip.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=lib/secantus.sh
source scripts/lib/secantus.sh
# shellcheck source=lib/redis.sh
source scripts/lib/redis.sh
# shellcheck source=lib/build-deps.sh
source scripts/lib/build-deps.sh

cleanup() {
    secantus_stop || true
    redis_stop || true
}
trap cleanup EXIT INT TERM

need() {
    # $1: what, rest: command. In CI a failure is fatal; locally the dependent suites skip loudly.
    local what=$1
    shift
    if ! "$@"; then
        if [[ -n "${CI:-}" ]]; then
            echo "test.sh: $what is required in CI and could not be prepared" >&2
            exit 1
        fi
        echo "test.sh: WARNING: $what unavailable; its suites will be skipped" >&2
    fi
}

build_deps_install
need "MongoDB test server (install)" secantus_install
need "MongoDB test server (replica set)" secantus_start
need "MongoDB test server (standalone)" secantus_start --standalone
need "Redis (install)" redis_install
need "Redis" redis_start

# The compose file is checked without a Docker engine, by a script that needs PyYAML.
yaml_python() {
    local py
    for py in python3 /usr/bin/python3; do
        if "$py" -c 'import yaml' 2>/dev/null; then
            echo "$py"
            return 0
        fi
    done
    apt-get install -y -qq python3-yaml >/dev/null 2>&1 && /usr/bin/python3 -c 'import yaml' &&
        echo /usr/bin/python3
}
if py=$(yaml_python); then
    "$py" docker/check_compose.py
else
    need "PyYAML (to check docker/compose.yaml)" false
fi
cargo test --workspace --locked "$@"
