/*
 * Unit tests for lib/hook: input echoed back exactly (large inputs in
 * both orders of reading and writing), exit statuses, signals, stderr
 * excerpts, the environment and working directory, time limits with TERM
 * and KILL, process groups and grandchildren, the stdout cap, EPIPE on
 * stdin, several hooks at once, and no zombie or descriptor left behind;
 * which commands need sh, and those that do not run without it, found
 * as sh finds them, with sh's exit statuses when they cannot be run.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "diag.h"
#include "hook.h"
#include "xalloc.h"
#include "tap.h"

#define MIB (1024 * 1024)

static char tmpdir[256];

static int
count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;

    if (!d)
        return -1;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static void
sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/*
 * Every process of group pgid has ended.  Where init never reaps orphans
 * (some containers), a killed grandchild stays a zombie of init's and
 * keeps the group in existence: a group of zombies only counts as gone.
 */
static int
group_gone(pid_t pgid)
{
    DIR *d;
    struct dirent *e;
    int alive = 0;

    for (int i = 0; i < 100; i++) {
        if (kill(-pgid, 0) != 0 && errno == ESRCH)
            return 1;
        sleep_ms(10);
    }
    if (!(d = opendir("/proc")))
        return 0;
    while ((e = readdir(d))) {
        char path[300], buf[512], *p, state;
        long pgrp;
        FILE *f;

        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        if (!(f = fopen(path, "r")))
            continue;
        p = fgets(buf, sizeof buf, f) ? strrchr(buf, ')') : NULL;
        fclose(f);
        /* ") S PPID PGRP ..." */
        if (p && sscanf(p + 1, " %c %*d %ld", &state, &pgrp) == 2 &&
            pgrp == pgid && state != 'Z')
            alive++;
    }
    closedir(d);
    if (!alive)
        tap_diag("group %ld holds only zombies (init does not reap them)",
                 (long)pgid);
    return alive == 0;
}

/* Run command with the spec's other fields as given; res filled. */
static void
run(hook_spec *spec, const char *command, hook_result *res)
{
    osm_err err = { 0, "" };
    int rc;

    spec->command = command;
    rc = hook_run(spec, res, &err);
    if (rc != 0)
        tap_diag("hook_run: %d %s", rc, err.msg);
}

/* Write path (under tmpdir) with content and mode; returns the full path. */
static char *
write_file(const char *name, const char *content, mode_t mode)
{
    char *path = xasprintf("%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");

    if (!f || fputs(content, f) < 0 || fclose(f) != 0 ||
        chmod(path, mode) != 0)
        tap_diag("cannot write %s: %s", path, strerror(errno));
    return path;
}

/* Fields 1, 4 and 5 of /proc/PID/stat text: pid, ppid, process group. */
static int
stat_ids(const char *text, long *pid, long *ppid, long *pgrp)
{
    const char *p = text ? strrchr(text, ')') : NULL;

    return text && p && sscanf(text, "%ld", pid) == 1 &&
           sscanf(p + 1, " %*c %ld %ld", ppid, pgrp) == 2;
}

static unsigned char *
pattern(size_t n)
{
    unsigned char *p = xmalloc(n);
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)((i * 7 + i / 251) % 256);
    return p;
}

static void
test_echo(void)
{
    hook_spec spec = { 0 };
    hook_result res;
    unsigned char *big = pattern(MIB);
    int64_t t;

    spec.input = "hello\0world";
    spec.input_len = 11;
    run(&spec, "cat", &res);
    ok(res.exited && res.exit_status == 0, "cat exits 0");
    ok(res.out_len == 11 && memcmp(res.out, "hello\0world", 11) == 0 &&
       res.out[11] == '\0', "input echoed exactly, NULs included");
    is_int(res.err_len, 0, "no stderr");
    ok(res.err && res.err[0] == '\0', "empty stderr is an empty string");
    hook_result_free(&res);

    spec.input = big;
    spec.input_len = MIB;
    t = clock_monotonic_ms();
    run(&spec, "cat", &res);
    ok(res.exited && res.exit_status == 0, "1 MiB through cat: exit 0");
    ok(res.out_len == MIB && memcmp(res.out, big, MIB) == 0,
       "1 MiB echoed exactly (as much as the default cap, no more)");
    ok(!res.stdout_overflow, "exactly the cap is not an overflow");
    ok(clock_monotonic_ms() - t < 5000, "and quickly");
    hook_result_free(&res);

    /* writes a lot before it reads anything */
    spec.max_stdout = 4 * MIB;
    run(&spec, "head -c 1000000 /dev/zero; cat", &res);
    ok(res.exited && res.exit_status == 0, "writer first: exit 0");
    is_int(res.out_len, 1000000 + MIB, "writer first: all output");
    ok(res.out_len == 1000000 + MIB &&
       memcmp(res.out + 1000000, big, MIB) == 0,
       "writer first: then the input, exactly");
    hook_result_free(&res);

    /* reads everything before it writes anything */
    {
        char *tmpf = xasprintf("TMPF=%s/in", tmpdir);
        char *env[] = { tmpf, NULL };

        spec.env = env;
        run(&spec, "cat >\"${TMPF:?}\"; cat \"$TMPF\"; rm -f \"$TMPF\"",
            &res);
        ok(res.exited && res.exit_status == 0 && res.out_len == MIB &&
           memcmp(res.out, big, MIB) == 0,
           "reader first: 1 MiB read whole, then echoed");
        hook_result_free(&res);
        free(tmpf);
    }
    free(big);
}

static void
test_status(void)
{
    static const int want[] = { 0, 3, 75 };
    hook_spec spec = { 0 };
    hook_result res;

    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char cmd[32];

        snprintf(cmd, sizeof cmd, "exit %d", want[i]);
        run(&spec, cmd, &res);
        ok(res.exited && res.exit_status == want[i] && res.signal == 0,
           "exit %d reported", want[i]);
        hook_result_free(&res);
    }

    run(&spec, "echo oops >&2; echo out; exit 1", &res);
    is_str(res.err, "oops\n", "stderr captured");
    is_str(res.out, "out\n", "stdout beside it");
    is_int(res.exit_status, 1, "exit 1");
    hook_result_free(&res);

    run(&spec, "kill -9 $$", &res);
    ok(!res.exited && res.signal == SIGKILL, "killed by signal 9 reported");
    ok(!res.timed_out, "not a timeout");
    hook_result_free(&res);

    run(&spec, "no-such-command-for-osm-tests", &res);
    ok(res.spawn_error == NULL, "missing command: not a spawn error");
    ok(res.exited && res.exit_status == 127,
       "missing command: 127, as sh says");
    ok(strstr(res.err, "not found") != NULL, "and why, on stderr");
    hook_result_free(&res);

    spec.cwd = "/nonexistent/osm-test-dir";
    run(&spec, "true", &res);
    ok(res.spawn_error != NULL, "missing cwd: a spawn error");
    is_str(res.spawn_error,
           "cannot change to directory \"/nonexistent/osm-test-dir\": "
           "No such file or directory", "spawn error message");
    hook_result_free(&res);
}

static void
test_stderr_excerpt(void)
{
    hook_spec spec = { 0 };
    hook_result res;
    unsigned char *in = pattern(100 * 1024);
    const char *marker = "\n[... 94208 bytes cut ...]\n";
    size_t ml = strlen(marker);

    spec.input = in;
    spec.input_len = 100 * 1024;
    run(&spec, "cat >&2", &res);
    is_int(res.err_len, 8192 + ml, "100 KiB stderr: 8 KiB kept plus marker");
    ok(res.err_len == 8192 + ml && memcmp(res.err, in, 4096) == 0 &&
       memcmp(res.err + 4096, marker, ml) == 0 &&
       memcmp(res.err + 4096 + ml, in + 100 * 1024 - 4096, 4096) == 0 &&
       res.err[res.err_len] == '\0',
       "first 4 KiB, the cut marker, last 4 KiB");
    hook_result_free(&res);

    spec.input_len = 8192;
    run(&spec, "cat >&2", &res);
    ok(res.err_len == 8192 && memcmp(res.err, in, 8192) == 0,
       "exactly max_stderr: all kept, no marker");
    hook_result_free(&res);

    spec.input_len = 8193;
    spec.max_stderr = 11;
    run(&spec, "cat >&2", &res);
    ok(res.err_len > 11 && memcmp(res.err, in, 5) == 0 &&
       memmem(res.err, res.err_len, "[... 8182 bytes cut ...]", 24) &&
       memcmp(res.err + res.err_len - 6, in + 8193 - 6, 6) == 0,
       "odd max_stderr: 5 bytes first, 6 last");
    hook_result_free(&res);
    free(in);
}

static void
test_env_cwd(void)
{
    hook_spec spec = { 0 };
    hook_result res;
    char *env[] = { "OSM_ORDER_ID=42", "OSM_HOOK_TEST=new", "OSM_HOOK_GONE",
                    "OSM_DATA=$(touch pwned) `touch pwned2`; touch pwned3",
                    NULL };
    char *pwned = xasprintf("%s/pwned", tmpdir);
    char real[PATH_MAX];

    setenv("OSM_HOOK_TEST", "old", 1);
    setenv("OSM_HOOK_GONE", "here", 1);
    setenv("OSM_HOOK_KEPT", "inherited", 1);
    spec.env = env;
    spec.cwd = tmpdir;
    run(&spec, "printf '%s|%s|%s|%s' \"$OSM_ORDER_ID\" \"$OSM_HOOK_TEST\" "
               "\"${OSM_HOOK_GONE-unset}\" \"$OSM_HOOK_KEPT\"", &res);
    is_str(res.out, "42|new|unset|inherited",
           "env: added, overriding, removed, inherited");
    hook_result_free(&res);

    run(&spec, "printf '%s' \"$OSM_DATA\"", &res);
    is_str(res.out, "$(touch pwned) `touch pwned2`; touch pwned3",
           "order data in env stays data");
    ok(access(pwned, F_OK) != 0, "and nothing it holds was run");
    hook_result_free(&res);

    run(&spec, "pwd -P", &res);
    if (!realpath(tmpdir, real))
        strcpy(real, "?");
    strcat(real, "\n");
    is_str(res.out, real, "cwd honoured");
    hook_result_free(&res);
    ok(getenv("OSM_HOOK_GONE") && strcmp(getenv("OSM_HOOK_TEST"), "old") == 0,
       "our own environment untouched");
    unsetenv("OSM_HOOK_TEST");
    unsetenv("OSM_HOOK_GONE");
    unsetenv("OSM_HOOK_KEPT");
    free(pwned);
}

static void
test_fds_closed(void)
{
    hook_spec spec = { 0 };
    hook_result res;
    int fd = open("/dev/null", O_RDONLY);   /* no O_CLOEXEC on purpose */
    char cmd[128];

    snprintf(cmd, sizeof cmd,
             "if [ -e /proc/$$/fd/%d ]; then echo leaked; else echo closed; fi",
             fd);
    run(&spec, cmd, &res);
    is_str(res.out, "closed\n", "an inheritable fd of ours is closed in the hook");
    hook_result_free(&res);
    close(fd);
}

static void
test_timeouts(void)
{
    hook_spec spec = { 0 };
    hook_result res;
    int64_t t;
    pid_t pgid;

    spec.timeout_ms = 300;
    spec.grace_ms = 1000;
    t = clock_monotonic_ms();
    run(&spec, "sleep 30", &res);
    t = clock_monotonic_ms() - t;
    ok(res.timed_out, "sleep 30: timed out");
    is_int(res.signal, SIGTERM, "ended by TERM");
    ok(t >= 300 && t < 300 + 1000, "within timeout + grace (%lld ms)",
       (long long)t);
    ok(res.duration_ms >= 300 && res.duration_ms <= t,
       "duration_ms %lld", (long long)res.duration_ms);
    hook_result_free(&res);

    spec.timeout_ms = 200;
    spec.grace_ms = 300;
    t = clock_monotonic_ms();
    run(&spec, "echo $$; trap '' TERM; sleep 30", &res);
    t = clock_monotonic_ms() - t;
    ok(res.timed_out, "TERM ignored: timed out");
    is_int(res.signal, SIGKILL, "TERM ignored: ended by KILL after the grace");
    ok(t >= 500 && t < 500 + 700, "TERM ignored: %lld ms", (long long)t);
    pgid = (pid_t)atol(res.out);
    ok(pgid > 1 && group_gone(pgid), "TERM ignored: process group %ld gone",
       (long)pgid);
    hook_result_free(&res);

    /* a grandchild keeps stdout open after the child exits */
    spec.timeout_ms = 0;
    spec.grace_ms = 300;
    t = clock_monotonic_ms();
    run(&spec, "sleep 30 & echo $$", &res);
    t = clock_monotonic_ms() - t;
    ok(res.exited && res.exit_status == 0 && !res.timed_out,
       "background grandchild: the hook's own exit 0");
    ok(t < 300 + 700, "background grandchild: no hang past the grace (%lld ms)",
       (long long)t);
    pgid = (pid_t)atol(res.out);
    ok(pgid > 1 && group_gone(pgid),
       "background grandchild: killed with its group");
    hook_result_free(&res);
}

static void
test_overflow_epipe(void)
{
    hook_spec spec = { 0 };
    hook_result res;
    unsigned char *big = pattern(MIB);
    struct sigaction sa;
    sigset_t pending;
    int64_t t = clock_monotonic_ms();
    size_t zeros = 0;

    run(&spec, "head -c 100000000 /dev/zero", &res);
    t = clock_monotonic_ms() - t;
    ok(res.stdout_overflow, "100 MB of stdout: overflow");
    is_int(res.out_len, MIB, "out holds max_stdout bytes");
    for (size_t i = 0; i < res.out_len; i++)
        zeros += res.out[i] == 0;
    ok(zeros == MIB, "the first ones");
    ok(t < 3000, "in bounded time (%lld ms)", (long long)t);
    ok(!res.timed_out, "not a timeout");
    hook_result_free(&res);

    spec.max_stdout = 10;
    run(&spec, "echo 0123456789abc; sleep 30", &res);
    ok(res.stdout_overflow && res.out_len == 10 &&
       memcmp(res.out, "0123456789", 10) == 0 && res.signal == SIGTERM,
       "small cap: cut at 10 bytes, the hook killed");
    hook_result_free(&res);
    spec.max_stdout = 0;

    spec.input = big;
    spec.input_len = MIB;
    run(&spec, "head -c 10 >/dev/null", &res);
    ok(res.spawn_error == NULL && res.exited && res.exit_status == 0,
       "hook reading 10 bytes of 1 MiB: EPIPE is not an error");
    hook_result_free(&res);
    run(&spec, "exit 0", &res);
    ok(res.exited && res.exit_status == 0, "hook reading nothing: fine");
    hook_result_free(&res);
    sigemptyset(&pending);
    sigpending(&pending);
    ok(!sigismember(&pending, SIGPIPE), "no SIGPIPE left pending");
    sigaction(SIGPIPE, NULL, &sa);
    ok(sa.sa_handler == SIG_DFL, "SIGPIPE disposition untouched");
    free(big);
}

static void
test_async(void)
{
    hook_spec spec = { 0 };
    hook *h[4];
    hook_result res;
    osm_err err = { 0, "" };
    int64_t t = clock_monotonic_ms(), t2;
    size_t left = 4;
    int all = 1;
    char cmd[64];

    is_int(hook_poll(NULL, 0, -1), 0, "hook_poll of nothing returns at once");

    for (int i = 0; i < 4; i++) {
        snprintf(cmd, sizeof cmd, "sleep 0.3; echo %d", i);
        spec.command = cmd;
        all &= hook_start(&spec, &h[i], &err) == 0;
    }
    ok(all, "four hooks started");
    while (left) {
        hook_poll(h, 4, -1);
        for (int i = 0; i < 4; i++) {
            if (h[i] && hook_finished(h[i])) {
                hook_collect(h[i], &res);
                snprintf(cmd, sizeof cmd, "%d\n", i);
                all &= res.exited && res.exit_status == 0 &&
                       strcmp(res.out, cmd) == 0;
                hook_result_free(&res);
                h[i] = NULL;
                left--;
            }
        }
    }
    t = clock_monotonic_ms() - t;
    ok(all, "four hooks: all finished with their output");
    ok(t >= 300 && t < 1000, "and overlapped (%lld ms for 4 x 0.3 s)",
       (long long)t);

    spec.command = "sleep 1";
    hook_start(&spec, &h[0], &err);
    t = clock_monotonic_ms();
    is_int(hook_poll(h, 1, 100), 0, "hook_poll timeout: none finished");
    t2 = clock_monotonic_ms() - t;
    ok(t2 >= 95 && t2 < 400, "hook_poll waited about 100 ms (%lld)",
       (long long)t2);
    t = clock_monotonic_ms();
    is_int(hook_poll(h, 1, 0), 0, "hook_poll timeout 0: none finished");
    ok(clock_monotonic_ms() - t < 100, "hook_poll timeout 0 does not wait");
    ok(!hook_finished(h[0]), "still running");
    t = clock_monotonic_ms();
    hook_abort(h[0]);
    ok(clock_monotonic_ms() - t < 1000, "hook_abort of sleep: prompt");

    spec.command = "trap '' TERM; sleep 30";
    spec.grace_ms = 200;
    hook_start(&spec, &h[0], &err);
    hook_poll(h, 1, 100);       /* let sh set its trap */
    t = clock_monotonic_ms();
    hook_abort(h[0]);
    t = clock_monotonic_ms() - t;
    ok(t >= 150 && t < 1000, "hook_abort of a TERM-proof hook: KILL after grace "
       "(%lld ms)", (long long)t);

    spec.command = "sleep 30";
    hook_start(&spec, &h[0], &err);
    hook_collect(h[0], &res);
    is_int(res.signal, SIGKILL, "collecting a running hook kills it");
    hook_result_free(&res);
}

static void
test_needs_shell(void)
{
    static const struct {
        const char *command;
        int shell;
    } cases[] = {
        { "cat", 0 },
        { "hooks/asap.sh north", 0 },
        { "./hooks/shipping.sh --fast", 0 },
        { "  env\t-u  X   prog  ", 0 },
        { "/usr/bin/env A=1 prog", 0 },     /* '=' past the first word */
        { "prog a,b %s @x +y -z:1 ^", 0 },
        { "", 1 },
        { " \t ", 1 },
        { "a | b", 1 }, { "a & b", 1 }, { "a; b", 1 }, { "a < f", 1 },
        { "a > f", 1 }, { "(a)", 1 }, { "a $X", 1 }, { "a `b`", 1 },
        { "a \\b", 1 }, { "a \"b\"", 1 }, { "a 'b'", 1 }, { "a *", 1 },
        { "a ?", 1 }, { "a [b]", 1 }, { "a b]", 1 }, { "a #c", 1 },
        { "a ~/b", 1 }, { "a {b,c}", 1 }, { "a }", 1 }, { "! a", 1 },
        { "a\nb", 1 },
        { "X=1 prog", 1 },                  /* an assignment */
        { "X=1", 1 },
        { "exit 3", 1 }, { "cd /tmp", 1 }, { "exec prog", 1 },
        { "echo hi", 1 }, { "kill 1", 1 }, { "pwd -P", 1 },
        { "test -f x", 1 }, { "true", 1 }, { ". file", 1 }, { ": x", 1 },
        { "if", 1 }, { "while x", 1 }, { "time prog", 1 },
        { "exits 3", 0 },                   /* not a builtin, only like one */
        { "/bin/kill 1", 0 },
        { "trueish", 0 },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char shown[64];
        size_t k = 0;

        /* one TAP line each: show a newline as \n */
        for (const char *c = cases[i].command; *c && k < sizeof shown - 3;
             c++) {
            if (*c == '\n') {
                shown[k++] = '\\';
                shown[k++] = 'n';
            } else
                shown[k++] = *c;
        }
        shown[k] = '\0';
        is_int(hook_needs_shell(cases[i].command), cases[i].shell,
               "needs sh: \"%s\"", shown);
    }
}

static void
test_direct_exec(void)
{
    hook_spec spec = { 0 };
    hook_result res;
    long pid, ppid, pgrp;
    char *noexec = write_file("noexec", "#!/bin/sh\necho no\n", 0644);
    char *script = write_file("bin-where", "#!/bin/sh\n"
                              "printf '%s|%s|' \"$0\" \"$*\"; pwd -P\n", 0755);
    char *bare = write_file("bare", "echo \"run by sh: $1\"\n", 0755);
    char *cmd, *env[3] = { NULL, NULL, NULL };
    char real[PATH_MAX];

    if (!realpath(tmpdir, real))
        strcpy(real, "?");
    run(&spec, "cat /proc/self/stat", &res);
    ok(res.exited && res.exit_status == 0 &&
       stat_ids(res.out, &pid, &ppid, &pgrp),
       "direct: cat /proc/self/stat ran");
    ok(pid == pgrp, "direct: the program leads the hook's process group "
       "(pid %ld, group %ld)", pid, pgrp);
    ok(ppid == (long)getpid(), "direct: and is our own child, no sh between "
       "(parent %ld)", ppid);
    hook_result_free(&res);

    run(&spec, "cat /proc/self/stat; :", &res);
    ok(res.exited && stat_ids(res.out, &pid, &ppid, &pgrp) && pid != pgrp &&
       ppid == pgrp && ppid != (long)getpid(),
       "shell syntax: the program is a child of sh, which leads the group");
    hook_result_free(&res);

    run(&spec, " \tcat   /proc/self/cmdline\t", &res);
    ok(res.exited && res.out_len == 23 &&
       memcmp(res.out, "cat\0/proc/self/cmdline\0", 23) == 0,
       "direct: words split on spaces and tabs, argv exactly");
    hook_result_free(&res);

    /* found as sh finds it: along PATH, or a path from the hook's cwd */
    spec.cwd = tmpdir;
    run(&spec, "./bin-where a  b", &res);
    cmd = xasprintf("./bin-where|a b|%s\n", real);
    is_str(res.out, cmd, "direct: a relative path runs from the hook's cwd");
    free(cmd);
    hook_result_free(&res);

    env[0] = xasprintf("PATH=/nonexistent-osm:.:%s", getenv("PATH"));
    spec.env = env;
    spec.cwd = tmpdir;
    run(&spec, "bin-where x", &res);
    cmd = xasprintf("./bin-where|x|%s\n", real);
    ok(res.exited && res.exit_status == 0 && res.out &&
       strcmp(res.out, cmd) == 0,
       "direct: found along the hook's own PATH, '.' its cwd");
    free(cmd);
    hook_result_free(&res);
    free(env[0]);
    env[0] = NULL;
    spec.env = NULL;

    run(&spec, "./bare arg", &res);
    is_str(res.out, "run by sh: arg\n",
           "direct: a script without #! goes to sh");
    hook_result_free(&res);

    /* what sh would say: 127 not found, 126 not executable */
    spec.cwd = NULL;
    run(&spec, "no-such-command-for-osm-tests --flag", &res);
    ok(res.spawn_error == NULL && res.exited && res.exit_status == 127,
       "direct, not on PATH: exit 127");
    is_str(res.err, "no-such-command-for-osm-tests: not found\n",
           "direct, not on PATH: \"not found\" on stderr");
    hook_result_free(&res);
    run(&spec, "/nonexistent/osm/prog", &res);
    ok(res.spawn_error == NULL && res.exited && res.exit_status == 127,
       "direct, no such path: exit 127");
    hook_result_free(&res);
    run(&spec, noexec, &res);
    ok(res.spawn_error == NULL && res.exited && res.exit_status == 126,
       "direct, not executable: exit 126");
    ok(res.err && strstr(res.err, "noexec: Permission denied\n"),
       "and why, on stderr");
    hook_result_free(&res);
    run(&spec, tmpdir, &res);
    ok(res.exited && res.exit_status == 126, "direct, a directory: exit 126");
    hook_result_free(&res);
    cmd = xasprintf("%s;", noexec);
    run(&spec, cmd, &res);
    ok(res.exited && res.exit_status == 126, "through sh, not executable: "
       "126 as well");
    hook_result_free(&res);
    free(cmd);
    env[0] = "PATH=/nonexistent-osm";
    spec.env = env;
    run(&spec, "cat", &res);
    ok(res.exited && res.exit_status == 127,
       "direct: the hook's PATH, not ours, is searched");
    hook_result_free(&res);
    spec.env = NULL;

    /* the environment, as before */
    env[0] = "OSM_ORDER_ID=42";
    env[1] = "HOME";
    spec.env = env;
    run(&spec, "env", &res);
    ok(res.exited && strstr(res.out, "\nOSM_ORDER_ID=42\n") &&
       !strstr(res.out, "\nHOME="), "direct: environment added and removed");
    hook_result_free(&res);

    free(noexec);
    free(script);
    free(bare);
}

/* The signal reported is the one that ended the hook. */
static void
test_signals(void)
{
    hook_spec spec = { 0 };
    hook_result res;
    osm_err err = { 0, "" };
    char *stubborn = write_file("stubborn", "#!/bin/sh\n"
                                "trap '' TERM\necho $$\nsleep 30\n", 0755);
    char *suicide = write_file("suicide", "#!/bin/sh\nkill -9 $$\n", 0755);
    char *pidfile = xasprintf("%s/victim.pid", tmpdir);
    char *victim_sh = write_file("victim", "#!/bin/sh\n"
                                 "echo $$ >\"$1.tmp\"; mv \"$1.tmp\" \"$1\"\n"
                                 "exec sleep 30\n", 0755);
    char *cmd;
    hook *h;
    pid_t pgid;
    FILE *f;
    long vpid = 0;

    spec.timeout_ms = 200;
    spec.grace_ms = 300;
    run(&spec, stubborn, &res);
    ok(res.timed_out && res.signal == SIGKILL,
       "direct, TERM ignored, timed out: signal 9 (got %d)", res.signal);
    pgid = (pid_t)atol(res.out);
    ok(pgid > 1 && group_gone(pgid), "direct: its process group is gone");
    hook_result_free(&res);

    run(&spec, "sleep 30", &res);
    ok(res.timed_out && res.signal == SIGTERM,
       "direct, timed out, ended by TERM: signal 15 (got %d)", res.signal);
    hook_result_free(&res);

    spec.timeout_ms = 0;
    run(&spec, suicide, &res);
    ok(!res.exited && res.signal == SIGKILL && !res.timed_out,
       "direct, kills itself with KILL: signal 9 (got %d)", res.signal);
    hook_result_free(&res);
    run(&spec, "kill -9 $$", &res);
    ok(!res.exited && res.signal == SIGKILL, "sh, kill -9 $$: signal 9");
    hook_result_free(&res);
    run(&spec, "kill -TERM $$", &res);
    ok(!res.exited && res.signal == SIGTERM, "sh, kill -TERM $$: signal 15");
    hook_result_free(&res);

    /* someone else's KILL */
    cmd = xasprintf("%s %s", victim_sh, pidfile);
    spec.command = cmd;
    spec.timeout_ms = 10000;
    if (hook_start(&spec, &h, &err) != 0)
        tap_diag("hook_start: %s", err.msg);
    for (int i = 0; i < 200 && !vpid; i++) {
        hook_poll(&h, 1, 10);
        if ((f = fopen(pidfile, "r"))) {
            if (fscanf(f, "%ld", &vpid) != 1)
                vpid = 0;
            fclose(f);
        }
    }
    ok(vpid > 1 && kill((pid_t)vpid, SIGKILL) == 0, "killed by a stranger");
    while (!hook_finished(h))
        hook_poll(&h, 1, -1);
    hook_collect(h, &res);
    ok(!res.exited && res.signal == SIGKILL && !res.timed_out,
       "killed by someone else with KILL: signal 9 (got %d)", res.signal);
    hook_result_free(&res);
    free(cmd);
    free(stubborn);
    free(suicide);
    free(pidfile);
    free(victim_sh);
}

int
main(void)
{
    const char *t = getenv("TMPDIR");
    int fds_before;
    pid_t w;

    diag_init("test-hook");
    snprintf(tmpdir, sizeof tmpdir, "%s/test-hook.XXXXXX",
             t && *t ? t : "/tmp");
    if (!mkdtemp(tmpdir))
        diag_die(OSM_EIO, "mkdtemp: %s", strerror(errno));
    fds_before = count_fds();

    test_echo();
    test_status();
    test_stderr_excerpt();
    test_env_cwd();
    test_fds_closed();
    test_timeouts();
    test_overflow_epipe();
    test_async();
    test_needs_shell();
    test_direct_exec();
    test_signals();

    w = waitpid(-1, NULL, WNOHANG);
    ok(w == -1 && errno == ECHILD, "no child left, zombie or not");
    is_int(count_fds(), fds_before, "no descriptor leaked");
    {
        char *cmd = xasprintf("rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            tap_diag("could not remove %s", tmpdir);
        free(cmd);
    }
    return done_testing();
}
