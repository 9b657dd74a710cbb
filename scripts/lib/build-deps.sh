# shellcheck shell=bash
# System packages the build needs beyond the Rust toolchain: the Socket.IO test client links
# OpenSSL through pkg-config. Source this file, then run `build_deps_install`.

build_deps_install() {
    if command -v pkg-config >/dev/null 2>&1 && pkg-config --exists openssl 2>/dev/null; then
        return 0
    fi
    echo "build-deps: installing pkg-config and libssl-dev" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq pkg-config libssl-dev >/dev/null 2>&1 ||
        { apt-get update -qq && apt-get install -y -qq pkg-config libssl-dev >/dev/null; }
}
