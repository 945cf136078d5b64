# Shared set-up for the bats suites: a fresh store and working directory
# per test, a fixed clock, and bats-support/bats-assert/bats-file.
#
# make check puts the built programs first on PATH and sets OSM_SRCDIR
# (the source tree, read-only under distcheck) and OSM_BUILDDIR.

bats_require_minimum_version 1.5.0

bats_load_library bats-support
bats_load_library bats-assert
bats_load_library bats-file

: "${OSM_SRCDIR:=$(cd "$BATS_TEST_DIRNAME/.." && pwd)}"
: "${OSM_BUILDDIR:=$OSM_SRCDIR}"
export OSM_SRCDIR OSM_BUILDDIR
FIXTURES=$OSM_SRCDIR/tests/fixtures
EXAMPLES=$OSM_SRCDIR/examples

setup() {
    cd "$BATS_TEST_TMPDIR" || return 1
    export OSM_DB=$BATS_TEST_TMPDIR/osm.db
    export OSM_NOW=2026-11-26T10:00:00Z
    unset OSM_CONFIG
    export OSM_SIM_DIR=$BATS_TEST_TMPDIR/sim
}

# A copy of a cartridge directory that a test may change.
copy_cartridge() {
    cp -R "$1" "$BATS_TEST_TMPDIR/${2:-$(basename "$1")}"
    chmod -R u+w "$BATS_TEST_TMPDIR/${2:-$(basename "$1")}"
}

# Run a query against the store (read-only inspection of outcomes).
sql() {
    sqlite3 -batch -noheader "$OSM_DB" "$1"
}

# Every line of $output that is JSON, filtered by a jq program.
jq_output() {
    printf '%s\n' "$output" | jq -c "$@"
}
