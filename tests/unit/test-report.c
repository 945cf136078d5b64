/* lib/report-html.c: escaping, times, badges, file names and writing pages. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jv.h>

#include "diag.h"
#include "report-int.h"
#include "xalloc.h"
#include "tap.h"

static char *
esc(const char *s)
{
    strbuf sb = STRBUF_INIT;
    report_esc(&sb, s);
    return sb_detach(&sb, NULL);
}

static void
check(char *got, const char *want, const char *what)
{
    is_str(got, want, "%s", what);
    free(got);
}

static void
test_escaping(void)
{
    check(esc("plain text, 1 < 2"), "plain text, 1 &lt; 2", "escape: <");
    check(esc("<script>alert('x')</script>"), "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;",
          "escape: a script element");
    check(esc("\"><img src=x onerror=\"y\">"), "&quot;&gt;&lt;img src=x onerror=&quot;y&quot;&gt;",
          "escape: out of an attribute");
    check(esc("a & b &amp; c"), "a &amp; b &amp;amp; c", "escape: ampersands, even of references");
    check(esc("tab\tline\nreturn\r"), "tab\tline\nreturn\r", "escape: tab, line feed, return kept");
    check(esc("bell\a nul-less \x1b[31m del\x7f"),
          "bell\xef\xbf\xbd nul-less \xef\xbf\xbd[31m del\xef\xbf\xbd",
          "escape: other control characters replaced");
    check(esc("caf\xc3\xa9 \xe2\x80\x93"), "caf\xc3\xa9 \xe2\x80\x93", "escape: UTF-8 passes");
    check(esc(""), "", "escape: empty");
    check(esc(NULL), "", "escape: NULL adds nothing");

    strbuf sb = STRBUF_INIT;
    report_text(&sb, NULL);
    report_text(&sb, "");
    report_text(&sb, "<x>");
    check(sb_detach(&sb, NULL), "\xe2\x80\x93\xe2\x80\x93&lt;x&gt;", "text: a dash for none");

    jv v = jv_parse("{\"a\": \"</pre><script>\", \"b\": [1, 2]}");
    report_json(&sb, v, 0);
    check(sb_detach(&sb, NULL), "{&quot;a&quot;:&quot;&lt;/pre&gt;&lt;script&gt;&quot;,&quot;b&quot;:[1,2]}",
          "json: compact, escaped");
    report_json(&sb, v, 1);
    check(sb_detach(&sb, NULL),
          "{\n  &quot;a&quot;: &quot;&lt;/pre&gt;&lt;script&gt;&quot;,\n  &quot;b&quot;: [\n    1,\n    2\n  ]\n}",
          "json: indented by two");
    ok(jv_get_refcnt(v) == 1, "json: the value is not consumed");
    jv_free(v);
}

static void
test_values(void)
{
    char out[64];
    strbuf sb = STRBUF_INIT;

    report_short_time(1795683600000LL, out);      /* 2026-11-26T09:00:00Z */
    is_str(out, "2026-11-26 09:00", "short time: minutes");
    report_short_time(1795683605000LL, out);
    is_str(out, "2026-11-26 09:00:05", "short time: seconds when not zero");
    report_time_ms(&sb, 1795683600000LL);
    check(sb_detach(&sb, NULL), "<time datetime=\"2026-11-26T09:00:00Z\">2026-11-26 09:00</time>",
          "time: a <time> element");
    report_time(&sb, "not a time <b>");
    report_time_ms(&sb, -1);
    check(sb_detach(&sb, NULL), "not a time &lt;b&gt;\xe2\x80\x93", "time: text that is not, none");

    static const struct { long long ms; const char *want; } ages[] = {
        { 0, "0s" }, { 59999, "59s" }, { 60000, "1m" }, { 3599000, "59m" },
        { 3600000, "1h 0m" }, { 5400000, "1h 30m" }, { 86400000, "1d 0h" },
        { 8294400000LL, "96d 0h" }, { -5, "0s" },
    };
    for (size_t i = 0; i < sizeof ages / sizeof ages[0]; i++) {
        report_age(&sb, ages[i].ms);
        check(sb_detach(&sb, NULL), ages[i].want, "age");
    }

    report_state(&sb, "in_progress");
    check(sb_detach(&sb, NULL), "<span class=\"st st-in_progress\">in_progress</span>",
          "state: a badge with the word");
    report_state(&sb, "x\" onclick=\"y");
    check(sb_detach(&sb, NULL), "<span class=\"st st-xonclicky\">x&quot; onclick=&quot;y</span>",
          "state: an odd one, cut down in the class and escaped in the text");
    report_state(&sb, NULL);
    check(sb_detach(&sb, NULL), "<span class=\"st\">\xe2\x80\x93</span>", "state: none");

    report_order_link(&sb, 12, REPORT_LINK_FILE);
    report_order_link(&sb, 12, REPORT_LINK_ANCHOR);
    check(sb_detach(&sb, NULL), "<a href=\"order-12.html\">12</a><a href=\"#order-12\">12</a>",
          "order links");

    jv doc = jv_parse("{\"late\": true, \"jeopardy\": true, \"openFallout\": 2,"
                      " \"progress\": {\"tasksDone\": 3, \"tasks\": 4, \"percentExpected\": 60}}");
    report_flags(&sb, doc);
    check(sb_detach(&sb, NULL),
          "<span class=\"flag flag-late\">late</span><span class=\"flag flag-jeopardy\">jeopardy"
          "</span><span class=\"flag flag-fallout\">fallout</span>", "flags in words");
    report_progress(&sb, doc);
    check(sb_detach(&sb, NULL), "<progress max=\"100\" value=\"60\">60%</progress> 3/4", "progress");
    jv_free(doc);
    doc = jv_parse("{\"late\": false}");
    report_flags(&sb, doc);
    check(sb_detach(&sb, NULL), "\xe2\x80\x93", "no flags: a dash");
    jv_free(doc);
}

static void
test_files(void)
{
    strbuf sb = STRBUF_INIT;
    report_state_file(&sb, "in_progress");
    report_cartridge_file(&sb, "broad-band.v2");
    report_cartridge_file(&sb, "../x y/\xc3\xa9");
    report_cartridge_file(&sb, "-x");
    check(sb_detach(&sb, NULL),
          "state-in_progress.html" "cartridge-broad-band.v2.html"
          "cartridge-~2E.~2Fx~20y~2F~C3~A9.html" "cartridge-~2Dx.html",
          "file names: plain words only");

    char dir[] = "/tmp/test-report-XXXXXX";
    ok(mkdtemp(dir) != NULL, "a directory");
    osm_err err = { 0, "" };
    sb_adds(&sb, "<p>page</p>\n");
    is_int(report_write_file(dir, "a.html", &sb, &err), 0, "write: written");
    char *path = xasprintf("%s/a.html", dir);
    FILE *f = fopen(path, "r");
    char buf[64] = "";
    ok(f && fgets(buf, sizeof buf, f), "write: readable");
    is_str(buf, "<p>page</p>\n", "write: whole");
    if (f)
        fclose(f);
    unlink(path);
    free(path);
    is_int(rmdir(dir), 0, "write: no temporary file left");
    is_int(report_write_file(dir, "a.html", &sb, &err), OSM_EIO, "write: no directory, 74");
    char *want = xasprintf("%s/a.html: No such file or directory", dir);
    is_str(err.msg, want, "write: the message names the file");
    free(want);
    sb_free(&sb);
}

int
main(void)
{
    test_escaping();
    test_values();
    test_files();
    return done_testing();
}
