# shellcheck shell=bash
# Test MongoDB server for Stockroom's storage tests: SecantusDB, a MongoDB-wire-compatible server
# that runs as a single-node replica set (so multi-document transactions work) from a plain
# directory, with no daemon setup. It is GPL-licensed, so it is only ever run as a separate
# process and never linked into Stockroom.
#
# Source this file, then:
#   secantus_install                # build or install the server once (cached under $STOCKROOM_TOOLS)
#   secantus_start                  # replica-set server   -> exports STOCKROOM_TEST_MONGO_URL
#   secantus_start --standalone     # standalone server    -> exports STOCKROOM_TEST_MONGO_STANDALONE_URL
#   secantus_stop                   # stops every server started here and removes their data
#
# Each start uses a fresh temporary storage directory and a port the server picks itself (port 0),
# so parallel runs never share state or collide on a port.

SECANTUS_VERSION_RS="0.5.3-beta.196"
SECANTUS_VERSION_PY="0.7.0b3"
# Seconds to wait for a started server to accept connections.
SECANTUS_START_TIMEOUT="${SECANTUS_START_TIMEOUT:-60}"

# Kept across a second `source`, so servers started earlier can still be stopped.
SECANTUS_RS_PID="${SECANTUS_RS_PID:-}"
SECANTUS_RS_DIR="${SECANTUS_RS_DIR:-}"
SECANTUS_STANDALONE_PID="${SECANTUS_STANDALONE_PID:-}"
SECANTUS_STANDALONE_DIR="${SECANTUS_STANDALONE_DIR:-}"

secantus__tools_dir() {
    echo "${STOCKROOM_TOOLS:-$HOME/.cache/stockroom-tools}/secantus"
}

secantus__log() {
    echo "secantus: $*" >&2
}

# The server binary to run: the Rust build if present, else the Python package's entry point.
secantus__binary() {
    local rs
    rs="$(secantus__tools_dir)/bin/secantusd-rs"
    if [[ -x "$rs" ]]; then
        echo "$rs"
    elif command -v secantusd-py >/dev/null 2>&1; then
        command -v secantusd-py
    else
        return 1
    fi
}

secantus_install() {
    local root
    root="$(secantus__tools_dir)"
    if [[ -x "$root/bin/secantusd-rs" ]]; then
        return 0
    fi
    if ! command -v cmake >/dev/null 2>&1; then
        secantus__log "installing cmake (needed to build the storage engine)"
        apt-get install -y cmake >&2 || { apt-get update >&2 && apt-get install -y cmake >&2; }
    fi
    secantus__log "building secantus-mdb $SECANTUS_VERSION_RS into $root (takes a few minutes, once)"
    if CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
        cargo install secantus-mdb --version "$SECANTUS_VERSION_RS" --locked \
        --ignore-rust-version --root "$root" >&2; then
        return 0
    fi
    secantus__log "the Rust build failed; installing the Python server SecantusDB==$SECANTUS_VERSION_PY"
    pip install "SecantusDB==$SECANTUS_VERSION_PY" >&2 || return 1
    command -v secantusd-py >/dev/null 2>&1 || {
        secantus__log "SecantusDB installed but secantusd-py is not on PATH"
        return 1
    }
}

# True once something accepts TCP connections on 127.0.0.1:$1.
secantus__accepting() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

secantus_start() {
    local standalone=""
    case "${1:-}" in
        "") ;;
        --standalone) standalone="--standalone" ;;
        *)
            secantus__log "usage: secantus_start [--standalone]"
            return 2
            ;;
    esac
    local bin dir pid port="" waited=0
    bin="$(secantus__binary)" || {
        secantus__log "no server installed; run secantus_install first"
        return 1
    }
    dir="$(mktemp -d "${TMPDIR:-/tmp}/stockroom-secantus.XXXXXX")" || return 1
    local args=(--host 127.0.0.1 --port 0 --storage-path "$dir/data" --cache-size 256M)
    # The Rust server preallocates its write-ahead log files: keep them small. The Python
    # server has no such flag.
    if [[ "$bin" == *secantusd-rs ]]; then
        args+=(--log-file-max 2MB)
    fi
    if [[ -n "$standalone" ]]; then
        args+=("$standalone")
    fi
    "$bin" "${args[@]}" >"$dir/server.log" 2>&1 &
    pid=$!
    # The server prints "... listening on 127.0.0.1:<port>" once bound.
    while ((waited < SECANTUS_START_TIMEOUT * 10)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            secantus__log "the server exited during start-up:"
            cat "$dir/server.log" >&2
            rm -rf "$dir"
            return 1
        fi
        if [[ -z "$port" ]]; then
            port="$(sed -n 's/.*listening on [^ ]*:\([0-9][0-9]*\).*/\1/p' "$dir/server.log" | head -n 1)"
        fi
        if [[ -n "$port" ]] && secantus__accepting "$port"; then
            break
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
    if [[ -z "$port" ]] || ! secantus__accepting "$port"; then
        secantus__log "the server did not accept connections within ${SECANTUS_START_TIMEOUT}s:"
        cat "$dir/server.log" >&2
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        rm -rf "$dir"
        return 1
    fi
    # directConnection: talk to this one node as it is, without replica-set discovery (the
    # server advertises itself as primary of a one-node set, so transactions still work).
    local url="mongodb://127.0.0.1:$port/?directConnection=true"
    if [[ -n "$standalone" ]]; then
        SECANTUS_STANDALONE_PID="$pid"
        SECANTUS_STANDALONE_DIR="$dir"
        export STOCKROOM_TEST_MONGO_STANDALONE_URL="$url"
        secantus__log "standalone server (pid $pid) at $url"
    else
        SECANTUS_RS_PID="$pid"
        SECANTUS_RS_DIR="$dir"
        export STOCKROOM_TEST_MONGO_URL="$url"
        secantus__log "replica-set server (pid $pid) at $url"
    fi
}

# Stops one server by pid (SIGTERM, then SIGKILL after 10 s) and removes its directory.
secantus__stop_one() {
    local pid="$1" dir="$2" waited=0
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null || true
        while kill -0 "$pid" 2>/dev/null && ((waited < 100)); do
            sleep 0.1
            waited=$((waited + 1))
        done
        if kill -0 "$pid" 2>/dev/null; then
            kill -9 "$pid" 2>/dev/null || true
        fi
        wait "$pid" 2>/dev/null || true
    fi
    if [[ -n "$dir" && -d "$dir" ]]; then
        rm -rf "$dir"
    fi
}

secantus_stop() {
    secantus__stop_one "$SECANTUS_RS_PID" "$SECANTUS_RS_DIR"
    secantus__stop_one "$SECANTUS_STANDALONE_PID" "$SECANTUS_STANDALONE_DIR"
    SECANTUS_RS_PID=""
    SECANTUS_RS_DIR=""
    SECANTUS_STANDALONE_PID=""
    SECANTUS_STANDALONE_DIR=""
    unset STOCKROOM_TEST_MONGO_URL STOCKROOM_TEST_MONGO_STANDALONE_URL
}
