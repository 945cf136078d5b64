/* lib/termtext: what reaches a terminal from a table is shown escaped. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "tap.h"
#include "termtext.h"

static void
esc(const char *in, const char *want, const char *what)
{
    char *got = termtext_escape(in);
    is_str(got, want, "%s", what);
    free(got);
}

static void
test_escape(void)
{
    esc("plain text", "plain text", "plain ASCII is kept");
    esc(NULL, "", "NULL reads as empty");
    esc("\x1b[2J\x1b[31mA-1", "\\x1b[2J\\x1b[31mA-1", "escape sequences are shown, not sent");
    esc("a\tb\nc\rd", "a\\tb\\nc\\rd", "tab, newline and carriage return");
    esc("\x01\x07\x08\x7f", "\\x01\\x07\\x08\\x7f", "other C0 controls and DEL");
    esc("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa6", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa6",
        "UTF-8 characters are kept");
    esc("\xc2\x9b" "31m", "\\u009b31m", "a C1 control (CSI) is escaped");
    esc("\xc2\x85", "\\u0085", "NEL is escaped");
    esc("abc\xe2\x80\xae" "fed", "abc\\u202efed", "a right-to-left override is escaped");
    esc("\xe2\x81\xa6x\xe2\x81\xa9", "\\u2066x\\u2069", "isolates are escaped");
    esc("\x9b" "31m", "\\x9b31m", "a lone C1 byte (not UTF-8) is escaped");
    esc("\xff\xfe", "\\xff\\xfe", "bytes that are never UTF-8");
    esc("\xc0\xaf", "\\xc0\\xaf", "an overlong form");
    esc("\xed\xa0\x80", "\\xed\\xa0\\x80", "a surrogate");
    esc("\xe2\x82", "\\xe2\\x82", "a sequence cut short at the end");
    esc("\xe2\x82" "A", "\\xe2\\x82A", "a sequence cut short by ASCII");
    esc("back\\slash", "back\\slash", "a backslash is kept");
}

static void
test_line(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    termtext_line(f, "%-6s|%s", "ID", "\x1b]0;title\x07");
    termtext_line(f, "%d rows", 2);
    fclose(f);
    is_str(buf, "ID    |\\x1b]0;title\\x07\n2 rows\n", "a formatted line, escaped, then a newline");
    free(buf);
}

int
main(void)
{
    test_escape();
    test_line();
    return done_testing();
}
