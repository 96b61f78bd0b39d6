#!/usr/bin/env bash
# Drops the PostgreSQL databases earlier test runs left behind. Each PostgreSQL test makes its own
# `fd_test_<uuid>` database (crates/store/src/testing.rs) and nothing drops it when the test
# process ends, so every `make test` left ~80 of them (~10 MB each). Run before the tests, never
# during: a database still in use by another test run would be dropped under it.
set -euo pipefail
url="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
if ! command -v psql >/dev/null; then
    echo "psql not found; leaving old test databases" >&2
    exit 0
fi
names=$(psql "$url" -Atc "SELECT datname FROM pg_database WHERE datname LIKE 'fd\_test\_%'")
for name in $names; do
    psql "$url" -qc "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)"
done
echo "dropped $(echo "$names" | grep -c . || true) test databases left by earlier runs"
