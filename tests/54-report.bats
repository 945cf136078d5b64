#!/usr/bin/env bats
# osm-status --format html and --output-dir: the pages as files (what
# they hold, escaping, the directory, errors), and osm-plan --format svg.
# What a browser makes of the pages is tests/55-report-browser.bats.

load helper

RUNNER=$OSM_SRCDIR/tests/fixtures/cartridges/runner
HOSTILE=$OSM_SRCDIR/tests/fixtures/cartridges/hostile
HOSTILE_ORDER=$OSM_SRCDIR/tests/fixtures/report/hostile.order.json

setup() {
    cd "$BATS_TEST_TMPDIR" || return 1
    osm_store || return 1
    export OSM_NOW=2026-11-26T09:00:00Z OSM_TEST_DIR=$BATS_TEST_TMPDIR
    unset OSM_CONFIG
    osm-cartridge deploy "$RUNNER" >/dev/null
    osm-cartridge deploy "$HOSTILE" >/dev/null
}

# job REF SPEC...: submit and plan a runner order with one item per SPEC
job() {
    local ref=$1 items="" i=0
    shift
    for spec in "$@"; do i=$((i + 1)); items="$items${items:+,}{\"id\":\"$i\",\"spec\":\"$spec\"}"; done
    echo "{\"kind\":\"job\",\"ref\":\"$ref\",\"items\":[$items]}" | osm-submit --plan >/dev/null
}

# count PATTERN FILE: how many times the fixed string PATTERN is in FILE
count() {
    grep -oF -- "$1" "$2" | wc -l
}

has_dot() {
    command -v dot >/dev/null
}

@test "report: an order's page: states, items, plan, tasks, Gantt chart, history" {
    job J-1 A
    osm-run 1 >/dev/null
    run -0 --separate-stderr osm-status --format html 1
    assert_equal "$stderr" ""
    printf '%s\n' "$output" >page.html
    assert_line --index 0 '<!DOCTYPE html>'
    assert_line --partial "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'sha256-"
    assert_line '<title>Order 1</title>'
    assert_line '<article class="order" id="order-1" data-order="1">'
    assert_line '<h1>Order 1 – J-1</h1>'
    assert_line --partial '<dt>State</dt><dd><span class="st st-completed">completed</span></dd>'
    assert_line --partial '<dt>TMF622 state</dt><dd>completed</dd>'
    assert_line --partial '<dt>Progress</dt><dd><progress max="100" value="100">100%</progress> 5/5 tasks done</dd>'
    for h in Items Plan Tasks 'Expected and actual times' 'Order data' History; do
        assert_line "<h2>$h</h2>"
    done
    # no fallout, no earlier versions: no section for them
    refute_line '<h2>Fallout</h2>'
    refute_line '<h2>Revisions</h2>'
    assert_equal "$(count '<tr id="task-row-' page.html)" 5
    # every table has its column headers
    assert_equal "$(count '<thead><tr><th scope="col">' page.html)" "$(count '<table' page.html)"
    if has_dot; then
        assert_equal "$(count 'class="node task state&#45;completed"' page.html)" 5
        assert_line --partial '<figure class="plan scroll" id="plan-1">'
    fi
    assert_line --partial '<figure class="gantt scroll" id="gantt-1">'
    assert_equal "$(count '<rect class="bar expected"' page.html)" 5
    assert_equal "$(count '<rect class="bar actual"' page.html)" 5
    # the history, collapsed, with each hook call's request and response
    assert_line --partial '<details class="history"><summary>'
    refute_line --partial '<details class="history" open'
    assert_equal "$(count '<summary>Request and response</summary>' page.html)" "$(osm-status --history 1 | jq -s 'map(select(.type == "hook")) | length')"
    assert_line '</html>'
}

@test "report: every string of order data, an error message or a hook's output is escaped" {
    osm-submit --plan "$HOSTILE_ORDER" >/dev/null
    osm-run 1 >/dev/null
    osm-status -a --format html >one.html
    osm-status -a --output-dir pages
    for f in one.html pages/*.html; do
        # nothing from the order is markup: no element it names, no attribute it sets
        assert_equal "$f: $(count '<img' "$f")" "$f: 0"
        assert_equal "$f: $(count '<b ' "$f")" "$f: 0"
        assert_equal "$f: $(count '<svg onload' "$f")" "$f: 0"
        assert_equal "$f: $(count '<style>body' "$f")" "$f: 0"
        assert_equal "$f: $(grep -ciE '<[a-z]+ [^>]*\bon[a-z]+=' "$f")" "$f: 0"
    done
    # the one script is the filter's, on the index and its filter pages
    assert_equal "$(count '<script' one.html)" 1
    assert_equal "$(count '<script' pages/index.html)" 1
    assert_equal "$(count '<script' pages/order-1.html)" 0
    # it is all there, as text
    grep -qF '<h1>Order 1 – &lt;script&gt;document.title=&#39;PWNED&#39;&lt;/script&gt;</h1>' pages/order-1.html
    grep -qF '<th scope="row">&quot;&gt;&lt;img src=x onerror=&quot;parent.pwned=1&quot;&gt;</th>' pages/order-1.html
    grep -qF '<td>&lt;style&gt;body{display:none}&lt;/style&gt;</td>' pages/order-1.html
    # the hook's refusal (fallout, on the index and the order's page) and its stderr
    grep -qF 'the system answered failed: &lt;script&gt;document.title=&quot;PWNED&quot;&lt;/script&gt;' pages/index.html
    grep -qF 'the system answered failed: &lt;script&gt;' pages/order-1.html
    grep -qF '&quot;note&quot;: &quot;\&quot;&gt;&lt;img src=x' pages/order-1.html
    if has_dot; then
        # dot escapes for XML what reaches the SVG: the external id and the items
        grep -qF 'order 1 (&lt;script&gt;document.title=&#39;PWNED&#39;&lt;/script&gt;)' pages/order-1.html
    fi
}

@test "report: --output-dir writes an index, a page per order and filter pages, whole" {
    job J-1 B
    job J-2 M
    osm-submit --plan "$HOSTILE_ORDER" >/dev/null
    osm-run --all >/dev/null
    run -0 --separate-stderr osm-status -v -a --output-dir report
    assert_equal "$output" ""
    assert_equal "$stderr" "osm-status: wrote report/index.html"
    run -0 ls -A report
    assert_equal "$(printf '%s\n' "$output" | tr '\n' ' ')" \
        "cartridge-hostile.html cartridge-runner.html index.html order-1.html order-2.html order-3.html state-completed.html state-in_progress.html "
    for id in 1 2 3; do
        grep -qF "<tr data-order=\"$id\" data-state=\"$(osm-status $id | jq -r .state)\"><th scope=\"row\"><a href=\"order-$id.html\">$id</a></th>" report/index.html
        grep -qF '<header><nav><a href="index.html">All orders</a></nav></header>' "report/order-$id.html"
    done
    grep -qF '<a href="state-completed.html">completed (1)</a>' report/index.html
    grep -qF '<a href="cartridge-runner.html">runner</a>' report/index.html
    assert_equal "$(grep -c '<tr data-order=".*" data-state=' report/state-in_progress.html)" 2
    assert_equal "$(grep -c '<tr data-order=".*" data-state=' report/cartridge-runner.html)" 2
    # again, over the pages there: the same pages
    cp -R report before
    osm-status -a --output-dir report </dev/null
    run -0 diff -r before report
    # filtered: an index of those orders; the other pages stay
    osm-status --state completed --output-dir report
    assert_equal "$(grep -c '<tr data-order=".*" data-state=' report/index.html)" 1
    assert_file_exists report/order-3.html
    # ids: their pages and an index of them
    osm-status --output-dir some 2 3
    run -0 ls some
    assert_equal "$(printf '%s\n' "$output" | tr '\n' ' ')" \
        "cartridge-hostile.html cartridge-runner.html index.html order-2.html order-3.html state-in_progress.html "
}

# The numbers of the index: "<li id=count-NAME...><b>N</b>" and the by-state rows.
tile() {
    sed -n "s/.*<li id=\"count-$1\"[^>]*><b>\([0-9]*\)<\/b>.*/\1/p" "$2"
}
by_state() {
    sed -n "s/.*<tr data-state=\"$1\"><th scope=\"row\">.*<\/th><td class=\"num\">\([0-9]*\)<\/td><\/tr>.*/\1/p" "$2"
}

@test "report: the index counts what --summary counts, and a filtered one what it lists" {
    job J-1 B
    job J-2 M
    job J-3 B
    job J-4 B
    osm-run 1 2 >/dev/null
    echo refuse >mode.one
    osm-run 4 >/dev/null
    osm-status -a --format html >all.html
    summary=$(osm-status --summary)
    for s in not_started in_progress completed failed cancelled; do
        assert_equal "$s $(by_state "$s" all.html)" "$s $(jq ".byState.$s" <<<"$summary")"
    done
    assert_equal "$(tile orders all.html)" "$(jq .orders <<<"$summary")"
    assert_equal "$(tile fallout all.html)" "$(jq .openFallout <<<"$summary")"
    assert_equal "$(tile late all.html)" "$(jq .late <<<"$summary")"
    assert_equal "$(tile jeopardy all.html)" "$(jq .jeopardy <<<"$summary")"
    assert_equal "$(tile worklist all.html)" 2       # J-2's check, J-4's fallout
    grep -qF '<tr data-cartridge="runner"><th scope="row">runner</th><td class="num">4</td>' all.html
    assert_equal "$(grep -c '<tr data-order=".*" data-state=' all.html)" 4
    # open fallout, with the error, and the worklists by workgroup
    grep -qF '<h3 class="workgroup">checkers (1 task)</h3>' all.html
    grep -qF '<h3 class="workgroup">fallout (1 task)</h3>' all.html
    grep -qF '<td class="err">the system answered failed: no capacity</td>' all.html
    # an order's page for each order, in the page
    assert_equal "$(count '<article class="order"' all.html)" 4
    osm-status --state completed --format html >done.html
    assert_equal "$(tile orders done.html)" 1
    assert_equal "$(by_state completed done.html)" 1
    assert_equal "$(by_state not_started done.html)" 0
    assert_equal "$(count '<article class="order"' done.html)" 1
    echo 3 | osm-status --format html >three.html
    assert_equal "$(count '<article class="order" id="order-3"' three.html)" 1
    assert_equal "$(count '<article class="order"' three.html)" 1
}

@test "report: without Graphviz the plan is a table; an order not planned yet has none" {
    job J-1 A
    run -0 --separate-stderr env PATH="$OSM_BUILDDIR/bin" osm-status --format html 1
    assert_equal "$stderr" ""
    printf '%s\n' "$output" >page.html
    assert_line --partial 'Graphviz (dot) is not installed where this page was made: the plan is a table.'
    refute_line --partial '<figure class="plan'
    assert_equal "$(count '<tr data-task=' page.html)" 5
    assert_line --partial '<figure class="gantt scroll" id="gantt-1">'
    echo '{"kind":"job","ref":"J-2","items":[{"id":"1","spec":"B"}]}' | osm-submit >/dev/null
    run -0 osm-status --format html 2
    assert_line '<p>Not planned yet.</p>'
    assert_line '<p>No plan, no times yet.</p>'
}

@test "report: the versions of a revised order side by side, what changed marked" {
    job J-1 B
    # osm-revise keeps the version it replaces in order_versions; until it is
    # there, the store is given one by hand
    local body
    body=$(sql "SELECT body FROM orders WHERE id = 1" | jq -c '.ref = "J-0"')
    sql "INSERT INTO order_versions (order_id, revision, plan_revision, status, reason, original, body, plan, received_at, recorded_at)
         SELECT id, 0, 1, 'superseded', NULL, original, '${body//\'/\'\'}', NULL, created_at, created_at FROM orders WHERE id = 1"
    sql "UPDATE orders SET revision = 1 WHERE id = 1"
    run -0 osm-status --format html 1
    assert_line '<h2>Revisions</h2>'
    assert_line '<p>1 earlier version of the order beside the current one.</p>'
    assert_line --partial '<th scope="col">0 <span class="st st-superseded">superseded</span></th><th scope="col">1 <span class="st st-current">current</span></th>'
    assert_line '<tr class="changed"><th scope="row">ref <span class="flag">changed</span></th><td><code>&quot;J-0&quot;</code></td><td><code>&quot;J-1&quot;</code></td></tr>'
    assert_line --partial '<tr><th scope="row">items</th>'
}

@test "report: an empty store" {
    run -0 osm-status -a --format html
    assert_line '<p>0 orders, as of <time datetime="2026-11-26T09:00:00Z">2026-11-26 09:00</time> UTC.</p>'
    assert_line '<p>No order is late or in jeopardy.</p>'
    assert_line '<p>No open fallout.</p>'
    assert_line '<p>No task is waiting for a person.</p>'
    run -0 osm-status -a --output-dir empty
    run -0 ls empty
    assert_output index.html
}

@test "report: errors and options that do not go together" {
    job J-1 B
    run -66 --separate-stderr osm-status --format html 1 7
    assert_equal "$output" ""
    assert_equal "$stderr" "osm-status: no such order: 7"
    run -66 --separate-stderr osm-status -a --output-dir nowhere/report
    assert_equal "$stderr" "osm-status: nowhere/report: No such file or directory"
    touch file
    run -74 --separate-stderr osm-status -a --output-dir file
    assert_equal "$stderr" "osm-status: file: not a directory"
    run -74 --separate-stderr bash -c 'osm-status -a --format html >/dev/full'
    assert_equal "$stderr" "osm-status: standard output: No space left on device"
    if [ "$(id -u)" -ne 0 ]; then
        mkdir locked && chmod a-w locked
        run -74 --separate-stderr osm-status -a --output-dir locked
        assert_regex "$stderr" '^osm-status: locked/order-1.html: Permission denied$'
    fi
    run -2 --separate-stderr osm-status --format html --summary
    assert_equal "${stderr_lines[0]}" 'osm-status: --format html reports on orders given or listed: not with --summary, --history, --follow, --wait, --purge or --original'
    run -2 --separate-stderr osm-status --format json --output-dir x
    assert_equal "${stderr_lines[0]}" 'osm-status: --output-dir writes the HTML report: not with --format json'
    run -2 --separate-stderr osm-status --output-dir '' -a
    assert_equal "${stderr_lines[0]}" 'osm-status: --output-dir: an empty directory name'
    run -2 --separate-stderr osm-status --format html --history 1
    assert_file_not_exists x
}

@test "plan: --format svg draws the plan with dot, a node per task" {
    command -v dot >/dev/null || skip "graphviz (dot) is not installed"
    job J-1 A
    run -0 --separate-stderr osm-plan 1 --format svg
    assert_equal "$stderr" ""
    printf '%s\n' "$output" >plan.svg
    grep -q '<svg' plan.svg
    assert_equal "$(count 'class="node task state&#45;pending"' plan.svg)" 5
    assert_equal "$(count '>(pending)</text>' plan.svg)" 5
    for id in $(osm-plan 1 | jq -r '.tasks[].id'); do
        grep -qF "<g id=\"task&#45;$id\"" plan.svg
    done
    run -69 --separate-stderr env PATH="$OSM_BUILDDIR/bin" osm-plan 1 --format svg
    assert_equal "$output" ""
    assert_equal "$stderr" "osm-plan: dot (Graphviz) is not installed"
}
