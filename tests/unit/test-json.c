/*
 * Unit tests for lib/json: the stream reader (values, NDJSON, errors and
 * their positions, resync, the size cap), the writer (the same bytes as
 * jq's) and the jv helpers.
 *
 * Most reader tests run a stream through transcript(), which turns what
 * the reader returns into text -- "L3 {...}" for a value that began on
 * line 3, "E65 message" for a bad record -- so that a case is its input
 * and its expected transcript.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "diag.h"
#include "json.h"
#include "tap.h"
#include "xalloc.h"

/* A reader over the bytes s[0, n), through a temporary file. */
static json_reader *
mem_reader(const char *s, size_t n, const char *name, FILE **tmp)
{
    *tmp = tmpfile();
    if (!*tmp || fwrite(s, 1, n, *tmp) != n || fflush(*tmp) != 0 ||
        lseek(fileno(*tmp), 0, SEEK_SET) != 0) {
        perror("tmpfile");
        exit(99);
    }
    return json_reader_fdopen(fileno(*tmp), name);
}

/* Everything r returns, as text; malloc'ed. */
static char *
transcript(json_reader *r)
{
    strbuf sb = STRBUF_INIT;
    osm_err err = { 0, "" };
    jv v;
    int rc;

    while ((rc = json_reader_next(r, &v, &err)) != 0) {
        if (rc == 1) {
            char *s = json_dump(v, 0);
            sb_addf(&sb, "L%ld %s\n", json_reader_line(r), s);
            free(s);
        } else {
            sb_addf(&sb, "E%d %s\n", rc, err.msg);
        }
        jv_free(v);
    }
    return sb_detach(&sb, NULL);
}

/* The transcript of a stream given as a string, read as "in.json". */
static void
check_stream(const char *input, size_t max, const char *want,
             const char *what)
{
    FILE *tmp;
    json_reader *r = mem_reader(input, strlen(input), "in.json", &tmp);
    char *got;

    if (max)
        json_reader_set_max(r, max);
    got = transcript(r);
    is_str(got, want, "%s", what);
    free(got);
    json_reader_free(r);
    fclose(tmp);
}

static void
test_streams(void)
{
    check_stream("{\"a\": [1, 2, {\"b\": null}]}\n", 0,
                 "L1 {\"a\":[1,2,{\"b\":null}]}\n", "single value");
    check_stream("{\"a\":1}{\"b\":2} 3 \"x\"[4]true\nnull\n  -1.5e3", 0,
                 "L1 {\"a\":1}\nL1 {\"b\":2}\nL1 3\nL1 \"x\"\nL1 [4]\n"
                 "L1 true\nL2 null\nL3 -1500\n",
                 "concatenated values, the last one a number at EOF");
    check_stream("{\"id\":1}\n{\"id\":2}\n\n{\"id\":3}\n", 0,
                 "L1 {\"id\":1}\nL2 {\"id\":2}\nL4 {\"id\":3}\n",
                 "NDJSON with a blank line");
    check_stream("{\"id\":1}\r\n{\"id\":2}\r\n", 0,
                 "L1 {\"id\":1}\nL2 {\"id\":2}\n", "NDJSON with CRLF");
    check_stream("{\n  \"a\": 1,\n  \"b\": [\n    2\n  ]\n}\n[\n]\n", 0,
                 "L1 {\"a\":1,\"b\":[2]}\nL7 []\n",
                 "pretty-printed documents, lines of their first byte");
    check_stream(" \n\t\r\n   \n", 0, "", "whitespace only: no values");
    check_stream("", 0, "", "empty input: no values");
    check_stream("\xEF\xBB\xBF{\"a\":1} x\n", 0,
                 "L1 {\"a\":1}\n"
                 "E65 in.json:1:10: parse error: Invalid numeric literal\n",
                 "a byte order mark is skipped, columns start after it");
}

static void
test_errors(void)
{
    check_stream("{\"id\":1}\n{\"id\":2,\"x\":tru}\n{\"id\":3}\n", 0,
                 "L1 {\"id\":1}\n"
                 "E65 in.json:2:16: parse error: Invalid literal\n"
                 "L3 {\"id\":3}\n",
                 "malformed NDJSON record: exact position, then the rest");
    check_stream("{\"id\":1}\n{\"id\":2,,}\n[1,2]\n", 0,
                 "L1 {\"id\":1}\n"
                 "E65 in.json:2:9: parse error: Expected value before ','\n"
                 "L3 [1,2]\n", "a second kind of error");
    check_stream("{\"id\":1} {\"id\":2 ]\n{\"id\":3}\n", 0,
                 "L1 {\"id\":1}\n"
                 "E65 in.json:1:18: parse error: Unmatched ']'\n"
                 "L2 {\"id\":3}\n",
                 "error after a good value on the same line");
    check_stream("{\"id\":1,\"x\":[1\n{\"id\":2}\n", 0,
                 "E65 in.json:2:1: parse error: Expected separator between "
                 "values (unfinished value from line 1 dropped)\n"
                 "L2 {\"id\":2}\n",
                 "a truncated NDJSON line costs only itself");
    check_stream("{\"id\":1}\n{\"id\":2,\"x\":[1,", 0,
                 "L1 {\"id\":1}\n"
                 "E65 in.json:2:15: parse error: Unfinished JSON term at "
                 "EOF\n",
                 "truncated value at EOF, position of its last byte");
    check_stream("{\"id\":1}\n{\"id\":\"abc\n", 0,
                 "L1 {\"id\":1}\n"
                 "E65 in.json:2:11: parse error: Unfinished string at EOF\n",
                 "unterminated string at EOF");
    check_stream("{\n  \"a\": 1,\n  \"b\": ,\n  \"c\": {\n    \"d\": 3\n"
                 "  }\n}\n{\n  \"ok\": 1\n}\n", 0,
                 "E65 in.json:3:8: parse error: Expected value before ','\n"
                 "L8 {\"ok\":1}\n",
                 "bad pretty document: its indented lines are skipped");
    check_stream("[1,2]]\n]\n,\n  {\"indented\":1}\n7\n", 0,
                 "L1 [1,2]\n"
                 "E65 in.json:1:6: parse error: Unmatched ']'\n"
                 "L5 7\n",
                 "resync skips lines starting with ], comma or a blank");
    check_stream("tru\n1\n", 0,
                 "E65 in.json:1:4: parse error: Invalid literal\nL2 1\n",
                 "error detected at a newline is reported at the newline");

    /* a record separator (0x1E) costs its record only (jq 1.6 aborts
     * on one inside a string, and drops a value cut short by one) */
    check_stream("\036{}", 0,
                 "E65 in.json:1:1: parse error: unexpected record separator (0x1E)\n",
                 "a record separator before a value: that record only");
    check_stream("{\"id\":1}\n\036{\"id\":2}\n{\"id\":3}\n", 0,
                 "L1 {\"id\":1}\n"
                 "E65 in.json:2:1: parse error: unexpected record separator (0x1E)\n"
                 "L3 {\"id\":3}\n",
                 "a record separator starting an NDJSON line costs that line");
    check_stream("{\"s\":\"a\036b\"}\n{\"id\":3}\n", 0,
                 "E65 in.json:1:8: parse error: unexpected record separator (0x1E)\n"
                 "L2 {\"id\":3}\n",
                 "a record separator inside a string");
    check_stream("{\"id\":1\036\n2\n", 0,
                 "E65 in.json:1:8: parse error: unexpected record separator (0x1E)\n"
                 "L2 2\n",
                 "a value cut short by a record separator is an error, not dropped");
    check_stream("[1]\036\036[2]\n\036\n[3]\n", 0,
                 "L1 [1]\n"
                 "E65 in.json:1:4: parse error: unexpected record separator (0x1E)\n"
                 "E65 in.json:2:1: parse error: unexpected record separator (0x1E)\n"
                 "L3 [3]\n",
                 "separators after a value, and alone on a line");

    /* NUL bytes and invalid UTF-8: jq's answer, no crash */
    {
        static const char in[] = "a\0b\n{\"s\":\"\xff\"}\n{\"n\":\"\0\"}\n";
        FILE *tmp;
        json_reader *r = mem_reader(in, sizeof in - 1, "bin", &tmp);
        char *got = transcript(r);
        is_str(got, "E65 bin:1:4: parse error: Invalid numeric literal\n"
               "L2 {\"s\":\"\xef\xbf\xbd\"}\n"
               "L3 {\"n\":\"\\u0000\"}\n",
               "NUL outside a string is an error; invalid UTF-8 replaced");
        free(got);
        json_reader_free(r);
        fclose(tmp);
    }
}

static void
test_chunks(void)
{
    /* values, errors and columns across 64 KiB chunk boundaries */
    size_t big = 200000;
    strbuf in = STRBUF_INIT, want = STRBUF_INIT;
    char *s = xmalloc(big + 1), *got;
    FILE *tmp;
    json_reader *r;

    memset(s, 'y', big);
    s[big] = '\0';
    sb_addf(&in, "{\"id\":1,\"s\":\"%s\"}\n", s);
    sb_addf(&in, "{\"id\":2,\"s\":\"%s\",\"x\":nul}\n", s);
    sb_adds(&in, "{\"id\":3}\n");
    r = mem_reader(in.buf, in.len, "big", &tmp);
    got = transcript(r);
    sb_addf(&want, "L1 {\"id\":1,\"s\":\"%s\"}\n", s);
    /* the "}" after "nul", 23 bytes after the string's first byte */
    sb_addf(&want, "E65 big:2:%zu: parse error: Invalid numeric literal\n",
            big + 23);
    sb_adds(&want, "L3 {\"id\":3}\n");
    ok(strcmp(got, want.buf) == 0,
       "values and error columns across chunk boundaries");
    if (strcmp(got, want.buf) != 0)
        tap_diag("got %.200s", got);
    free(got);
    json_reader_free(r);
    fclose(tmp);
    sb_free(&in);
    sb_free(&want);
    free(s);

    /* one value spread over many lines and chunks */
    sb_adds(&in, "[\n");
    for (int i = 0; i < 50000; i++)
        sb_addf(&in, "  %d,\n", i);
    sb_adds(&in, "  -1\n]\n\"after\"\n");
    r = mem_reader(in.buf, in.len, "long", &tmp);
    {
        osm_err err = { 0, "" };
        jv v, w;
        is_int(json_reader_next(r, &v, &err), 1, "long array read");
        is_int(jv_get_kind(v) == JV_KIND_ARRAY ?
               jv_array_length(jv_copy(v)) : -1, 50001, "all its elements");
        jv_free(v);
        is_int(json_reader_next(r, &w, &err), 1, "value after it read");
        is_int(json_reader_line(r), 50004, "on the right line");
        jv_free(w);
        is_int(json_reader_next(r, &v, &err), 0, "then the end");
        is_int(json_reader_next(r, &v, &err), 0, "and the end again");
    }
    json_reader_free(r);
    fclose(tmp);
    sb_free(&in);
}

static void
test_size_cap(void)
{
    check_stream("{\"a\":\"xxxxxxxxxxxxxxxxxxxxxxxx\"}\n{\"b\":1}\n"
                 "[1,2,3]\n", 20,
                 "E65 in.json:1: document larger than 20 bytes\n"
                 "L2 {\"b\":1}\nL3 [1,2,3]\n",
                 "set_max: over the cap refused");
    check_stream("{\"a\":\"xxxxxxxxx\"}\n", 17,
                 "L1 {\"a\":\"xxxxxxxxx\"}\n", "a value of exactly the cap");
    check_stream("1 {\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\":1} 2\n3\n", 10,
                 "L1 1\nE65 in.json:1: document larger than 10 bytes\nL2 3\n",
                 "a value over the cap that began inside a segment");
    check_stream("[\n\"aaaaaaaa\",\n\"bbbbbbbb\",\n\"cccccccc\"\n]\n"
                 "{\"ok\":1}\n", 2048,
                 "L1 [\"aaaaaaaa\",\"bbbbbbbb\",\"cccccccc\"]\n"
                 "L6 {\"ok\":1}\n", "a cap in KiB");
    {
        /* 2002 arrays and objects: over 1024 (64 KiB / 64), under 16384 */
        strbuf in = STRBUF_INIT, want = STRBUF_INIT;
        sb_adds(&in, "{\"a\":[");
        for (int i = 0; i < 2000; i++)
            sb_adds(&in, i ? ",[]" : "[]");
        sb_adds(&in, "]}\n{\"b\":[[],[]]}\n");
        check_stream(in.buf, 64 << 10,
                     "E65 in.json:1: document has more than 1024 arrays and "
                     "objects\nL2 {\"b\":[[],[]]}\n",
                     "too many arrays and objects for the cap: refused");
        sb_adds(&want, "L1 ");
        sb_add(&want, in.buf, strlen(in.buf) - strlen("{\"b\":[[],[]]}\n"));
        sb_adds(&want, "L2 {\"b\":[[],[]]}\n");
        check_stream(in.buf, 1 << 20, want.buf,
                     "the same under a larger cap: read");
        sb_free(&in);
        sb_free(&want);
    }
    check_stream("[\n  \"aaaaaaaa\",\n  \"bbbbbbbb\",\n  \"cccccccc\"\n]\n"
                 "{\"ok\":1}\n", 15,
                 "E65 in.json:1: document larger than 15 bytes\n"
                 "L6 {\"ok\":1}\n",
                 "a multi-line value over the cap: its inner lines skipped");
}

/*
 * The 50 MB line: a child writes it down a pipe, followed by a good
 * record; the reader must refuse it without buffering it and go on.
 */
static void
test_huge_line(void)
{
    size_t total = (size_t)50 << 20, block = 1 << 20;
    int fds[2];
    pid_t pid;
    struct rusage ru;
    long before, after;

    if (pipe(fds) != 0) {
        perror("pipe");
        exit(99);
    }
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        char *b = malloc(block);
        close(fds[0]);
        memset(b, 'x', block);
        if (write(fds[1], "{\"id\":\"big\",\"data\":\"", 20) != 20)
            _exit(1);
        for (size_t done = 0; done < total; done += block)
            if (write(fds[1], b, block) != (ssize_t)block)
                _exit(1);
        free(b);
        if (write(fds[1], "\"}\n{\"id\":\"after\"}\n", 18) != 18)
            _exit(1);
        _exit(0);
    }
    close(fds[1]);
    getrusage(RUSAGE_SELF, &ru);
    before = ru.ru_maxrss;
    {
        json_reader *r = json_reader_fdopen(fds[0], "pipe");
        osm_err err = { 0, "" };
        jv v;
        int rc, status;

        rc = json_reader_next(r, &v, &err);
        is_int(rc, OSM_EDATA, "50 MB line refused with 65");
        is_str(err.msg, "pipe:1: document larger than 16 MiB",
               "with the default cap in the message");
        jv_free(v);
        getrusage(RUSAGE_SELF, &ru);
        after = ru.ru_maxrss;
        rc = json_reader_next(r, &v, &err);
        is_int(rc, 1, "the next line is read");
        is_str(json_str(v, "id"), "after", "and it is the right record");
        is_int(json_reader_line(r), 2, "on line 2");
        jv_free(v);
        is_int(json_reader_next(r, &v, &err), 0, "then the end");
        json_reader_free(r);
        close(fds[0]);
        waitpid(pid, &status, 0);
        ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
           "the writer wrote it all (the reader read past it)");
    }
    /*
     * Without the cap, jq's token buffer alone would double up to 64 MiB
     * and the string would take 50 MB more.  With it, the growth is about
     * the cap; sanitizers and valgrind keep freed blocks aside, so they
     * get more room, still well below what buffering the line would take.
     */
    {
        const char *pre = getenv("LD_PRELOAD");
        long room = 40;
#if defined(__SANITIZE_ADDRESS__)
        room = 96;
#endif
        if (pre && strstr(pre, "vgpreload"))
            room = 96;
        ok(after - before < room * 1024,
           "memory stays near the cap (peak grew by %ld MiB, room %ld)",
           (after - before) / 1024, room);
    }
}

static void
test_open(void)
{
    osm_err err = { 0, "" };
    json_reader *r;
    char path[] = "/tmp/osm-test-json-XXXXXX";
    int fd;
    jv v;

    r = json_reader_open("/nonexistent/orders.json", &err);
    ok(r == NULL, "missing file: NULL");
    is_int(err.code, OSM_ENOINPUT, "missing file: 66");
    is_str(err.msg, "/nonexistent/orders.json: No such file or directory",
           "missing file: message");
    r = json_reader_open("/", &err);
    ok(r == NULL, "directory: NULL");
    is_int(err.code, OSM_ENOINPUT, "directory: 66");
    is_str(err.msg, "/: Is a directory", "directory: message");

    fd = mkstemp(path);
    if (fd < 0 || write(fd, "{\"a\":1}\n", 8) != 8) {
        perror(path);
        exit(99);
    }
    close(fd);
    r = json_reader_open(path, &err);
    ok(r != NULL, "open a file");
    is_str(json_reader_name(r), path, "named by its path");
    is_int(json_reader_next(r, &v, &err), 1, "read its value");
    {
        long long a = 0;
        is_int(json_get_int(v, "a", &a), 1, "the right value");
        is_int(a, 1, "the right value: 1");
    }
    jv_free(v);
    is_int(json_reader_next(r, &v, &err), 0, "then the end");
    json_reader_free(r);
    unlink(path);

    r = json_reader_open("-", &err);
    is_str(json_reader_name(r), "<stdin>", "- is <stdin>");
    json_reader_free(r);
    ok(fcntl(STDIN_FILENO, F_GETFD) != -1, "stdin is not closed on free");

    /* a read error ends the stream with 74 */
    fd = open("/", O_RDONLY);
    r = json_reader_fdopen(fd, "dir");
    is_int(json_reader_next(r, &v, &err), OSM_EIO, "read error: 74");
    is_str(err.msg, "dir: read error: Is a directory", "read error: message");
    is_int(json_reader_next(r, &v, &err), 0, "then the end");
    json_reader_free(r);
    ok(fcntl(fd, F_GETFD) != -1, "fdopen: the descriptor stays open");
    close(fd);
}

/* What json_write() prints for v with flags. */
static char *
written(jv v, int flags)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    json_write(f, v, flags);
    fclose(f);
    return buf;
}

static void
test_writer(void)
{
    osm_err err = { 0, "" };
    jv v = json_parse_str("{\"b\":[1,{\"c\":null}],\"a\":\"x\\u00e9\\n\","
                          "\"e\":{},\"f\":[],\"n\":1.5}", &err);
    char *s;

    s = written(jv_copy(v), 0);
    is_str(s, "{\"b\":[1,{\"c\":null}],\"a\":\"x\xc3\xa9\\n\","
           "\"e\":{},\"f\":[],"
           "\"n\":1.5}\n", "compact output");
    free(s);
    s = written(jv_copy(v), JSON_PRETTY);
    is_str(s, "{\n"
           "  \"b\": [\n"
           "    1,\n"
           "    {\n"
           "      \"c\": null\n"
           "    }\n"
           "  ],\n"
           "  \"a\": \"x\xc3\xa9\\n\",\n"
           "  \"e\": {},\n"
           "  \"f\": [],\n"
           "  \"n\": 1.5\n"
           "}\n", "pretty output");
    free(s);
    s = written(jv_copy(v), JSON_SORTED);
    is_str(s, "{\"a\":\"x\xc3\xa9\\n\",\"b\":[1,{\"c\":null}],"
           "\"e\":{},\"f\":[],"
           "\"n\":1.5}\n", "sorted output");
    free(s);
    s = written(jv_copy(v), JSON_SORTED | JSON_PRETTY);
    ok(strncmp(s, "{\n  \"a\": ", 9) == 0, "sorted and pretty");
    free(s);
    s = written(jv_number(3), 0);
    is_str(s, "3\n", "a number");
    free(s);
    s = json_dump(v, 0);
    is_str(s, "{\"b\":[1,{\"c\":null}],\"a\":\"x\xc3\xa9\\n\","
           "\"e\":{},\"f\":[],"
           "\"n\":1.5}", "json_dump: no newline, v not consumed");
    free(s);
    s = json_dump(v, JSON_SORTED);
    ok(strncmp(s, "{\"a\":", 5) == 0, "json_dump sorted");
    free(s);
    jv_free(v);
}

/* A random value for test_writer_like_jq(), depth levels deep at most. */
static jv
random_value(unsigned *seed, int depth)
{
    static const double numbers[] = {
        0, 1, -1, 42, -7, 1e15, 9007199254740991.0, 9007199254740992.0,
        -9007199254740991.0, 1e16, 1e17, 123456789012345678.0, 1152921504606846976.0,
        0.1, 1.5, -2.25, 1e-5, 1e-7, 0.0001, 3.0e300, 1e308, 5e-324, 100.5
    };
    int kind = rand_r(seed) % (depth > 0 ? 8 : 6);

    switch (kind) {
    case 0: return jv_null();
    case 1: return rand_r(seed) % 2 ? jv_true() : jv_false();
    case 2: {
        int which = rand_r(seed) % 30;
        if (which < (int)(sizeof numbers / sizeof *numbers))
            return jv_number(rand_r(seed) % 2 ? numbers[which] : -numbers[which]);
        if (which == 25)
            return jv_number(-0.0);
        if (which == 26)
            return jv_number(NAN);
        if (which == 27)
            return jv_number(INFINITY);
        if (which == 28)
            return jv_number(-INFINITY);
        return jv_number((double)rand_r(seed) / 7.0);
    }
    case 3: case 4: case 5: {
        /* every ASCII byte, and code points of every UTF-8 length */
        jv str = jv_string("");
        int n = rand_r(seed) % 12;
        for (int i = 0; i < n; i++) {
            int r = rand_r(seed) % 10, cp;
            if (r < 5)
                cp = rand_r(seed) % 128;
            else if (r < 7)
                cp = 0x80 + rand_r(seed) % 0x780;
            else if (r < 9)
                cp = 0x800 + rand_r(seed) % 0xd000;
            else
                cp = 0x10000 + rand_r(seed) % 0x100000;
            str = jv_string_append_codepoint(str, (uint32_t)cp);
        }
        return str;
    }
    case 6: {
        jv a = jv_array();
        int n = rand_r(seed) % 5;
        for (int i = 0; i < n; i++)
            a = jv_array_append(a, random_value(seed, depth - 1));
        return a;
    }
    default: {
        jv o = jv_object();
        int n = rand_r(seed) % 6;
        for (int i = 0; i < n; i++) {
            char key[16];
            snprintf(key, sizeof key, "k%d", rand_r(seed) % 8);
            o = jv_object_set(o, jv_string(key), random_value(seed, depth - 1));
        }
        /* holes where members were, which the order of keys skips */
        if (rand_r(seed) % 3 == 0)
            o = jv_object_delete(o, jv_string("k1"));
        return o;
    }
    }
}

/* The compact writer prints what jq 1.6 prints, byte for byte. */
static void
test_writer_like_jq(void)
{
    unsigned seed = 20261126;
    int same = 0, n = 20000;
    char *first_diff = NULL;

    for (int i = 0; i < n; i++) {
        jv v = random_value(&seed, 4);
        jv want = jv_dump_string(jv_copy(v), 0);
        char *got = json_dump(v, 0);
        if (strlen(got) == (size_t)jv_string_length_bytes(jv_copy(want)) &&
            memcmp(got, jv_string_value(want), strlen(got)) == 0)
            same++;
        else if (!first_diff)
            first_diff = xasprintf("got %s want %s", got, jv_string_value(want));
        free(got);
        jv_free(want);
        jv_free(v);
    }
    is_int(same, n, "20000 random values written as jq writes them");
    if (first_diff)
        tap_diag("%s", first_diff);
    free(first_diff);
}

static void
test_helpers(void)
{
    osm_err err = { 0, "" };
    jv o = json_parse_str("{\"s\":\"str\",\"n\":42,\"f\":1.5,\"neg\":-7,"
                          "\"z\":null,\"big\":1e30,\"o\":{\"k\":[1]}}", &err);
    jv v;
    long long i = -99;

    is_str(json_str(o, "s"), "str", "json_str: a string member");
    ok(json_str(o, "n") == NULL, "json_str: not a string");
    ok(json_str(o, "missing") == NULL, "json_str: missing");
    ok(json_str(jv_number(1), "s") == NULL, "json_str: not an object");

    v = json_get(o, "o");
    is_int(jv_get_kind(v), JV_KIND_OBJECT, "json_get: a member");
    jv_free(v);
    v = json_get(o, "missing");
    is_int(jv_get_kind(v), JV_KIND_NULL, "json_get: missing is null");
    {
        jv a = jv_array();
        v = json_get(a, "a");
        is_int(jv_get_kind(v), JV_KIND_NULL,
               "json_get: not an object is null");
        jv_free(a);
    }

    is_int(json_get_int(o, "n", &i), 1, "json_get_int: integer");
    is_int(i, 42, "json_get_int: its value");
    is_int(json_get_int(o, "neg", &i), 1, "json_get_int: negative");
    is_int(i, -7, "json_get_int: negative value");
    i = -99;
    is_int(json_get_int(o, "f", &i), -1, "json_get_int: fraction");
    is_int(json_get_int(o, "s", &i), -1, "json_get_int: string");
    is_int(json_get_int(o, "big", &i), -1, "json_get_int: out of range");
    is_int(json_get_int(o, "z", &i), 0, "json_get_int: null");
    is_int(json_get_int(o, "missing", &i), 0, "json_get_int: missing");
    is_int(i, -99, "json_get_int: *out untouched when not 1");
    ok(jv_get_kind(o) == JV_KIND_OBJECT, "helpers did not consume obj");
    jv_free(o);

    v = json_parse_str("  [1, \"a\"]  ", &err);
    is_int(jv_get_kind(v), JV_KIND_ARRAY, "json_parse_str: a value");
    jv_free(v);
    v = json_parse_str("7", &err);
    is_int(jv_get_kind(v), JV_KIND_NUMBER, "json_parse_str: a bare number");
    jv_free(v);
    v = json_parse_str("{\"a\" 1}", &err);
    ok(!jv_is_valid(v), "json_parse_str: error gives invalid");
    jv_free(v);
    is_int(err.code, OSM_EDATA, "json_parse_str: error is 65");
    is_str(err.msg, "parse error: Expected separator between values at "
           "line 1, column 7", "json_parse_str: jq's message and position");
    v = json_parse_str(" \n ", &err);
    ok(!jv_is_valid(v), "json_parse_str: blank is invalid");
    jv_free(v);
    is_str(err.msg, "parse error: no JSON value", "blank: message");
    v = json_parse_str("1 2", &err);
    ok(!jv_is_valid(v), "json_parse_str: two values invalid");
    jv_free(v);
    is_str(err.msg, "parse error: unexpected extra JSON value",
           "two values: message");
    v = json_parse_str("[1,", &err);
    is_str(err.msg, "parse error: Unfinished JSON term at EOF at line 1, "
           "column 3", "truncated: message");
    jv_free(v);
    v = json_parse_str("\036{}", &err);
    ok(!jv_is_valid(v), "json_parse_str: a record separator is refused");
    jv_free(v);
    is_str(err.msg, "parse error: unexpected record separator (0x1E) at byte 1",
           "record separator: message");
    v = json_parse_str("{\"a\":\"x\036y\"}", &err);
    ok(!jv_is_valid(v), "json_parse_str: a record separator inside a string is refused");
    jv_free(v);
    is_str(err.msg, "parse error: unexpected record separator (0x1E) at byte 8",
           "record separator in a string: message");
    v = json_parse_mem("\"a\"\0", 4, &err);
    ok(!jv_is_valid(v), "json_parse_mem: a NUL byte after the value is seen");
    /* jq 1.6 reads a lone NUL byte as the number 0 */
    is_str(err.msg, "parse error: unexpected extra JSON value",
           "json_parse_mem: as a second value (jq 1.6)");
    jv_free(v);
}

int
main(void)
{
    signal(SIGPIPE, SIG_IGN);
    test_streams();
    test_errors();
    test_chunks();
    test_size_cap();
    test_huge_line();
    test_open();
    test_writer();
    test_writer_like_jq();
    test_helpers();
    return done_testing();
}
