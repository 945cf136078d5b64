/*
 * Text for terminals (see termtext.h).
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "termtext.h"
#include "xalloc.h"

/*
 * The length of the well-formed UTF-8 sequence at p (1..4) with its code
 * point in *cp, or 0 when p does not start one (a stray continuation
 * byte, an overlong form, a surrogate, past U+10FFFF, cut short).
 */
static size_t
utf8_seq(const unsigned char *p, uint32_t *cp)
{
    size_t n;
    uint32_t c, min;

    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    if (p[0] >= 0xc2 && p[0] <= 0xdf)
        n = 2, c = p[0] & 0x1f, min = 0x80;
    else if (p[0] >= 0xe0 && p[0] <= 0xef)
        n = 3, c = p[0] & 0x0f, min = 0x800;
    else if (p[0] >= 0xf0 && p[0] <= 0xf4)
        n = 4, c = p[0] & 0x07, min = 0x10000;
    else
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)     /* also stops at the NUL */
            return 0;
        c = c << 6 | (p[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return n;
}

/* Does a terminal act on code point c (above ASCII)? */
static int
acts_on(uint32_t c)
{
    return (c >= 0x80 && c <= 0x9f) || (c >= 0x202a && c <= 0x202e) ||
           (c >= 0x2066 && c <= 0x2069);
}

static void
escape_into(strbuf *sb, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");

    while (*p) {
        uint32_t c;
        size_t n = utf8_seq(p, &c);

        if (n == 0) {
            sb_addf(sb, "\\x%02x", *p);
            p++;
        } else if (n == 1 && (c < 0x20 || c == 0x7f)) {
            if (c == '\t')
                sb_adds(sb, "\\t");
            else if (c == '\n')
                sb_adds(sb, "\\n");
            else if (c == '\r')
                sb_adds(sb, "\\r");
            else
                sb_addf(sb, "\\x%02x", (unsigned)c);
            p++;
        } else if (n > 1 && acts_on(c)) {
            sb_addf(sb, "\\u%04x", (unsigned)c);
            p += n;
        } else {
            sb_add(sb, p, n);
            p += n;
        }
    }
}

char *
termtext_escape(const char *s)
{
    strbuf sb = STRBUF_INIT;

    escape_into(&sb, s);
    return sb_detach(&sb, NULL);
}

void
termtext_line(FILE *f, const char *fmt, ...)
{
    strbuf sb = STRBUF_INIT;
    va_list ap;
    char *raw;

    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    raw = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(raw, (size_t)n + 1, fmt, ap);
    va_end(ap);
    escape_into(&sb, raw);
    free(raw);
    sb_add(&sb, "\n", 1);
    fwrite(sb.buf, 1, sb.len, f);
    sb_free(&sb);
}
