#!/usr/bin/env bats
# The HTML report in a real browser: the store of `make demo` (built by
# the same script) plus an order whose data is markup, its pages opened
# in headless Chromium (tests/browser-check), and what the browser made
# of them checked: every order there, the counts right, a node per task
# in each SVG plan, nothing run or made an element from order data, no
# request made.  Skipped when Chromium is not installed.

load helper

HOSTILE=$OSM_SRCDIR/tests/fixtures/cartridges/hostile
HOSTILE_ORDER=$OSM_SRCDIR/tests/fixtures/report/hostile.order.json

NO_BROWSER="chromium is not installed (./bootstrap installs it): the pages are not opened in a browser"

setup_file() {
    local dir=$BATS_FILE_TMPDIR
    # (this bats cannot skip from setup_file: each test skips in setup)
    command -v "${CHROMIUM:-chromium}" >/dev/null || { touch "$dir/no-browser"; return 0; }
    cd "$dir" || return 1
    mkdir demo
    sh "$OSM_SRCDIR/examples/demo.sh" "$OSM_BUILDDIR/bin" "$dir/demo" >demo.log 2>&1
    export OSM_DB=$dir/demo/osm.db OSM_NOW=2027-03-02T12:00:00Z OSM_SIM_DIR=$dir/demo/sim
    unset OSM_CONFIG
    osm-cartridge -q deploy "$HOSTILE" >/dev/null
    osm-submit --plan "$HOSTILE_ORDER" | jq .id >hostile.id
    osm-run "$(cat hostile.id)" >/dev/null
    osm-status -a --output-dir report </dev/null
    osm-status -a --format html >one.html </dev/null
    osm-status --summary >summary.json
    osm-status -a </dev/null >orders.ndjson
    "$OSM_SRCDIR/tests/browser-check" check report/*.html one.html >dom.tsv
}

setup() {
    [ ! -e "$BATS_FILE_TMPDIR/no-browser" ] || skip "$NO_BROWSER"
    cd "$BATS_FILE_TMPDIR" || return 1
    export OSM_DB=$BATS_FILE_TMPDIR/demo/osm.db OSM_NOW=2027-03-02T12:00:00Z
    unset OSM_CONFIG
}

# fact PAGE KEY: the values the browser saw for KEY on PAGE, one a line
fact() {
    awk -F '\t' -v p="$1" -v k="$2" '$1 == p && $2 == k { print $3 }' dom.tsv
}

report_pages() {
    (cd report && ls ./*.html | sed 's|^\./||') && echo one.html
}

@test "browser: the index lists every order, with the counts of --summary" {
    assert_equal "$(fact index.html title)" Orders
    assert_equal "$(fact index.html rows)" "$(jq .orders summary.json)"
    assert_equal "$(fact index.html order | tr '\n' ' ')" "$(jq -r .id orders.ndjson | tr '\n' ' ')"
    for s in $(jq -r '.byState | keys[]' summary.json); do
        assert_equal "$s $(fact index.html "state $s")" "$s $(jq ".byState.$s" summary.json)"
    done
    for c in $(jq -r '.byCartridge | keys[]' summary.json); do
        assert_equal "$c $(fact index.html "cartridge $c")" "$c $(jq ".byCartridge.$c | add" summary.json)"
    done
    assert_equal "$(fact index.html 'tile orders')" "$(jq .orders summary.json)"
    assert_equal "$(fact index.html 'tile late')" "$(jq .late summary.json)"
    assert_equal "$(fact index.html 'tile jeopardy')" "$(jq .jeopardy summary.json)"
    assert_equal "$(fact index.html 'tile fallout')" "$(jq .openFallout summary.json)"
    assert_equal "$(fact index.html attention)" "$(jq -s 'map(select(.jeopardy or (.late and .state != "completed"))) | length' orders.ndjson)"
    assert_equal "$(fact index.html fallout)" "$(jq .openFallout summary.json)"
    # the people's work: the manual tasks of the demo, the hostile order's check and its fallout
    assert_equal "$(fact index.html worklist)" "$(osm-task list --state waiting | jq -s 'length')"
    # the page of every order, in one page
    assert_equal "$(fact one.html rows)" "$(jq .orders summary.json)"
    assert_equal "$(fact one.html article | tr '\n' ' ')" "$(jq -r .id orders.ndjson | tr '\n' ' ')"
}

@test "browser: each order's page draws its plan as SVG, a node per task" {
    command -v dot >/dev/null || skip "graphviz (dot) is not installed: plans are tables"
    for id in $(jq -r .id orders.ndjson); do
        n=$(osm-plan "$id" | jq '.tasks | length')
        [ "$n" -gt 0 ]
        assert_equal "order $id: $(fact "order-$id.html" article)" "order $id: $id"
        assert_equal "order $id: $(fact "order-$id.html" "nodes $id") nodes" "order $id: $n nodes"
        assert_equal "order $id: $(fact one.html "nodes $id") nodes" "order $id: $n nodes"
        assert_equal "order $id: $(fact "order-$id.html" "tasks $id") tasks" "order $id: $n tasks"
        assert_equal "order $id: $(fact "order-$id.html" "gantt $id")" "order $id: 1"
        assert_equal "order $id: $(fact "order-$id.html" "history $id")" "order $id: closed"
    done
}

@test "browser: nothing from hostile order data ran or became markup" {
    id=$(cat hostile.id)
    assert_equal "$(fact "order-$id.html" title)" "Order $id"
    assert_equal "$(fact "order-$id.html" tag-as-text)" yes
    assert_equal "$(fact index.html tag-as-text)" yes
    for page in $(report_pages); do
        assert_equal "$page: $(fact "$page" pwned)" "$page: no"
        assert_equal "$page: $(fact "$page" imgs) images" "$page: 0 images"
        assert_equal "$page: $(fact "$page" handlers) handlers" "$page: 0 handlers"
        assert_equal "$page: $(fact "$page" embeds) embeds" "$page: 0 embeds"
        case $page in
        order-*) want=0 ;;
        *) want=1 ;;    # the filter's
        esac
        assert_equal "$page: $(fact "$page" scripts) scripts" "$page: $want scripts"
    done
}

@test "browser: no page fetches anything, nor could it" {
    for page in $(report_pages); do
        assert_equal "$page: $(fact "$page" resources) resources" "$page: 0 resources"
        assert_equal "$page: $(fact "$page" external) references" "$page: 0 references"
        assert_regex "$page: $(fact "$page" csp)" "^$page: default-src 'none'; style-src 'sha256-[A-Za-z0-9+/]{43}='; script-src 'sha256-[A-Za-z0-9+/]{43}='; base-uri 'none'; form-action 'none'\$"
    done
    # the network log saw the control page's request, and only that
    assert_equal "$(fact control.html resources)" 1
    assert_equal "$(fact - request)" "http://127.0.0.1:9/osm-control.png"
}

@test "browser: the filter script runs under the pages' policy" {
    assert_equal "$(fact index.html filter-shown)" yes
    assert_equal "$(fact index.html 'filter completed')" "$(jq .byState.completed summary.json)"
    assert_equal "$(fact state-completed.html 'filter completed')" "$(jq .byState.completed summary.json)"
    assert_equal "$(fact state-in_progress.html rows)" "$(jq .byState.in_progress summary.json)"
}
