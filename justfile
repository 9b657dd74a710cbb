# Stockroom tasks. `just` lists them.

default:
    @just --list

# Serve the API with the embedded SQLite store at ./data/.
run:
    cargo run --release

# Every test, installing and starting the servers tests need.
test *ARGS:
    ./scripts/test.sh {{ARGS}}

fmt:
    cargo fmt --all

lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

# Regenerate openapi/openapi.json from the code.
openapi:
    cargo run -q -p api -- openapi > openapi/openapi.json

# What CI runs.
ci:
    ./.ci/run
