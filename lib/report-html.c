/*
 * The pieces of HTML every page of the report is made of (see
 * report-int.h): escaping, times, state badges, the page frame with its
 * style sheet, script and Content-Security-Policy, and writing a page
 * to its file whole.
 *
 * The policy allows the page's own <style> and <script> by their SHA-256
 * hashes and nothing else: no other script, style sheet, image, font,
 * frame or connection, whatever a page holds.  That is a second wall:
 * the first is that order data is escaped, always.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "json.h"
#include "report-int.h"
#include "sha256.h"

/*
 * Colours say the state again; the words always come first.  Order and
 * task states share the palette: grey not yet or over, blue under way,
 * yellow and orange waiting for something or someone, green done, red
 * failed, purple compensating.
 */
static const char style_sheet[] =
    ":root{color-scheme:light}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;font:15px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,Helvetica,Arial,"
    "sans-serif;color:#1f2328;background:#fff}\n"
    "header,main,footer{max-width:84rem;margin:0 auto;padding:0 1rem}\n"
    "header{padding:.5rem 1rem;border-bottom:1px solid #d0d7de}\n"
    "footer{margin-top:2rem;padding:1rem;border-top:1px solid #d0d7de;color:#59636e;"
    "font-size:.85rem}\n"
    "h1{font-size:1.5rem;margin:1rem 0 .5rem}\n"
    "h2{font-size:1.2rem;margin:1.75rem 0 .5rem;padding-bottom:.2rem;"
    "border-bottom:1px solid #d0d7de}\n"
    "h3{font-size:1rem;margin:1.25rem 0 .4rem}\n"
    "article h1+p,article h2+p{margin-top:0}\n"
    "a{color:#0550ae}\n"
    "p.note{color:#59636e;font-size:.9rem}\n"
    ".scroll{overflow-x:auto;max-width:100%}\n"
    "table{border-collapse:collapse;font-size:.9rem;margin:.25rem 0 1rem}\n"
    "th,td{border-bottom:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;"
    "vertical-align:top}\n"
    "thead th{background:#f6f8fa;white-space:nowrap}\n"
    "tbody th{font-weight:600}\n"
    ".num{text-align:right;font-variant-numeric:tabular-nums}\n"
    "td.err{color:#a40e26;max-width:32rem}\n"
    "tr.changed th{color:#953800}\n"
    "time{white-space:nowrap}\n"
    "table.orders td,table.attention td{white-space:nowrap}\n"
    "figure{margin:.5rem 0}\n"
    "figcaption{color:#59636e;font-size:.9rem}\n"
    ".pair{display:flex;flex-wrap:wrap;gap:0 3rem}\n"
    ".tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(9rem,1fr));gap:.5rem;"
    "margin:.5rem 0 1rem;padding:0;list-style:none}\n"
    ".tiles li{border:1px solid #d0d7de;border-radius:6px;padding:.4rem .6rem}\n"
    ".tiles b{display:block;font-size:1.5rem;line-height:1.2}\n"
    ".tiles .bad b{color:#a40e26}\n"
    ".st{display:inline-block;padding:0 .45em;border:1px solid;border-radius:1em;"
    "font-size:.85em;white-space:nowrap;background:#eef1f4;color:#424a53}\n"
    ".st-in_progress,.st-running,.st-waiting,.st-current{background:#ddf4ff;color:#0550ae}\n"
    ".st-suspended,.st-ready,.st-warning{background:#fff8c5;color:#7d4e00}\n"
    ".st-claimed{background:#fff1e5;color:#953800}\n"
    ".st-completed,.st-skipped,.st-normal{background:#dafbe1;color:#116329}\n"
    ".st-failed,.st-waiting_for_revision,.st-failure,.st-rejected"
    "{background:#ffebe9;color:#a40e26}\n"
    ".st-amending,.st-cancelling,.st-undoing,.st-undone{background:#fbefff;color:#6e40c9}\n"
    ".st-cancelled,.st-aborted,.st-superseded{background:#eaeef2;color:#59636e}\n"
    ".flag{font-weight:600;color:#a40e26;margin-right:.4em}\n"
    ".flag-jeopardy{color:#953800}\n"
    "dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:.5rem 0}\n"
    "dl.facts dt{color:#59636e}\n"
    "dl.facts dd{margin:0}\n"
    "progress{width:6rem;vertical-align:middle}\n"
    "pre{white-space:pre-wrap;word-break:break-word;background:#f6f8fa;padding:.5rem;"
    "margin:.25rem 0;font-size:.8rem;max-height:30rem;overflow:auto}\n"
    "code{font-size:.85em;word-break:break-word}\n"
    "details{margin:.5rem 0}\n"
    "summary{cursor:pointer;font-weight:600}\n"
    "details details summary{font-weight:400}\n"
    ".plan svg{max-width:100%;height:auto}\n"
    ".gantt svg{width:100%;min-width:40rem;height:auto}\n"
    "#filter{margin:.5rem 0}\n"
    "#filter input{font:inherit;padding:.2rem .4rem;width:min(24rem,100%)}\n"
    "nav.filters a{margin-right:.6rem;white-space:nowrap}\n"
    "@media (max-width:40rem){body{font-size:14px}dl.facts{grid-template-columns:1fr}"
    "dl.facts dt{margin-top:.4rem}h1{font-size:1.3rem}}\n";

/*
 * The filter of the index: hides the rows of the order table that do not
 * hold every word typed.  It changes nothing else, and without it the
 * page reads the same (the box stays hidden).
 */
static const char filter_script[] =
    "(function () {\n"
    "  var box = document.getElementById('filter'), table = document.getElementById('orders');\n"
    "  if (!box || !table) return;\n"
    "  var input = box.querySelector('input'), shown = box.querySelector('output');\n"
    "  var rows = table.tBodies[0].rows;\n"
    "  box.hidden = false;\n"
    "  input.addEventListener('input', function () {\n"
    "    var words = input.value.toLowerCase().split(/\\s+/).filter(Boolean), n = 0;\n"
    "    for (var i = 0; i < rows.length; i++) {\n"
    "      var text = rows[i].textContent.toLowerCase();\n"
    "      var keep = words.every(function (w) { return text.indexOf(w) >= 0; });\n"
    "      rows[i].hidden = !keep;\n"
    "      if (keep) n++;\n"
    "    }\n"
    "    shown.textContent = n + ' of ' + rows.length + ' orders';\n"
    "  });\n"
    "})();\n";

/* ------------------------------------------------------------ escaping */

void
report_esc(strbuf *sb, const char *s)
{
    if (!s)
        return;
    for (const char *run = s;; s++) {
        unsigned char c = (unsigned char)*s;
        const char *rep = NULL;
        switch (c) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default:
            if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
                rep = "\xef\xbf\xbd";
        }
        if (rep || !c) {
            sb_add(sb, run, (size_t)(s - run));
            if (!c)
                return;
            sb_adds(sb, rep);
            run = s + 1;
        }
    }
}

void
report_text(strbuf *sb, const char *s)
{
    if (s && *s)
        report_esc(sb, s);
    else
        sb_adds(sb, "\xe2\x80\x93");
}

void
report_json(strbuf *sb, jv v, int pretty)
{
    jv text = jv_dump_string(jv_copy(v), pretty ? JV_PRINT_INDENT_FLAGS(2) : 0);
    report_esc(sb, jv_string_value(text));
    jv_free(text);
}

void
report_field(strbuf *sb, jv doc, const char *key)
{
    jv v = json_get(doc, key);
    if (jv_get_kind(v) == JV_KIND_STRING)
        report_text(sb, jv_string_value(v));
    else if (jv_get_kind(v) == JV_KIND_NUMBER)
        report_json(sb, v, 0);
    else
        report_text(sb, NULL);
    jv_free(v);
}

/* ------------------------------------------------------------ documents */

int64_t
report_doc_time(jv doc, const char *key)
{
    const char *s = json_str(doc, key);
    int64_t ms;
    return s && rfc3339_parse(s, &ms) == 0 ? ms : -1;
}

int64_t
report_doc_int(jv doc, const char *key, int64_t dflt)
{
    long long v;
    return json_get_int(doc, key, &v) == 1 ? (int64_t)v : dflt;
}

int
report_doc_true(jv doc, const char *key)
{
    jv v = json_get(doc, key);
    int t = jv_get_kind(v) == JV_KIND_TRUE;
    jv_free(v);
    return t;
}

jv
report_task_of(jv doc, int64_t id)
{
    jv tasks = json_get(doc, "tasks");
    jv found = jv_null();
    if (jv_get_kind(tasks) == JV_KIND_ARRAY) {
        jv_array_foreach(tasks, i, t) {
            if (jv_get_kind(found) == JV_KIND_NULL && report_doc_int(t, "id", -1) == id) {
                found = t;
                continue;
            }
            jv_free(t);
        }
    }
    jv_free(tasks);
    return found;
}

/* ------------------------------------------------------------ values */

void
report_short_time(int64_t ms, char *out)
{
    char full[CLOCK_RFC3339_MAX];
    rfc3339_format(ms, full);
    /* "YYYY-MM-DDTHH:MM:SS[.mmm]Z": the date, a blank, HH:MM, and :SS unless zero */
    if (strlen(full) < 20 || full[10] != 'T') {
        snprintf(out, CLOCK_RFC3339_MAX, "%s", full);
        return;
    }
    int seconds = !(full[17] == '0' && full[18] == '0' && full[19] == 'Z');
    snprintf(out, CLOCK_RFC3339_MAX, "%.10s %.*s", full, seconds ? 8 : 5, full + 11);
}

void
report_time_ms(strbuf *sb, int64_t ms)
{
    char full[CLOCK_RFC3339_MAX], brief[CLOCK_RFC3339_MAX];

    if (ms < 0) {
        report_text(sb, NULL);
        return;
    }
    rfc3339_format(ms, full);
    report_short_time(ms, brief);
    sb_addf(sb, "<time datetime=\"%s\">%s</time>", full, brief);
}

void
report_time(strbuf *sb, const char *rfc3339)
{
    int64_t ms;
    if (rfc3339 && rfc3339_parse(rfc3339, &ms) == 0)
        report_time_ms(sb, ms);
    else
        report_text(sb, rfc3339);
}

void
report_age(strbuf *sb, int64_t ms)
{
    int64_t s = ms < 0 ? 0 : ms / 1000;
    int64_t d = s / 86400, h = s % 86400 / 3600, m = s % 3600 / 60;

    if (d > 0)
        sb_addf(sb, "%lldd %lldh", (long long)d, (long long)h);
    else if (h > 0)
        sb_addf(sb, "%lldh %lldm", (long long)h, (long long)m);
    else if (m > 0)
        sb_addf(sb, "%lldm", (long long)m);
    else
        sb_addf(sb, "%llds", (long long)s);
}

void
report_state(strbuf *sb, const char *state)
{
    sb_adds(sb, "<span class=\"st");
    if (state && *state) {
        sb_adds(sb, " st-");
        for (const char *p = state; *p; p++)
            if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                (*p >= '0' && *p <= '9') || *p == '_')
                sb_add(sb, p, 1);
    }
    sb_adds(sb, "\">");
    report_text(sb, state);
    sb_adds(sb, "</span>");
}

void
report_flags(strbuf *sb, jv doc)
{
    long long fallout = 0;
    int any = 0;

    if (report_doc_true(doc, "late")) {
        sb_adds(sb, "<span class=\"flag flag-late\">late</span>");
        any = 1;
    }
    if (report_doc_true(doc, "jeopardy")) {
        sb_adds(sb, "<span class=\"flag flag-jeopardy\">jeopardy</span>");
        any = 1;
    }
    if (json_get_int(doc, "openFallout", &fallout) == 1 && fallout > 0) {
        sb_adds(sb, "<span class=\"flag flag-fallout\">fallout</span>");
        any = 1;
    }
    if (!any)
        report_text(sb, NULL);
}

void
report_order_link(strbuf *sb, int64_t id, int link)
{
    if (link == REPORT_LINK_FILE)
        sb_addf(sb, "<a href=\"order-%lld.html\">%lld</a>", (long long)id, (long long)id);
    else
        sb_addf(sb, "<a href=\"#order-%lld\">%lld</a>", (long long)id, (long long)id);
}

void
report_progress(strbuf *sb, jv doc)
{
    jv p = json_get(doc, "progress");
    long long done = 0, total = 0, pct = 0;

    json_get_int(p, "tasksDone", &done);
    json_get_int(p, "tasks", &total);
    json_get_int(p, "percentExpected", &pct);
    jv_free(p);
    if (pct < 0)
        pct = 0;
    if (pct > 100)
        pct = 100;
    sb_addf(sb, "<progress max=\"100\" value=\"%lld\">%lld%%</progress> %lld/%lld", pct, pct,
            done, total);
}

void
report_heading(strbuf *sb, int level, const char *text)
{
    sb_addf(sb, "<h%d>%s</h%d>\n", level, text, level);
}

const char *const report_order_states[REPORT_NSTATES] = {
    "not_started", "in_progress", "suspended", "amending", "cancelling",
    "cancelled", "completed", "failed", "waiting_for_revision", "aborted",
};

/* name as a file name word: letters, digits, '_', '.' and '-' kept, the others as ~XX. */
static void
file_word(strbuf *sb, const char *name)
{
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '_' || ((*p == '.' || *p == '-') && p != (const unsigned char *)name))
            sb_add(sb, p, 1);
        else
            sb_addf(sb, "~%02X", *p);
    }
}

void
report_state_file(strbuf *sb, const char *state)
{
    sb_adds(sb, "state-");
    file_word(sb, state);
    sb_adds(sb, ".html");
}

void
report_cartridge_file(strbuf *sb, const char *name)
{
    sb_adds(sb, "cartridge-");
    file_word(sb, name);
    sb_adds(sb, ".html");
}

/* ------------------------------------------------------------ pages */

/* "'sha256-BASE64'" of text, for the policy. */
static void
add_hash_source(strbuf *sb, const char *text)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned char d[SHA256_DIGEST_SIZE];
    sha256_ctx ctx;

    sha256_init(&ctx);
    sha256_update(&ctx, strlen(text), (const uint8_t *)text);
    sha256_digest(&ctx, SHA256_DIGEST_SIZE, d);
    sb_adds(sb, "'sha256-");
    for (size_t i = 0; i < sizeof d; i += 3) {
        unsigned v = (unsigned)d[i] << 16 | (i + 1 < sizeof d ? (unsigned)d[i + 1] << 8 : 0) |
                     (i + 2 < sizeof d ? d[i + 2] : 0);
        char q[4] = { b64[v >> 18 & 63], b64[v >> 12 & 63],
                      i + 1 < sizeof d ? b64[v >> 6 & 63] : '=',
                      i + 2 < sizeof d ? b64[v & 63] : '=' };
        sb_add(sb, q, 4);
    }
    sb_adds(sb, "'");
}

void
report_page_begin(strbuf *sb, const char *title, const char *index)
{
    sb_adds(sb, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                "style-src ");
    add_hash_source(sb, style_sheet);
    sb_adds(sb, "; script-src ");
    add_hash_source(sb, filter_script);
    sb_adds(sb, "; base-uri 'none'; form-action 'none'\">\n"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                "<meta name=\"generator\" content=\"osm " PACKAGE_VERSION "\">\n<title>");
    report_esc(sb, title);
    sb_adds(sb, "</title>\n<style>");
    sb_adds(sb, style_sheet);
    sb_adds(sb, "</style>\n</head>\n<body>\n");
    if (index) {
        sb_adds(sb, "<header><nav><a href=\"");
        report_esc(sb, index);
        sb_adds(sb, "\">All orders</a></nav></header>\n");
    }
    sb_adds(sb, "<main>\n");
}

void
report_page_end(strbuf *sb, int64_t now, int script)
{
    sb_adds(sb, "</main>\n<footer><p>Generated by osm-status as of ");
    report_time_ms(sb, now);
    sb_adds(sb, " UTC, from the order store. Every time on this page is UTC.</p></footer>\n");
    if (script) {
        sb_adds(sb, "<script>");
        sb_adds(sb, filter_script);
        sb_adds(sb, "</script>\n");
    }
    sb_adds(sb, "</body>\n</html>\n");
}

int
report_write_file(const char *dir, const char *name, const strbuf *sb, osm_err *err)
{
    char *path = xasprintf("%s/%s", dir, name);
    char *tmp = xasprintf("%s/.%s.%ld.tmp", dir, name, (long)getpid());
    FILE *f = fopen(tmp, "w");
    int rc = 0, e = 0;

    if (!f) {
        rc = osm_fail(err, OSM_EIO, "%s: %s", path, strerror(errno));
        goto out;
    }
    errno = 0;
    if (fwrite(sb->buf ? sb->buf : "", 1, sb->len, f) != sb->len)
        e = errno ? errno : EIO;
    if (fclose(f) != 0 && !e)
        e = errno ? errno : EIO;
    if (!e && rename(tmp, path) != 0)
        e = errno;
    if (e) {
        rc = osm_fail(err, OSM_EIO, "%s: %s", path, strerror(e));
        unlink(tmp);
    }
out:
    free(path);
    free(tmp);
    return rc;
}
