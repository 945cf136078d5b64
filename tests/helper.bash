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

# The backend the stores of the tests live in: sqlite (a file per test),
# or postgresql (OSM_TEST_BACKEND=postgresql, as make check-postgresql
# sets it: a schema per test in the database the PG* variables name).
backend=${OSM_TEST_BACKEND:-sqlite}
case $backend in
sqlite | postgresql) ;;
*) echo "OSM_TEST_BACKEND: no such backend: $backend (sqlite or postgresql)" >&2; return 1 ;;
esac

# Point OSM_DB at a fresh, empty store for this test: osm.db in the
# test's directory, or on PostgreSQL a new schema, unique to this test,
# that the store's URI puts first on the search_path (osm_teardown drops
# it). Files whose setup() is their own call this instead of the
# helper's setup.
osm_store() {
    if [ "$backend" = sqlite ]; then
        export OSM_DB=$BATS_TEST_TMPDIR/osm.db
        return 0
    fi
    OSM_TEST_SCHEMA=t_$$_${BATS_SUITE_TEST_NUMBER}_$RANDOM
    # other users of a test connect as role osm_other (tests/pg-server),
    # which may use the store but does not own it
    psql -XAtq -v ON_ERROR_STOP=1 -c "CREATE SCHEMA $OSM_TEST_SCHEMA" \
        -c "GRANT USAGE ON SCHEMA $OSM_TEST_SCHEMA TO osm_other" \
        -c "ALTER DEFAULT PRIVILEGES IN SCHEMA $OSM_TEST_SCHEMA GRANT ALL ON TABLES TO osm_other" \
        -c "ALTER DEFAULT PRIVILEGES IN SCHEMA $OSM_TEST_SCHEMA GRANT ALL ON SEQUENCES TO osm_other" \
        >/dev/null || return 1
    export OSM_DB="postgresql:///$PGDATABASE?options=-csearch_path%3D$OSM_TEST_SCHEMA"
    # the cartridge trees of a PostgreSQL store go to the cache directory
    export XDG_CACHE_HOME=$BATS_TEST_TMPDIR/cache
}

# Drop the schema osm_store made, with whatever the test left in it; a
# program the test left running in a transaction fails it after 10 s
# instead of hanging the suite.
osm_teardown() {
    [ -n "${OSM_TEST_SCHEMA:-}" ] || return 0
    psql -XAtq -v ON_ERROR_STOP=1 -c "SET lock_timeout = '10s'" \
        -c "DROP SCHEMA $OSM_TEST_SCHEMA CASCADE" >/dev/null
    OSM_TEST_SCHEMA=
}

# The helper's own setup, for files that add to it.
osm_setup() {
    cd "$BATS_TEST_TMPDIR" || return 1
    osm_store || return 1
    export OSM_NOW=2026-11-26T10:00:00Z
    unset OSM_CONFIG
    export OSM_SIM_DIR=$BATS_TEST_TMPDIR/sim
}

setup() {
    osm_setup
}

teardown() {
    osm_teardown
}

# Skip this test unless the stores are SQLite files: for tests about the
# file itself (its permissions, its -wal and -shm files, its bytes, the
# sqlite3 program), which have no counterpart on PostgreSQL.
require_sqlite() {
    [ "$backend" = sqlite ] || skip "SQLite only: $1"
}

# as USER CMD...: run a command as another user who may write the store
# (but does not own it: on PostgreSQL it connects as role osm_other), with
# OSM_CONFIG passed on when set
as() {
    local user=$1; shift
    [ "$(id -u)" = 0 ] || skip "acting as another user needs root"
    chmod 777 "$BATS_TEST_TMPDIR"
    local d=$BATS_TEST_TMPDIR
    while [ "$d" != / ] && [ "$d" != /tmp ]; do chmod a+x "$d"; d=$(dirname "$d"); done
    for f in "$OSM_DB" "$OSM_DB-wal" "$OSM_DB-shm"; do [ -e "$f" ] && chmod 666 "$f"; done
    runuser -u "$user" -- env PATH="$PATH" OSM_DB="$OSM_DB" OSM_NOW="$OSM_NOW" ${PGHOST:+PGHOST="$PGHOST"} ${PGPORT:+PGPORT="$PGPORT"} ${PGUSER:+PGUSER=osm_other} \
        ${PGDATABASE:+PGDATABASE="$PGDATABASE"} \
        ${OSM_CONFIG:+OSM_CONFIG="$OSM_CONFIG"} "$@"
}

# A copy of a cartridge directory that a test may change.
copy_cartridge() {
    cp -R "$1" "$BATS_TEST_TMPDIR/${2:-$(basename "$1")}"
    chmod -R u+w "$BATS_TEST_TMPDIR/${2:-$(basename "$1")}"
}

# Run a query against the store (read-only inspection of outcomes), its
# rows printed as sqlite3 prints them: columns joined by |, NULL empty.
# Only the last result of several statements is printed on PostgreSQL.
sql() {
    if [[ $OSM_DB == postgres://* || $OSM_DB == postgresql://* ]]; then
        psql -XAtq -v ON_ERROR_STOP=1 "$OSM_DB" -c "$1"
    else
        sqlite3 -batch -noheader "$OSM_DB" "$1"
    fi
}

# sql QUERY | json_rows N JQ: for the rows of a query whose N first
# columns are plain values and whose last is a JSON text (which may hold
# '|' itself), the plain columns followed by what the jq program JQ makes
# of the JSON text, printed as SQLite's json_extract prints a value (true
# and false as 1 and 0, null as nothing, an array or object as JSON
# text): the portable stand-in for json_extract, which PostgreSQL lacks.
# For several values, JQ makes the text itself: [.a, .b] | map(sqlv) |
# join("|") prints them as sqlite3 prints columns.
json_rows() {
    local n=$1 prog=$2 line head rest i
    while IFS= read -r line; do
        head= rest=$line
        for ((i = 0; i < n; i++)); do head+=${rest%%|*}'|'; rest=${rest#*|}; done
        printf '%s%s\n' "$head" "$(jq -r 'def sqlv: if . == true then 1 elif . == false then 0
            elif . == null then "" elif type == "array" or type == "object" then tojson else . end;
            '"$prog"' | sqlv' <<<"$rest")"
    done
}

# The milliseconds since the epoch of a UTC date or instant, as stores keep
# them (for SQLite's strftime('%s', ...) * 1000, which PostgreSQL lacks).
epoch_ms() {
    echo "$(($(date -u -d "$1" +%s) * 1000))"
}

# Every line of $output that is JSON, filtered by a jq program.
jq_output() {
    printf '%s\n' "$output" | jq -c "$@"
}
