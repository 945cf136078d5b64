/*
 * Unit tests for lib/jqprog: one combined compile for many programs,
 * selection by index, the variables, programs running programs, compile
 * errors pinned on the right program, runtime errors, empty output,
 * nothing read from stdin and nothing printed to stderr, ~/.jq ignored,
 * the CPU budget of a run (OSM_JQ_BUDGET), and a long run of calls (run it under valgrind: it must not leak).
 */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jv.h>

#include "diag.h"
#include "jqprog.h"
#include "json.h"
#include "tap.h"
#include "xalloc.h"

static jv
J(const char *s)
{
    osm_err err;
    jv v = json_parse_str(s, &err);
    if (!jv_is_valid(v)) {
        fprintf(stderr, "bad test JSON: %s: %s\n", s, err.msg);
        exit(99);
    }
    return v;
}

/* v (consumed) as compact JSON, in a static buffer. */
static const char *
S(jv v)
{
    static char buf[4096];
    char *s = json_dump(v, JSON_SORTED);
    snprintf(buf, sizeof buf, "%s", s);
    free(s);
    jv_free(v);
    return buf;
}

static void
test_combined(void)
{
    jqprog *p = jqprog_new();
    osm_err err = { 0, "" };
    jv out, problems;
    unsigned long before;
    int a, b, c, d, e, vars, envp;

    a = jqprog_add(p, "a", ".a");
    b = jqprog_add(p, "b", ".b + 1  # a trailing comment");
    c = jqprog_add(p, "c", "[.[]? | . * 2]");
    d = jqprog_add(p, "d", "empty");
    e = jqprog_add(p, "e", "1, 2, 3");
    vars = jqprog_add(p, "vars",
                      "[$now, $order.id, $item, $task, $old, $new]");
    envp = jqprog_add(p, "env", "$env | keys");
    is_int(a, 0, "first index 0");
    is_int(vars, 5, "indexes count up");
    is_int(jqprog_count(p), 7, "jqprog_count");
    is_str(jqprog_name(p, b), "b", "jqprog_name");
    ok(jqprog_name(p, 7) == NULL && jqprog_name(p, -1) == NULL,
       "jqprog_name out of range: NULL");

    before = jqprog_compile_count();
    is_int(jqprog_compile(p, &problems, &err), 0, "combined compile");
    is_str(S(problems), "[]", "no problems");
    is_int(jqprog_compile_count() - before, 1, "compiled once");
    is_int(jqprog_add(p, "late", "."), -1, "no adding after compile");
    is_int(jqprog_compile(p, NULL, &err), 0, "compiling again: a no-op");
    is_int(jqprog_compile_count() - before, 1, "still compiled once");

    is_int(jqprog_run1(p, a, J("{\"a\":5,\"b\":1}"), jv_null(), &out, &err),
           0, "run1 a");
    is_str(S(out), "5", "program a selected");
    is_int(jqprog_run1(p, b, J("{\"a\":5,\"b\":1}"), jv_null(), &out, &err),
           0, "run1 b");
    is_str(S(out), "2", "program b selected, comment harmless");
    is_int(jqprog_run(p, c, J("[1,2,3]"), jv_null(), &out, &err), 0, "run c");
    is_str(S(out), "[[2,4,6]]", "program c: outputs in an array");
    is_int(jqprog_run(p, e, jv_null(), jv_null(), &out, &err), 0, "run e");
    is_str(S(out), "[1,2,3]", "every output");

    /* empty output, three ways */
    is_int(jqprog_run(p, d, jv_null(), jv_null(), &out, &err), 0,
           "run: empty is fine");
    is_str(S(out), "[]", "run: empty array");
    is_int(jqprog_run1(p, d, jv_null(), jv_null(), &out, &err), OSM_EDATA,
           "run1: empty is 65");
    is_str(err.msg, "d: produced no output", "run1: message");
    is_str(S(out), "null", "run1: *out null on failure");
    is_int(jqprog_first(p, d, jv_null(), jv_null(), &out, &err), 0,
           "first: empty is 0");
    is_str(S(out), "null", "first: *out null");
    is_int(jqprog_first(p, e, jv_null(), jv_null(), &out, &err), 1,
           "first: 1 with an output");
    is_str(S(out), "1", "first: the first output");

    /* the variables */
    is_int(jqprog_run1(p, vars, jv_null(),
                       J("{\"now\":\"2024-05-01T10:00:00Z\","
                         "\"order\":{\"id\":42},"
                         "\"item\":\"i\",\"task\":7,\"old\":[1],\"new\":[2]}"),
                       &out, &err), 0, "run with every variable");
    is_str(S(out), "[\"2024-05-01T10:00:00Z\",42,\"i\",7,[1],[2]]",
           "$now $order $item $task $old $new");
    is_int(jqprog_run1(p, vars, jv_null(), J("{\"now\":\"x\"}"), &out, &err),
           0, "run with some variables");
    is_str(S(out), "[\"x\",null,null,null,null,null]", "missing ones null");
    is_int(jqprog_run1(p, envp, jv_null(), J("{\"now\":1,\"extra\":2}"), &out,
                       &err), 0, "run env");
    is_str(S(out), "[\"extra\",\"now\"]", "$env is the whole object");
    is_int(jqprog_run1(p, envp, jv_null(), jv_null(), &out, &err), 0,
           "null env");
    is_str(S(out), "[]", "null env is {}");
    is_int(jqprog_run1(p, envp, jv_null(), jv_number(3), &out, &err),
           OSM_ESOFTWARE, "env not an object: 70");
    is_str(err.msg, "env: environment is not an object", "env: message");

    /* bad indexes */
    is_int(jqprog_run(p, 7, jv_null(), jv_null(), &out, &err), OSM_ESOFTWARE,
           "index out of range: 70");
    is_str(err.msg, "no jq program 7", "index out of range: message");
    is_int(jqprog_run(p, -1, jv_null(), jv_null(), &out, &err), OSM_ESOFTWARE,
           "negative index: 70");

    /* reentrancy: an unfinished run does not disturb the next */
    is_int(jqprog_first(p, e, jv_null(), jv_null(), &out, &err), 1,
           "first of 1,2,3");
    jv_free(out);
    is_int(jqprog_run(p, a, J("{\"a\":9}"), jv_null(), &out, &err), 0,
           "then another program");
    is_str(S(out), "[9]", "runs from scratch");
    is_int(jqprog_run(p, e, jv_null(), jv_null(), &out, &err), 0,
           "then the first again");
    is_str(S(out), "[1,2,3]", "all of its outputs");
    jqprog_free(p);

    p = jqprog_new();
    is_int(jqprog_run(p, 0, jv_null(), jv_null(), &out, &err), OSM_ESOFTWARE,
           "not compiled: 70");
    is_str(err.msg, "jq programs not compiled", "not compiled: message");
    is_int(jqprog_compile(p, NULL, &err), 0, "compiling nothing is fine");
    jqprog_free(p);
}

static void
test_compile_errors(void)
{
    jqprog *p = jqprog_new();
    osm_err err = { 0, "" };
    jv problems, out;

    jqprog_add(p, "cartridge.json: orderTypes.bb.recognize", ".a == 1");
    jqprog_add(p, "cartridge.json: functions.bill.request", "{id: .id}");
    jqprog_add(p, "transform.jq", "def f: .x;\n{a: f,\n b: nosuch(1)}");
    jqprog_add(p, "validate.jq", "$now | .");
    jqprog_add(p, "cartridge.json: items.id", ".id");
    is_int(jqprog_compile(p, &problems, &err), OSM_ECONFIG,
           "one bad program of five: 78");
    is_str(err.msg, "transform.jq: nosuch/1 is not defined at line 3",
           "err: the program's name and jq's message");
    is_str(S(problems),
           "[{\"message\":\"nosuch/1 is not defined at line 3\","
           "\"name\":\"transform.jq\"}]", "problems: that one program");
    is_int(jqprog_run(p, 0, jv_null(), jv_null(), &out, &err), OSM_ESOFTWARE,
           "a set that failed to compile does not run");
    jv_free(out);
    jqprog_free(p);

    p = jqprog_new();
    jqprog_add(p, "ok1", ".");
    jqprog_add(p, "syntax", ".a | %%");
    jqprog_add(p, "ok2", "$order");
    jqprog_add(p, "open", "map(.x");
    jqprog_add(p, "var", "$nosuch + 1");
    is_int(jqprog_compile(p, &problems, &err), OSM_ECONFIG,
           "three bad programs: 78");
    is_str(err.msg, "3 jq programs do not compile", "err: a count");
    is_str(S(problems),
           "[{\"message\":\"syntax error, unexpected '%'\","
           "\"name\":\"syntax\"},"
           "{\"message\":\"syntax error, unexpected end of program\","
           "\"name\":\"open\"},"
           "{\"message\":\"$nosuch is not defined\",\"name\":\"var\"}]",
           "problems: each with its own message");
    jqprog_free(p);

    p = jqprog_new();
    jqprog_add(p, "bad", "if . then 1 end");
    is_int(jqprog_compile(p, NULL, &err), OSM_ECONFIG, "problems may be NULL");
    is_str(err.msg, "bad: syntax error, unexpected end; Possibly "
           "unterminated 'if' statement", "several messages joined");
    jqprog_free(p);

    is_int(jqprog_check("x", "[.[] | {a: .b}]", &err), 0, "check: good");
    is_int(jqprog_check("x", "$now | $order | $env", &err), 0,
           "check: variables defined");
    is_int(jqprog_check("x", ".a |", &err), OSM_ECONFIG, "check: bad is 78");
    is_str(err.msg, "x: syntax error, unexpected end of program",
           "check: message");
    is_int(jqprog_check("lib", "import \"m\" as m; .", &err), OSM_ECONFIG,
           "check: no imports");
    is_str(err.msg, "lib: syntax error, unexpected import",
           "check: import message");
    is_int(jqprog_check("m", ".a\n| .b\n| nope", &err), OSM_ECONFIG,
           "check: multi-line");
    is_str(err.msg, "m: nope/0 is not defined at line 3",
           "check: line within the program");
}

static void
test_runtime_errors(void)
{
    jqprog *p = jqprog_new();
    osm_err err = { 0, "" };
    jv out;
    int idx, eobj, estr, halt, halt0, halte, hbig, hobj, enull, runaway;
    int many, partial;

    idx = jqprog_add(p, "index", ".a");
    eobj = jqprog_add(p, "eobj", "error({\"a\":1})");
    estr = jqprog_add(p, "estr", "error(\"boom\\nbang\")");
    halt = jqprog_add(p, "halt", "1, halt, 2");
    halt0 = jqprog_add(p, "halt0", "\"note\" | halt_error(0)");
    halte = jqprog_add(p, "halte", "\"bad thing\\n\" | halt_error");
    hbig = jqprog_add(p, "hbig", "null | halt_error(1e30)");
    hobj = jqprog_add(p, "hobj", "{a: 1} | halt_error(2)");
    enull = jqprog_add(p, "enull", "1, error(null)");
    runaway = jqprog_add(p, "runaway", "range(1000000)");
    many = jqprog_add(p, "many", "limit(100000; repeat(1))");
    partial = jqprog_add(p, "partial", "1, error(\"late\")");
    is_int(jqprog_compile(p, NULL, &err), 0, "compile");

    is_int(jqprog_run(p, idx, jv_number(3), jv_null(), &out, &err), OSM_EDATA,
           "runtime error: 65");
    is_str(err.msg, "index: Cannot index number with string \"a\"",
           "runtime error: NAME: jq's message");
    is_str(S(out), "null", "runtime error: *out null");
    is_int(jqprog_run(p, eobj, jv_null(), jv_null(), &out, &err), OSM_EDATA,
           "error(object): 65");
    is_str(err.msg, "eobj: {\"a\":1}", "error(object) rendered as JSON");
    jv_free(out);
    is_int(jqprog_run(p, estr, jv_null(), jv_null(), &out, &err), OSM_EDATA,
           "error(string): 65");
    is_str(err.msg, "estr: boom bang", "error(string): on one line");
    jv_free(out);
    is_int(jqprog_run(p, halt, jv_null(), jv_null(), &out, &err), 0,
           "halt: a normal end");
    is_str(S(out), "[1]", "halt: outputs before it");
    is_int(jqprog_run(p, halt0, jv_null(), jv_null(), &out, &err), 0,
           "halt_error(0): a normal end");
    is_str(S(out), "[]", "halt_error(0): no output");
    is_int(jqprog_run(p, halte, jv_null(), jv_null(), &out, &err), OSM_EDATA,
           "halt_error: 65");
    is_str(err.msg, "halte: bad thing", "halt_error: its message");
    jv_free(out);
    is_int(jqprog_run(p, hbig, jv_null(), jv_null(), &out, &err), OSM_EDATA,
           "halt_error(huge): 65");
    is_str(err.msg, "hbig: halted with status 1e+30",
           "halt_error without a message: the status");
    jv_free(out);
    is_int(jqprog_run(p, hobj, jv_null(), jv_null(), &out, &err), OSM_EDATA,
           "halt_error(object): 65");
    is_str(err.msg, "hobj: {\"a\":1}", "halt_error(object): as JSON");
    jv_free(out);
    is_int(jqprog_run(p, idx, J("{\"a\":1}"), jv_null(), &out, &err), 0,
           "a run after a halt starts afresh");
    is_str(S(out), "[1]", "with the right output");
    {
        /* jq 1.6 double-frees a halt's message unless scrubbed */
        int good = 0;
        for (int i = 0; i < 5; i++) {
            if (jqprog_run(p, halte, jv_null(), jv_null(), &out, &err) ==
                OSM_EDATA)
                good++;
            jv_free(out);
            if (jqprog_run1(p, halte, jv_null(), jv_null(), &out, &err) ==
                OSM_EDATA)
                good++;
            jv_free(out);
            if (jqprog_run1(p, idx, J("{\"a\":2}"), jv_null(), &out,
                            &err) == 0 && jv_number_value(out) == 2)
                good++;
            jv_free(out);
        }
        is_int(good, 15, "halts in a row and runs between them");
    }
    is_int(jqprog_run(p, enull, jv_null(), jv_null(), &out, &err), 0,
           "error(null) ends the outputs (jq 1.6)");
    is_str(S(out), "[1]", "error(null): outputs before it");
    is_int(jqprog_run(p, runaway, jv_null(), jv_null(), &out, &err),
           OSM_EDATA, "runaway output: 65");
    is_str(err.msg, "runaway: more than 100000 outputs", "runaway: message");
    jv_free(out);
    is_int(jqprog_run(p, many, jv_null(), jv_null(), &out, &err), 0,
           "exactly the cap is fine");
    is_int(jv_array_length(out), JQPROG_MAX_OUTPUTS, "all of them");
    is_int(jqprog_run(p, partial, jv_null(), jv_null(), &out, &err),
           OSM_EDATA, "an error after an output: run fails");
    is_str(err.msg, "partial: late", "with the message");
    jv_free(out);
    is_int(jqprog_run1(p, partial, jv_null(), jv_null(), &out, &err), 0,
           "run1 stops at the first output");
    is_str(S(out), "1", "and never sees the error");
    jqprog_free(p);
}

static void
test_no_io(void)
{
    jqprog *p = jqprog_new();
    osm_err err = { 0, "" };
    jv out;
    int in, ins, dbg, se, fds[2], saved_in, saved_err;
    FILE *cap = tmpfile();
    struct stat st;

    in = jqprog_add(p, "input", "input");
    ins = jqprog_add(p, "inputs", "[inputs]");
    dbg = jqprog_add(p, "debug", "debug | . + 1");
    se = jqprog_add(p, "stderr", "stderr | . + 1");
    is_int(jqprog_compile(p, NULL, &err), 0, "compile");

    /* stdin a pipe that stays open: reading it would block forever */
    if (pipe(fds) != 0 || !cap) {
        perror("pipe");
        exit(99);
    }
    saved_in = dup(STDIN_FILENO);
    dup2(fds[0], STDIN_FILENO);
    alarm(20);
    is_int(jqprog_run(p, in, jv_null(), jv_null(), &out, &err), OSM_EDATA,
           "input: an error, at once");
    is_str(err.msg, "input: No more inputs", "input: message");
    jv_free(out);
    is_int(jqprog_run(p, ins, jv_null(), jv_null(), &out, &err), 0,
           "inputs: nothing");
    is_str(S(out), "[[]]", "inputs: empty");
    alarm(0);
    dup2(saved_in, STDIN_FILENO);
    close(saved_in);
    close(fds[0]);
    close(fds[1]);

    /* debug and stderr print nothing */
    fflush(stderr);
    saved_err = dup(STDERR_FILENO);
    dup2(fileno(cap), STDERR_FILENO);
    is_int(jqprog_run1(p, dbg, jv_number(1), jv_null(), &out, &err), 0,
           "debug runs");
    is_str(S(out), "2", "debug passes its input");
    is_int(jqprog_run1(p, se, jv_number(1), jv_null(), &out, &err), 0,
           "stderr runs");
    is_str(S(out), "2", "stderr passes its input");
    fflush(stderr);
    dup2(saved_err, STDERR_FILENO);
    close(saved_err);
    fstat(fileno(cap), &st);
    is_int(st.st_size, 0, "nothing written to stderr");
    fclose(cap);
    jqprog_free(p);
}

static void
test_home(void)
{
    char dir[] = "/tmp/osm-test-jqprog-XXXXXX";
    char path[sizeof dir + 8];
    char *old = getenv("HOME") ? xstrdup(getenv("HOME")) : NULL;
    osm_err err = { 0, "" };
    FILE *f;

    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        exit(99);
    }
    snprintf(path, sizeof path, "%s/.jq", dir);
    setenv("HOME", dir, 1);

    f = fopen(path, "w");
    fputs("def myhome: 42;\n", f);
    fclose(f);
    is_int(jqprog_check("h", "myhome", &err), OSM_ECONFIG,
           "~/.jq definitions are not seen");
    is_str(err.msg, "h: myhome/0 is not defined", "~/.jq: message");

    f = fopen(path, "w");
    fputs("def broken: ;\n", f);
    fclose(f);
    is_int(jqprog_check("h", ".a", &err), 0, "a broken ~/.jq does no harm");
    is_str(getenv("HOME"), dir, "HOME is restored");

    unlink(path);
    rmdir(dir);
    if (old) {
        setenv("HOME", old, 1);
        free(old);
    } else {
        unsetenv("HOME");
    }
}

static void
test_calls(void)
{
    static const char *const env_key[] = { "now", "$now", "order", "{id: 7}", NULL };
    static const char *const env_item[] = { "now", "$now", "item", "$i", "extra", "\"x\"",
                                            NULL };
    static const char *const env_none[] = { NULL };
    jqprog *p = jqprog_new();
    osm_err err = { 0, "" };
    strbuf sb = STRBUF_INIT;
    jv out, problems;
    int key, items, boom, all, plain, bare, builtins;

    key = jqprog_add(p, "key", "[$now, $order.id, .]");
    items = jqprog_add(p, "items", "$item.n * 10, $env.extra, ($env | keys_unsorted)");
    boom = jqprog_add(p, "boom", "error(\"boom\")");
    plain = jqprog_add(p, "plain", "$now");
    bare = jqprog_add(p, "bare", ". + 1");
    builtins = jqprog_add(p, "builtins",
                          "[$now, (now | type), ($env | keys_unsorted), (env | type)]");
    sb_adds(&sb, "{key: [");
    is_int(jqprog_call(p, &sb, key, env_key), 0, "call: 0");
    sb_adds(&sb, "], items: [.[] as $i | $i | ");
    jqprog_call(p, &sb, items, env_item);
    sb_adds(&sb, "], boom: (if . == [] then ");
    jqprog_call(p, &sb, boom, env_none);
    sb_adds(&sb, " else null end), bare: (1 | ");
    jqprog_call(p, &sb, bare, env_key);
    sb_adds(&sb, "), builtins: ");
    jqprog_call(p, &sb, builtins, env_key);
    sb_adds(&sb, "}");
    is_int(jqprog_call(p, &sb, 9, env_none), -1, "call: no such program");
    all = jqprog_add(p, "all", sb.buf);
    is_int(jqprog_compile(p, NULL, &err), 0, "callers compile with the rest");
    is_int(jqprog_call(p, &sb, key, env_none), -1, "call: not once compiled");

    is_int(jqprog_run1(p, all, J("[{\"n\":1},{\"n\":2}]"),
                       J("{\"now\":\"T\"}"), &out, &err), 0, "run the caller");
    is_str(S(out),
           "{\"bare\":2,\"boom\":null,"
           "\"builtins\":[\"T\",\"number\",[\"now\",\"order\"],\"object\"],"
           "\"items\":[10,\"x\",[\"now\",\"item\",\"extra\"],"
           "20,\"x\",[\"now\",\"item\",\"extra\"]],"
           "\"key\":[[\"T\",7,[{\"n\":1},{\"n\":2}]]]}",
           "each program with its own input and environment");
    is_int(jqprog_run1(p, all, J("[]"), jv_null(), &out, &err), OSM_EDATA,
           "an error of a program run: the caller's");
    is_str(err.msg, "all: boom", "with the caller's name");
    is_int(jqprog_run1(p, key, J("1"), J("{\"now\":\"N\",\"order\":{\"id\":3}}"),
                       &out, &err), 0, "a program others run still runs alone");
    is_str(S(out), "[\"N\",3,1]", "with the environment given");
    is_int(jqprog_run(p, items, J("0"), J("{\"item\":{\"n\":4},\"now\":1,\"extra\":2}"),
                      &out, &err), 0, "$env of a program others run, run alone");
    is_str(S(out), "[40,2,[\"item\",\"now\",\"extra\"]]", "the environment given");
    is_int(jqprog_run1(p, plain, jv_null(), J("{\"now\":\"P\"}"), &out, &err), 0,
           "and so does one they do not");
    is_str(S(out), "\"P\"", "the same way");
    is_int(jqprog_run1(p, bare, J("1"), jv_null(), &out, &err), 0, "one naming no variable");
    is_str(S(out), "2", "runs alone too");
    jqprog_free(p);

    /* a broken program among callers: the message is its own alone */
    p = jqprog_new();
    sb_reset(&sb);
    key = jqprog_add(p, "key", ".id, $now");
    jqprog_add(p, "broken", ".a | nosuch");
    sb_adds(&sb, "[");
    jqprog_call(p, &sb, key, env_key);
    sb_adds(&sb, "]");
    jqprog_add(p, "caller", sb.buf);
    is_int(jqprog_compile(p, &problems, &err), OSM_ECONFIG, "broken: 78");
    is_str(S(problems), "[{\"message\":\"nosuch/0 is not defined\",\"name\":\"broken\"}]",
           "the caller compiles alone: only the broken one is named");
    jqprog_free(p);
    sb_free(&sb);
}

static void
test_many(void)
{
    enum { N = 200, CALLS = 100000 };
    jqprog *p = jqprog_new();
    osm_err err = { 0, "" };
    unsigned long before = jqprog_compile_count();
    char src[64];
    int good = 0, bad = 0;
    long long k;
    jv out;

    for (int i = 0; i < N; i++) {
        snprintf(src, sizeof src, "{k: %d, in: ., now: $now}", i);
        if (jqprog_add(p, "p", src) == i)
            good++;
    }
    is_int(good, N, "200 programs added with their indexes");
    good = 0;
    is_int(jqprog_compile(p, NULL, &err), 0, "200 programs compile");
    for (int i = 0; i < N; i++) {
        int rc = jqprog_run1(p, i, jv_number(i * 10), jv_null(), &out, &err);
        if (rc == 0 && json_get_int(out, "k", &k) == 1 && k == i &&
            json_get_int(out, "in", &k) == 1 && k == i * 10)
            good++;
        jv_free(out);
    }
    is_int(good, N, "each of the 200 selected by its index");

    good = 0;
    for (int i = 0; i < CALLS; i++) {
        int idx = (i * 7) % N;
        int rc = jqprog_run1(p, idx, jv_number(i),
                             JV_OBJECT(jv_string("now"), jv_string("t")),
                             &out, &err);
        if (rc == 0 && json_get_int(out, "k", &k) == 1 && k == idx &&
            json_get_int(out, "in", &k) == 1 && k == i)
            good++;
        else
            bad++;
        jv_free(out);
    }
    is_int(good, CALLS, "100000 runs, every one right");
    is_int(bad, 0, "none wrong");
    is_int(jqprog_compile_count() - before, 1, "one compile for them all");
    jqprog_free(p);
}

/* Runs past the budget stop with their name; the state is reused. */
static void
test_budget(void)
{
    jqprog *p = jqprog_new();
    osm_err err = { 0, "" };
    jv out;
    int loop = jqprog_add(p, "loop.jq", "last(range(1e15))");
    int caught = jqprog_add(p, "caught.jq", "try last(range(1e15)) catch \"caught\"");
    int rec = jqprog_add(p, "rec.jq", "def f: f; f");
    int quick = jqprog_add(p, "quick.jq", "[range(1000)] | add");
    int halt = jqprog_add(p, "halt.jq", "\"bye\" | halt_error(3)");

    is_int(jqprog_compile(p, NULL, &err), 0, "budget programs compile");
    jqprog_set_budget(200);
    is_int(jqprog_run1(p, loop, jv_null(), jv_null(), &out, &err), OSM_EDATA,
           "a loop past its budget fails");
    is_str(err.msg, "loop.jq: stopped after its budget of PT0.2S of CPU time (OSM_JQ_BUDGET)",
           "... naming the program and the budget");
    is_str(S(out), "null", "... *out null");
    is_int(jqprog_run1(p, quick, jv_null(), jv_null(), &out, &err), 0,
           "the next run of the same state works");
    is_str(S(out), "499500", "... and is right");
    is_int(jqprog_run(p, caught, jv_null(), jv_null(), &out, &err), OSM_EDATA,
           "try does not catch the budget");
    is_str(err.msg, "caught.jq: stopped after its budget of PT0.2S of CPU time (OSM_JQ_BUDGET)",
           "... named");
    jv_free(out);
    is_int(jqprog_first(p, rec, jv_null(), jv_null(), &out, &err), OSM_EDATA,
           "endless recursion is stopped too");
    is_int(jqprog_run1(p, halt, jv_null(), jv_null(), &out, &err), OSM_EDATA,
           "a halt_error after a stopped run");
    is_str(err.msg, "halt.jq: bye", "... is its own error, not the budget");
    is_int(jqprog_run1(p, quick, jv_null(), jv_null(), &out, &err), 0,
           "and runs go on");
    jv_free(out);
    jqprog_set_budget(0);
    is_int(jqprog_run1(p, quick, jv_null(), jv_null(), &out, &err), 0,
           "no budget");
    jv_free(out);
    jqprog_free(p);
}

int
main(void)
{
    jv empty = jv_string("");

    setenv("OSM_JQ_BUDGET", "5m", 1);   /* valgrind is slow; test_budget sets its own */
    ok(jqprog_truthy(jv_true()) && jqprog_truthy(jv_number(0)) &&
       jqprog_truthy(empty) && !jqprog_truthy(jv_false()) &&
       !jqprog_truthy(jv_null()), "jqprog_truthy: false and null only");
    ok(jv_get_kind(empty) == JV_KIND_STRING, "jqprog_truthy: not consumed");
    jv_free(empty);
    test_combined();
    test_compile_errors();
    test_runtime_errors();
    test_no_io();
    test_home();
    test_calls();
    test_budget();
    test_many();
    return done_testing();
}
