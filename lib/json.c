/*
 * JSON stream reader and writer over jq's jv library, and small jv
 * helpers.
 *
 * The reader hands jq's incremental parser (jv_parser) one "segment" at
 * a time: the bytes from where it stands up to and including the next
 * newline, or to the end of the 64 KiB chunk read, or to the size cap of
 * the value in progress, or to a record separator (0x1E, never fed: see
 * record_separator()), whichever comes first.  Since a segment never
 * holds a newline except as its last byte, the line of any byte in it is
 * known, and the column of a parse error follows from the column jq
 * reports (jq counts the bytes fed since the last newline fed).
 *
 * A value "begins" at its first non-blank byte.  Blank bytes between
 * values are not fed at all (the parser is idle there), which keeps
 * blank lines cheap and lets the cap count only the value's own bytes.
 *
 * After a bad record the parser is thrown away, the rest of the line is
 * dropped and a fresh parser starts at the next line that can begin a
 * value: one whose first byte is not blank and not one of "}],:".
 * Indented lines are skipped because they are the inside of a
 * pretty-printed document whose head was bad; starting there would turn
 * its keys into spurious values.  When the error is detected on the
 * first byte of such a line while an earlier line's value is unfinished
 * (a truncated NDJSON record), the fresh parser starts on that very
 * line, so the truncated record costs only itself.
 *
 * jq 1.6 parser quirks that show through: a lone NUL byte outside a
 * string reads as the number 0; "01" reads as 1; invalid UTF-8 in a
 * string becomes U+FFFD; and the error "Expected separator between
 * values" right after a string leaks that string inside libjq (a few
 * bytes per such bad record, nothing we can free).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jv.h>

#include "diag.h"
#include "json.h"
#include "xalloc.h"

#define JSON_CHUNK (64 * 1024)

/*
 * jq takes about 300 bytes for an empty array or object ("[]," is three
 * bytes of text), so the text cap alone would let 16 MiB of "[[],[],..."
 * take 1.6 GB.  A value may also hold at most one "[" or "{" per this
 * many bytes of the cap (counted in strings too: an overestimate), and
 * never fewer than JSON_MIN_CONTAINERS.
 */
#define JSON_BYTES_PER_CONTAINER 64
#define JSON_MIN_CONTAINERS 1024

enum {
    SKIP_NONE = 0,      /* feeding the parser */
    SKIP_LINE,          /* dropping bytes up to and including a newline */
    SKIP_START          /* at a line start, looking for a line to resume at */
};

struct json_reader {
    int fd;
    int owned;                  /* opened here: close it on free */
    char *name;
    size_t max;

    char *buf;                  /* JSON_CHUNK bytes */
    size_t len;                 /* bytes read into buf */
    size_t pos;                 /* next byte of buf not yet consumed */
    long line, col;             /* position of buf[pos] (1-based) */
    unsigned long long abs;     /* stream offset of buf[pos] */
    int started;                /* the BOM check has been done */
    int eof;                    /* read() reported the end */
    int done;                   /* nothing more to return */
    int skip;                   /* SKIP_* */

    jv_parser *parser;          /* NULL until a value begins */
    long pcol;                  /* bytes fed to it since its last newline */

    /* The segment the parser holds: buf[seg, seg + seglen). */
    int seg_active;
    size_t seg, seglen;
    long seg_line, seg_col, seg_pcol;
    unsigned long long seg_abs;

    int in_value;               /* a value has begun and not come out */
    size_t containers;          /* "[" and "{" fed since it began */
    long value_line;
    unsigned long long value_abs;
    long last_line;             /* json_reader_line() */
};

static int
is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Whether a line starting with c may start a value after a resync. */
static int
is_start_byte(char c)
{
    return !is_blank(c) && c != '}' && c != ']' && c != ',' && c != ':';
}

static json_reader *
reader_new(int fd, int owned, const char *name)
{
    json_reader *r = xcalloc(1, sizeof *r);

    r->fd = fd;
    r->owned = owned;
    r->name = xstrdup(name ? name : "<stdin>");
    r->max = JSON_MAX_DEFAULT;
    r->buf = xmalloc(JSON_CHUNK);
    r->line = 1;
    r->col = 1;
    return r;
}

json_reader *
json_reader_open(const char *path, osm_err *err)
{
    struct stat st;
    int fd;

    if (strcmp(path, "-") == 0)
        return reader_new(STDIN_FILENO, 0, "<stdin>");
    do
        fd = open(path, O_RDONLY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        osm_fail(err, OSM_ENOINPUT, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        osm_fail(err, OSM_ENOINPUT, "%s: %s", path, strerror(EISDIR));
        return NULL;
    }
    return reader_new(fd, 1, path);
}

json_reader *
json_reader_fdopen(int fd, const char *name)
{
    return reader_new(fd, 0, name);
}

void
json_reader_free(json_reader *r)
{
    if (!r)
        return;
    if (r->parser)
        jv_parser_free(r->parser);
    if (r->owned)
        close(r->fd);
    free(r->buf);
    free(r->name);
    free(r);
}

void
json_reader_set_max(json_reader *r, size_t max)
{
    r->max = max ? max : JSON_MAX_DEFAULT;
}

long
json_reader_line(const json_reader *r)
{
    return r->last_line;
}

const char *
json_reader_name(const json_reader *r)
{
    return r->name;
}

/* Step over n bytes of buf without feeding them to the parser. */
static void
pass(json_reader *r, size_t n)
{
    const char *p = r->buf + r->pos, *end = p + n, *nl;

    while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        r->line++;
        r->col = 1;
        p = nl + 1;
    }
    r->col += end - p;
    r->pos += n;
    r->abs += n;
}

static void
drop_parser(json_reader *r)
{
    if (r->parser)
        jv_parser_free(r->parser);
    r->parser = NULL;
    r->seg_active = 0;
    r->in_value = 0;
}

/* Mark a value as beginning at stream offset at, on line line. */
static void
begin_value(json_reader *r, unsigned long long at, long line)
{
    r->in_value = 1;
    r->value_abs = at;
    r->value_line = line;
    r->containers = 0;
}

static size_t
count_containers(const char *p, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += (p[i] == '[') | (p[i] == '{');
    return c;
}

static size_t
max_containers(const json_reader *r)
{
    size_t c = r->max / JSON_BYTES_PER_CONTAINER;
    return c < JSON_MIN_CONTAINERS ? JSON_MIN_CONTAINERS : c;
}

/* After the current segment: resync at a line start, or finish the line. */
static void
resync_after_segment(json_reader *r)
{
    int ends_line = r->buf[r->seg + r->seglen - 1] == '\n';

    drop_parser(r);
    r->skip = ends_line ? SKIP_START : SKIP_LINE;
}

static void
format_limit(char *out, size_t n, size_t max)
{
    if (max % ((size_t)1 << 20) == 0)
        snprintf(out, n, "%zu MiB", max >> 20);
    else if (max % 1024 == 0)
        snprintf(out, n, "%zu KiB", max >> 10);
    else
        snprintf(out, n, "%zu bytes", max);
}

static int
too_large(json_reader *r, osm_err *err)
{
    char lim[64];

    format_limit(lim, sizeof lim, r->max);
    r->last_line = r->value_line;
    osm_fail(err, OSM_EDATA, "%s:%ld: document larger than %s",
             r->name, r->value_line, lim);
    resync_after_segment(r);
    return OSM_EDATA;
}

static int
too_many_containers(json_reader *r, osm_err *err)
{
    r->last_line = r->value_line;
    osm_fail(err, OSM_EDATA,
             "%s:%ld: document has more than %zu arrays and objects",
             r->name, r->value_line, max_containers(r));
    resync_after_segment(r);
    return OSM_EDATA;
}

/*
 * Split jq's parse error message into its text and the column of its
 * " at line L, column C" suffix.  Returns the length of the text to keep;
 * *col is -1 when there is no such suffix.
 */
static size_t
split_jq_position(const char *m, long *col)
{
    const char *at = NULL, *p = m;
    long l, c;
    int used = 0;

    while ((p = strstr(p, " at line ")) != NULL)
        at = p++;
    *col = -1;
    if (at && sscanf(at, " at line %ld, column %ld%n", &l, &c, &used) == 2 &&
        at[used] == '\0') {
        *col = c;
        return (size_t)(at - m);
    }
    return strlen(m);
}

/*
 * A parse error from the parser while it held the current segment.
 * Reports it at the byte jq stopped on and resyncs.
 */
static int
parse_error(json_reader *r, jv msg, osm_err *err)
{
    const char *m = jv_get_kind(msg) == JV_KIND_STRING ?
        jv_string_value(msg) : "invalid JSON";
    long jcol, off, line, col;
    size_t keep = split_jq_position(m, &jcol);
    long bad_line = r->in_value ? r->value_line : r->seg_line;
    const char *segp = r->buf + r->seg;

    /* jq's column 0 is the newline itself, the last byte of a segment */
    if (jcol == 0 || jcol < 0)
        off = (long)r->seglen - 1;
    else
        off = jcol - 1 - r->seg_pcol;
    if (off < 0)
        off = 0;
    if (off >= (long)r->seglen)
        off = (long)r->seglen - 1;
    line = r->seg_line;
    col = r->seg_col + off;
    r->last_line = bad_line;

    if (col == 1 && bad_line < line && is_start_byte(segp[off])) {
        /* a truncated record: the next one starts right here */
        osm_fail(err, OSM_EDATA,
                 "%s:%ld:%ld: parse error: %.*s (unfinished value from "
                 "line %ld dropped)", r->name, line, col, (int)keep, m,
                 bad_line);
        jv_free(msg);
        drop_parser(r);
        r->pos = r->seg;
        r->line = r->seg_line;
        r->col = r->seg_col;
        r->abs = r->seg_abs;
        r->skip = SKIP_NONE;
        return OSM_EDATA;
    }
    osm_fail(err, OSM_EDATA, "%s:%ld:%ld: parse error: %.*s",
             r->name, line, col, (int)keep, m);
    jv_free(msg);
    resync_after_segment(r);
    return OSM_EDATA;
}

/*
 * Ask the parser for the next value out of the segment it holds.
 * Returns 1 with a value, 0 when the segment is used up, or a status.
 */
static int
drain(json_reader *r, jv *out, osm_err *err)
{
    jv v = jv_parser_next(r->parser);

    if (jv_is_valid(v)) {
        size_t end = r->seglen - (size_t)jv_parser_remaining(r->parser);
        unsigned long long size = r->seg_abs + end - r->value_abs;
        const char *segp = r->buf + r->seg;

        if (size > r->max) {
            jv_free(v);
            return too_large(r, err);
        }
        if (r->containers - count_containers(segp + end, r->seglen - end) >
            max_containers(r)) {
            jv_free(v);
            return too_many_containers(r, err);
        }
        r->last_line = r->value_line;
        r->in_value = 0;
        /* does another value begin in what is left of the segment? */
        for (size_t i = end; i < r->seglen; i++) {
            if (!is_blank(segp[i])) {
                begin_value(r, r->seg_abs + i, r->seg_line);
                r->containers = count_containers(segp + i, r->seglen - i);
                break;
            }
        }
        *out = v;
        return 1;
    }
    if (jv_invalid_has_msg(jv_copy(v)))
        return parse_error(r, jv_invalid_get_msg(v), err);
    jv_free(v);
    r->seg_active = 0;
    if (r->in_value && r->seg_abs + r->seglen - r->value_abs > r->max)
        return too_large(r, err);
    if (r->in_value && r->containers > max_containers(r))
        return too_many_containers(r, err);
    return 0;
}

/*
 * A record separator (0x1E) where the parser would be fed next.  jq 1.6
 * takes it, without JV_PARSE_SEQ, as "forget the value so far": a
 * truncated value before it vanishes without a word, and a separator
 * inside a string leaves the parser holding bytes it has not read, which
 * the next jv_parser_set_buf() aborts on.  So the reader never feeds one:
 * it is a bad byte, and its record (the rest of the line, or a value in
 * progress) is dropped like any other.
 */
static int
record_separator(json_reader *r, osm_err *err)
{
    r->last_line = r->in_value ? r->value_line : r->line;
    osm_fail(err, OSM_EDATA, "%s:%ld:%ld: parse error: unexpected record separator (0x1E)",
             r->name, r->line, r->col);
    drop_parser(r);
    pass(r, 1);
    r->skip = SKIP_LINE;
    return OSM_EDATA;
}

/*
 * Hand the parser the next segment of buf, first stepping over blanks
 * when no value is in progress.  Requires pos < len.  Returns 0, or
 * OSM_EDATA when the next byte cannot be fed (a record separator).
 */
static int
feed(json_reader *r, osm_err *err)
{
    const char *p = r->buf + r->pos;
    size_t avail = r->len - r->pos, n;
    const char *nl;

    if (!r->in_value) {
        size_t k = 0;
        while (k < avail && is_blank(p[k]))
            k++;
        pass(r, k);
        if (k == avail)
            return 0;
        begin_value(r, r->abs, r->line);
        p += k;
        avail -= k;
    }
    nl = memchr(p, '\n', avail);
    n = nl ? (size_t)(nl - p) + 1 : avail;
    /* never feed more than one byte past the cap */
    if (r->abs + n > r->value_abs + r->max + 1)
        n = (size_t)(r->value_abs + r->max + 1 - r->abs);
    const char *rs = memchr(p, '\x1e', n);
    if (rs == p)
        return record_separator(r, err);
    if (rs)
        n = (size_t)(rs - p);

    if (!r->parser) {
        r->parser = jv_parser_new(0);
        r->pcol = 0;
    }
    r->seg_active = 1;
    r->seg = r->pos;
    r->seglen = n;
    r->seg_line = r->line;
    r->seg_col = r->col;
    r->seg_abs = r->abs;
    r->seg_pcol = r->pcol;
    jv_parser_set_buf(r->parser, p, (int)n, 1);
    r->pcol = p[n - 1] == '\n' ? 0 : r->pcol + (long)n;
    r->containers += count_containers(p, n);
    pass(r, n);
    return 0;
}

/* Read the next chunk.  Returns 0, or 74 on a read error. */
static int
fill(json_reader *r, osm_err *err)
{
    ssize_t n;

    do
        n = read(r->fd, r->buf, JSON_CHUNK);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        int e = errno;
        r->eof = r->done = 1;
        drop_parser(r);
        return osm_fail(err, OSM_EIO, "%s: read error: %s", r->name,
                        strerror(e));
    }
    r->len = (size_t)n;
    r->pos = 0;
    if (n == 0)
        r->eof = 1;
    if (!r->started) {
        r->started = 1;
        /* a UTF-8 byte order mark: step over it, columns start after it */
        if (n >= 3 && memcmp(r->buf, "\xEF\xBB\xBF", 3) == 0) {
            r->pos = 3;
            r->abs = 3;
        }
    }
    return 0;
}

/* At the end of the input: flush what the parser still holds. */
static int
finish(json_reader *r, jv *out, osm_err *err)
{
    jv v;

    r->done = 1;
    if (!r->parser || !r->in_value || r->skip != SKIP_NONE) {
        drop_parser(r);
        return 0;
    }
    jv_parser_set_buf(r->parser, "", 0, 0);
    v = jv_parser_next(r->parser);
    if (jv_is_valid(v)) {
        if (r->abs - r->value_abs > r->max) {
            jv_free(v);
            too_large(r, err);
            drop_parser(r);
            return OSM_EDATA;
        }
        r->last_line = r->value_line;
        drop_parser(r);
        *out = v;
        return 1;
    }
    if (jv_invalid_has_msg(jv_copy(v))) {
        jv msg = jv_invalid_get_msg(v);
        const char *m = jv_get_kind(msg) == JV_KIND_STRING ?
            jv_string_value(msg) : "invalid JSON";
        long jcol;
        size_t keep = split_jq_position(m, &jcol);

        /* detected at the last byte of the last segment fed */
        r->last_line = r->value_line;
        osm_fail(err, OSM_EDATA, "%s:%ld:%ld: parse error: %.*s", r->name,
                 r->seg_line, r->seg_col + (long)r->seglen - 1, (int)keep,
                 m);
        jv_free(msg);
        drop_parser(r);
        return OSM_EDATA;
    }
    jv_free(v);
    drop_parser(r);
    return 0;
}

int
json_reader_next(json_reader *r, jv *out, osm_err *err)
{
    int rc;

    *out = jv_invalid();
    for (;;) {
        if (r->done)
            return 0;
        if (r->seg_active) {
            rc = drain(r, out, err);
            if (rc != 0)
                return rc;
            continue;
        }
        if (r->pos == r->len) {
            if (r->eof)
                return finish(r, out, err);
            rc = fill(r, err);
            if (rc != 0)
                return rc;
            continue;
        }
        if (r->skip == SKIP_LINE) {
            const char *p = r->buf + r->pos;
            const char *nl = memchr(p, '\n', r->len - r->pos);
            if (nl) {
                pass(r, (size_t)(nl - p) + 1);
                r->skip = SKIP_START;
            } else {
                pass(r, r->len - r->pos);
            }
            continue;
        }
        if (r->skip == SKIP_START) {
            char c = r->buf[r->pos];
            if (c == '\n')
                pass(r, 1);
            else if (is_start_byte(c))
                r->skip = SKIP_NONE;
            else
                r->skip = SKIP_LINE;
            continue;
        }
        if ((rc = feed(r, err)) != 0)
            return rc;
    }
}

/*
 * The compact writer.  jq 1.6's own (jv_dump_string(), jv_dumpf()) adds
 * its text a character at a time — to a jv string, or with an fwrite()
 * each — some 50 ns a byte, more than the rest of osm-submit's work on
 * an order.  This one writes the same bytes whole runs at a time:
 *   - objects in jv_object_iter() order, as jq walks them;
 *   - strings: printable ASCII but '"' and '\\' as they are, bytes from
 *     0x80 as they are (a jv string holds valid UTF-8 and jq prints it
 *     unescaped), \b \t \n \f \r, and the other controls and DEL as
 *     \u00XX;
 *   - integers of magnitude below 2^53 in plain decimal, which is what
 *     jq's shortest round-trip formatting gives them; -0 and every
 *     other number go through jq's formatter, NaN included ("null").
 */
static void append_value(strbuf *sb, jv v);
static int jq_flags(int flags);

static void
append_string(strbuf *sb, jv v)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)jv_string_value(v);
    size_t n = (size_t)jv_string_length_bytes(jv_copy(v)), run = 0;

    sb_grow(sb, n + 2);
    sb->buf[sb->len++] = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        char esc[6];
        size_t elen = 2;

        if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
            continue;
        sb_add(sb, s + run, i - run);
        run = i + 1;
        esc[0] = '\\';
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\t': esc[1] = 't'; break;
        case '\n': esc[1] = 'n'; break;
        case '\f': esc[1] = 'f'; break;
        case '\r': esc[1] = 'r'; break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            elen = 6;
        }
        sb_add(sb, esc, elen);
    }
    sb_add(sb, s + run, n - run);
    sb_add(sb, "\"", 1);
}

static void
append_number(strbuf *sb, jv v)
{
    double d = jv_number_value(v);

    if (d > -9007199254740992.0 && d < 9007199254740992.0 && d == (double)(long long)d &&
        (d != 0 || !signbit(d))) {
        char buf[24], *p = buf + sizeof buf;
        long long i = (long long)d;
        unsigned long long u = i < 0 ? -(unsigned long long)i : (unsigned long long)i;
        do {
            *--p = (char)('0' + u % 10);
            u /= 10;
        } while (u);
        if (i < 0)
            *--p = '-';
        sb_add(sb, p, (size_t)(buf + sizeof buf - p));
    } else {
        jv t = jv_dump_string(jv_copy(v), 0);
        sb_add(sb, jv_string_value(t), (size_t)jv_string_length_bytes(jv_copy(t)));
        jv_free(t);
    }
}

/* Append v (borrowed) as compact JSON. */
static void
append_value(strbuf *sb, jv v)
{
    switch (jv_get_kind(v)) {
    case JV_KIND_NULL:
        sb_add(sb, "null", 4);
        break;
    case JV_KIND_FALSE:
        sb_add(sb, "false", 5);
        break;
    case JV_KIND_TRUE:
        sb_add(sb, "true", 4);
        break;
    case JV_KIND_NUMBER:
        append_number(sb, v);
        break;
    case JV_KIND_STRING:
        append_string(sb, v);
        break;
    case JV_KIND_ARRAY: {
        int n = jv_array_length(jv_copy(v));
        sb_add(sb, "[", 1);
        for (int i = 0; i < n; i++) {
            jv e = jv_array_get(jv_copy(v), i);
            if (i)
                sb_add(sb, ",", 1);
            append_value(sb, e);
            jv_free(e);
        }
        sb_add(sb, "]", 1);
        break;
    }
    case JV_KIND_OBJECT: {
        int first = 1;
        sb_add(sb, "{", 1);
        for (int i = jv_object_iter(v); jv_object_iter_valid(v, i);
             i = jv_object_iter_next(v, i)) {
            jv key = jv_object_iter_key(v, i), val = jv_object_iter_value(v, i);
            if (!first)
                sb_add(sb, ",", 1);
            first = 0;
            append_string(sb, key);
            sb_add(sb, ":", 1);
            append_value(sb, val);
            jv_free(key);
            jv_free(val);
        }
        sb_add(sb, "}", 1);
        break;
    }
    default: {
        /* jq's own writer, whatever it makes of it */
        jv t = jv_dump_string(jv_copy(v), 0);
        sb_add(sb, jv_string_value(t), (size_t)jv_string_length_bytes(jv_copy(t)));
        jv_free(t);
    }
    }
}

void
json_append(strbuf *sb, jv v, int flags)
{
    if (flags & (JSON_PRETTY | JSON_SORTED)) {
        jv t = jv_dump_string(jv_copy(v), jq_flags(flags));
        sb_add(sb, jv_string_value(t), (size_t)jv_string_length_bytes(jv_copy(t)));
        jv_free(t);
    } else {
        append_value(sb, v);
    }
}

static int
jq_flags(int flags)
{
    int f = 0;

    if (flags & JSON_PRETTY)
        f |= JV_PRINT_INDENT_FLAGS(2);
    if (flags & JSON_SORTED)
        f |= JV_PRINT_SORTED;
    return f;
}

void
json_write(FILE *f, jv v, int flags)
{
    strbuf sb = STRBUF_INIT;

    json_append(&sb, v, flags);
    sb_add(&sb, "\n", 1);
    fwrite(sb.buf, 1, sb.len, f);
    sb_free(&sb);
    jv_free(v);
}

char *
json_dump(jv v, int flags)
{
    strbuf sb = STRBUF_INIT;

    json_append(&sb, v, flags);
    return sb_detach(&sb, NULL);
}

/* A parse error of json_parse_mem(): jq's text with its position. */
static jv
parse_fail(jv msg, osm_err *err)
{
    osm_fail(err, OSM_EDATA, "parse error: %s",
             jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg) :
             "invalid JSON");
    jv_free(msg);
    return jv_invalid();
}

jv
json_parse_mem(const char *s, size_t len, osm_err *err)
{
    jv_parser *p;
    jv value = jv_invalid();
    size_t off = 0;
    int last = 0;
    const char *rs = memchr(s, '\x1e', len);

    /* never fed to jq: see record_separator() */
    if (rs) {
        osm_fail(err, OSM_EDATA, "parse error: unexpected record separator (0x1E) at byte %zu",
                 (size_t)(rs - s) + 1);
        return jv_invalid();
    }
    p = jv_parser_new(0);

    /* jv_parser_set_buf() takes an int: feed at most 1 GiB at a time */
    while (!last) {
        size_t n = len - off;
        if (n > ((size_t)1 << 30))
            n = (size_t)1 << 30;
        last = off + n == len;
        jv_parser_set_buf(p, s + off, (int)n, !last);
        off += n;
        for (;;) {
            jv v = jv_parser_next(p);
            if (jv_is_valid(v)) {
                if (jv_is_valid(value)) {
                    jv_free(v);
                    jv_free(value);
                    jv_parser_free(p);
                    osm_fail(err, OSM_EDATA,
                             "parse error: unexpected extra JSON value");
                    return jv_invalid();
                }
                value = v;
                continue;
            }
            if (jv_invalid_has_msg(jv_copy(v))) {
                jv_free(value);
                jv_parser_free(p);
                return parse_fail(jv_invalid_get_msg(v), err);
            }
            jv_free(v);
            break;
        }
    }
    jv_parser_free(p);
    if (!jv_is_valid(value))
        osm_fail(err, OSM_EDATA, "parse error: no JSON value");
    return value;
}

jv
json_parse_str(const char *s, osm_err *err)
{
    return json_parse_mem(s, strlen(s), err);
}

jv
json_get(jv obj, const char *key)
{
    jv v;

    if (jv_get_kind(obj) != JV_KIND_OBJECT)
        return jv_null();
    v = jv_object_get(jv_copy(obj), jv_string(key));
    if (!jv_is_valid(v)) {
        jv_free(v);
        return jv_null();
    }
    return v;
}

const char *
json_str(jv obj, const char *key)
{
    jv v = json_get(obj, key);
    const char *s = NULL;

    /* obj still holds a reference to the string, so its bytes live on */
    if (jv_get_kind(v) == JV_KIND_STRING)
        s = jv_string_value(v);
    jv_free(v);
    return s;
}

int
json_get_int(jv obj, const char *key, long long *out)
{
    jv v = json_get(obj, key);
    jv_kind k = jv_get_kind(v);
    double d;

    if (k == JV_KIND_NULL)
        return 0;
    if (k != JV_KIND_NUMBER) {
        jv_free(v);
        return -1;
    }
    d = jv_number_value(v);
    jv_free(v);
    /* 2^63 is exact as a double; the range is [-2^63, 2^63) */
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0) ||
        (double)(long long)d != d)
        return -1;
    *out = (long long)d;
    return 1;
}
