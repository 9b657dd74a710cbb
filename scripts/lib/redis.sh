# shellcheck shell=bash
# Starts a throwaway Redis for the test suite.
#
# Source this file, then:
#   redis_install   # installs redis-server from Debian's packages when it is missing
#   redis_start     # starts it on a free loopback port and exports STOCKROOM_TEST_REDIS_URL
#   redis_stop      # stops it and removes its directory
#
# The server keeps nothing on disk (no RDB snapshots, no AOF), listens on 127.0.0.1 only and lives
# in its own temporary directory, so runs never share state and leave nothing behind.

REDIS_PID=""
REDIS_DIR=""
REDIS_PORT=""

redis_install() {
    if command -v redis-server >/dev/null 2>&1; then
        return 0
    fi
    echo "redis: installing redis-server" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq redis-server >/dev/null
    command -v redis-server >/dev/null 2>&1 || {
        echo "redis: redis-server is still missing after installation" >&2
        return 1
    }
}

# Prints a TCP port on 127.0.0.1 that nothing listens on right now.
redis_free_port() {
    local port
    for _ in $(seq 1 50); do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/${port}") 2>/dev/null; then
            echo "${port}"
            return 0
        fi
    done
    echo "redis: no free port found" >&2
    return 1
}

redis_start() {
    if [ -n "${REDIS_PID}" ]; then
        echo "redis: already running (pid ${REDIS_PID})" >&2
        return 0
    fi
    REDIS_PORT="$(redis_free_port)" || return 1
    REDIS_DIR="$(mktemp -d -t stockroom-redis.XXXXXX)" || return 1
    redis-server --port "${REDIS_PORT}" --bind 127.0.0.1 --dir "${REDIS_DIR}" \
        --save '' --appendonly no --daemonize no \
        --logfile "${REDIS_DIR}/redis.log" &
    REDIS_PID=$!

    local i
    for i in $(seq 1 100); do
        if redis-cli -h 127.0.0.1 -p "${REDIS_PORT}" ping 2>/dev/null | grep -q PONG; then
            export STOCKROOM_TEST_REDIS_URL="redis://127.0.0.1:${REDIS_PORT}"
            echo "redis: ready at ${STOCKROOM_TEST_REDIS_URL} (pid ${REDIS_PID})" >&2
            return 0
        fi
        if ! kill -0 "${REDIS_PID}" 2>/dev/null; then
            break
        fi
        sleep 0.1
    done
    echo "redis: failed to start; log follows" >&2
    cat "${REDIS_DIR}/redis.log" >&2 2>/dev/null
    redis_stop
    return 1
}

redis_stop() {
    if [ -n "${REDIS_PID}" ]; then
        kill "${REDIS_PID}" 2>/dev/null
        wait "${REDIS_PID}" 2>/dev/null
    fi
    if [ -n "${REDIS_DIR}" ]; then
        rm -rf "${REDIS_DIR}"
    fi
    REDIS_PID=""
    REDIS_DIR=""
    REDIS_PORT=""
    unset STOCKROOM_TEST_REDIS_URL
}
