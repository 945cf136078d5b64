/*
 * Unit tests for lib/hookproc: many requests through one process, answers
 * matched by "task" tag in and out of order or to the oldest; a crash, a
 * timeout, a malformed answer and a line too long failing only what is in
 * flight, with restarts after a back-off that doubles and resets; stderr
 * drained and its excerpt attached; writes that never block; one-shot
 * hooks and persistent processes in one hook_poll_all(); the broadband
 * example's persistent hook; no zombie or descriptor left behind.  The
 * persistent programs are small sh loops, jq and cat.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "diag.h"
#include "hook.h"
#include "hookproc.h"
#include "xalloc.h"
#include "tap.h"

#define PREFIX_MALFORMED "persistent hook sent a malformed answer: "

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
sleep_ms(int64_t ms)
{
    struct timespec ts;

    if (ms <= 0)
        return;
    ts.tv_sec = (time_t)(ms / 1000);
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
}

/*
 * Every process of group pgid has ended (a group of zombies that init
 * does not reap counts as gone; see test-hook.c).
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
        if (p && sscanf(p + 1, " %c %*d %ld", &state, &pgrp) == 2 &&
            pgrp == pgid && state != 'Z')
            alive++;
    }
    closedir(d);
    return alive == 0;
}

static hookproc *
make(const char *command, int64_t grace_ms, size_t max_line)
{
    hookproc_spec spec = { 0 };
    osm_err err = { 0, "" };
    hookproc *p = NULL;

    spec.command = command;
    spec.grace_ms = grace_ms;
    spec.max_line = max_line;
    if (hookproc_new(&spec, &p, &err) != 0)
        diag_die(OSM_ESOFTWARE, "hookproc_new: %s", err.msg);
    return p;
}

static int
send_line(hookproc *p, int64_t tag, const char *line, int64_t timeout_ms)
{
    osm_err err = { 0, "" };
    int64_t retry_at = 0;
    int rc = hookproc_send(p, tag, line, strlen(line), timeout_ms, &retry_at,
                           &err);

    if (rc != 0 && rc != OSM_ETEMPFAIL)
        tap_diag("hookproc_send: %d %s", rc, err.msg);
    return rc;
}

/* hookproc_send() until the back-off lets it through (a few seconds). */
static int
send_when_ready(hookproc *p, int64_t tag, const char *line, int64_t timeout_ms)
{
    osm_err err = { 0, "" };
    int rc = OSM_ETEMPFAIL;

    for (int i = 0; i < 100 && rc == OSM_ETEMPFAIL; i++) {
        int64_t retry_at = 0;

        rc = hookproc_send(p, tag, line, strlen(line), timeout_ms, &retry_at,
                           &err);
        if (rc == OSM_ETEMPFAIL) {
            hook_poll_all(NULL, 0, &p, 1, 0);
            sleep_ms(retry_at - clock_monotonic_ms());
        }
    }
    if (rc != 0)
        tap_diag("hookproc_send: %d %s", rc, err.msg);
    return rc;
}

/* Take up to n answers into a[], polling up to limit_ms; how many. */
static size_t
wait_answers(hookproc *p, hookproc_answer *a, size_t n, int64_t limit_ms)
{
    int64_t end = clock_monotonic_ms() + limit_ms;
    size_t got = 0;

    while (got < n) {
        int64_t left;

        while (got < n && hookproc_take(p, &a[got]))
            got++;
        left = end - clock_monotonic_ms();
        if (got == n || left <= 0)
            break;
        /* 0 with nothing in flight: nothing more will come */
        if (hook_poll_all(NULL, 0, &p, 1, left) == 0 &&
            hookproc_inflight(p) == 0)
            break;
    }
    return got;
}

static void
free_answers(hookproc_answer *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        hookproc_answer_free(&a[i]);
}

static int
starts_with(const char *s, const char *prefix)
{
    return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

static void
test_many(void)
{
    hookproc *p = make("jq -c --unbuffered '{task: .id, echo: .n}'", 200, 0);
    hookproc_answer a[64];
    char line[64];
    pid_t pid = 0;
    int all = 1;
    size_t got;

    is_int(hookproc_pid(p), 0, "not started before the first send");
    for (int i = 1; i <= 50; i++) {
        snprintf(line, sizeof line, "{\"id\": %d, \"n\": %d}", i, i * 7);
        all &= send_line(p, i, line, 10000) == 0;
        if (i == 1)
            pid = hookproc_pid(p);
    }
    ok(all && pid > 0, "50 requests queued");
    is_int(hookproc_inflight(p), 50, "50 in flight");
    got = wait_answers(p, a, 50, 10000);
    is_int(got, 50, "50 answers");
    all = 1;
    for (size_t i = 0; i < got; i++) {
        char want[64];

        snprintf(want, sizeof want, "{\"task\":%lld,\"echo\":%lld}",
                 (long long)a[i].tag, (long long)a[i].tag * 7);
        all &= a[i].error == NULL && a[i].line &&
               strcmp(a[i].line, want) == 0 && a[i].line_len == strlen(want) &&
               a[i].tag == (int64_t)i + 1;
    }
    ok(all, "each answer matched to its tag, in order");
    is_int(hookproc_pid(p), pid, "one process for all of them");
    is_int(hookproc_inflight(p), 0, "nothing in flight");
    free_answers(a, got);
    hookproc_free(p);

    /* answers two by two, the second first, each naming its task */
    p = make("while IFS= read -r a && IFS= read -r b; do "
             "printf '%s\\n' \"$b\" \"$a\"; done", 200, 0);
    for (int i = 1; i <= 6; i++) {
        snprintf(line, sizeof line, "{\"task\":%d}", i * 11);
        send_line(p, i * 11, line, 10000);
    }
    got = wait_answers(p, a, 6, 10000);
    all = got == 6;
    for (size_t i = 0; i < got; i++) {
        static const int order[] = { 22, 11, 44, 33, 66, 55 };
        char want[32];

        snprintf(want, sizeof want, "{\"task\":%d}", order[i]);
        all &= a[i].tag == order[i] && a[i].line && !strcmp(a[i].line, want);
    }
    ok(all, "out of order: each answer goes to the request it names");
    free_answers(a, got);
    hookproc_free(p);

    /* no "task": the oldest in flight */
    p = make("while IFS= read -r l; do echo '{\"ok\":true}'; done", 200, 0);
    send_line(p, 10, "x", 10000);
    send_line(p, 20, "y", 10000);
    send_line(p, 30, "z", 10000);
    got = wait_answers(p, a, 3, 10000);
    ok(got == 3 && a[0].tag == 10 && a[1].tag == 20 && a[2].tag == 30 &&
       !strcmp(a[2].line, "{\"ok\":true}"),
       "untagged answers go to the oldest request in flight");
    ok(got == 3 && a[0].duration_ms >= 0 && a[0].duration_ms < 10000,
       "duration measured (%lld ms)", (long long)a[0].duration_ms);
    free_answers(a, got);
    hookproc_free(p);
}

static void
test_crash(void)
{
    /* it ends only once it has read both of the later requests, so that
     * both are in flight when it does, however slow the machine */
    hookproc *p = make("read -r l; echo '{\"n\":1}'; read -r l; read -r l; "
                       "echo oops >&2; exit 3", 200, 0);
    hookproc_answer a[4];
    osm_err err = { 0, "" };
    int64_t retry_at = 0, now;
    pid_t pid, pid2;
    size_t got;

    send_line(p, 1, "first", 10000);
    pid = hookproc_pid(p);
    got = wait_answers(p, a, 1, 10000);
    ok(got == 1 && a[0].tag == 1 && a[0].error == NULL &&
       !strcmp(a[0].line, "{\"n\":1}"), "crash: the first request answered");
    free_answers(a, got);
    send_line(p, 2, "second", 10000);
    send_line(p, 3, "third", 10000);
    got = wait_answers(p, a, 2, 10000);
    ok(got == 2 && a[0].tag == 2 && a[1].tag == 3, "crash: both in flight "
       "failed");
    is_str(got ? a[0].error : NULL, "persistent hook exited with status 3",
           "crash: the error says how it ended");
    ok(got == 2 && a[0].line == NULL && a[0].exited && a[0].exit_status == 3 &&
       a[0].signal == 0 && !a[0].timed_out, "crash: exit status 3 recorded");
    is_str(got == 2 ? a[1].err_excerpt : NULL, "oops\n",
           "crash: its stderr attached");
    free_answers(a, got);
    is_int(hookproc_pid(p), 0, "crash: no process now");

    now = clock_monotonic_ms();
    is_int(hookproc_send(p, 4, "again", 5, 10000, &retry_at, &err),
           OSM_ETEMPFAIL, "right after the crash: back-off");
    ok(retry_at > now && retry_at <= now + HOOKPROC_BACKOFF_FIRST_MS,
       "retry_at within the first back-off (%lld ms ahead)",
       (long long)(retry_at - now));
    is_int(hookproc_inflight(p), 0, "not queued");
    sleep_ms(retry_at - clock_monotonic_ms());
    is_int(send_line(p, 4, "again", 10000), 0, "after the back-off: sent");
    pid2 = hookproc_pid(p);
    ok(pid2 > 0 && pid2 != pid, "a new process (%ld, was %ld)", (long)pid2,
       (long)pid);
    got = wait_answers(p, a, 1, 10000);
    ok(got == 1 && a[0].tag == 4 && a[0].error == NULL,
       "and it answers");
    free_answers(a, got);
    hookproc_free(p);

    /* a program that is not there: exit 127, "not found" attached */
    p = make("no-such-program-for-osm-tests --serve", 200, 0);
    is_int(send_line(p, 1, "x", 10000), 0,
           "missing program: the request is sent");
    got = wait_answers(p, a, 1, 10000);
    ok(got == 1 && a[0].exited && a[0].exit_status == 127,
       "missing program: fails with exit 127");
    is_str(got ? a[0].err_excerpt : NULL,
           "no-such-program-for-osm-tests: not found\n",
           "missing program: as sh says it");
    free_answers(a, got);
    hookproc_free(p);

    /* a directory that is not there: not started, not queued */
    {
        hookproc_spec spec = { 0 };

        spec.command = "cat";
        spec.cwd = "/nonexistent/osm-test-dir";
        hookproc_new(&spec, &p, &err);
        is_int(hookproc_send(p, 1, "x", 1, 1000, &retry_at, &err),
               OSM_EUNAVAILABLE, "missing directory: cannot start");
        is_str(err.msg, "cannot start persistent hook: cannot change to "
               "directory \"/nonexistent/osm-test-dir\": No such file or "
               "directory", "missing directory: the message");
        is_int(hookproc_inflight(p), 0, "missing directory: not queued");
        is_int(hookproc_send(p, 1, "x", 1, 1000, &retry_at, &err),
               OSM_ETEMPFAIL, "missing directory: then the back-off");
        hookproc_free(p);
    }
}

static void
test_timeout(void)
{
    hookproc *p = make("cat >/dev/null", 200, 0);
    hookproc_answer a[2];
    int64_t t = clock_monotonic_ms();
    pid_t pid;
    size_t got;

    send_line(p, 1, "never answered", 200);
    send_line(p, 2, "long limit", 60000);
    pid = hookproc_pid(p);
    got = wait_answers(p, a, 2, 5000);
    t = clock_monotonic_ms() - t;
    ok(got == 2 && a[0].tag == 1 && a[1].tag == 2,
       "timeout: both in flight fail");
    is_str(got ? a[0].error : NULL, "persistent hook timed out (limit PT0.2S)",
           "timeout: the message, with the limit");
    is_str(got == 2 ? a[1].error : NULL,
           "persistent hook timed out (limit PT0.2S)",
           "timeout: the other one, the same");
    ok(got == 2 && a[0].timed_out && !a[1].timed_out,
       "timeout: timed_out on the late one only");
    ok(got == 2 && a[0].signal == SIGTERM && !a[0].exited,
       "timeout: ended by TERM");
    ok(t >= 200 && t < 1500, "timeout: in time (%lld ms)", (long long)t);
    ok(pid > 0 && group_gone(pid), "timeout: the process group is gone");
    free_answers(a, got);
    hookproc_free(p);

    /* TERM ignored: KILL after the grace */
    /* (not reading stdin, which is closed when it is stopped) */
    p = make("trap '' TERM; read -r l; sleep 30", 200, 0);
    send_line(p, 1, "x", 150);
    t = clock_monotonic_ms();
    got = wait_answers(p, a, 1, 5000);
    t = clock_monotonic_ms() - t;
    ok(got == 1 && a[0].timed_out && a[0].signal == SIGKILL,
       "timeout, TERM ignored: ended by KILL (signal %d)",
       got ? a[0].signal : -1);
    ok(t >= 300 && t < 2000, "timeout, TERM ignored: after the grace "
       "(%lld ms)", (long long)t);
    free_answers(a, got);
    hookproc_free(p);
}

static void
test_malformed(void)
{
    static const struct {
        const char *answer;
        const char *error;
    } cases[] = {
        { "nonsense", PREFIX_MALFORMED "parse error: " },
        { "[1,2]", PREFIX_MALFORMED "not a JSON object" },
        { "{\"task\":99}", PREFIX_MALFORMED "task 99 is not in flight" },
        { "{\"task\":\"1\"}", PREFIX_MALFORMED "\"task\" is not an integer" },
        { "", PREFIX_MALFORMED "parse error: " },
    };
    hookproc_answer a[2];

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *cmd = xasprintf("read -r l; echo '%s'; cat >/dev/null",
                              cases[i].answer);
        hookproc *p = make(cmd, 200, 0);
        size_t got;
        pid_t pid;

        send_line(p, 1, "one", 10000);
        send_line(p, 2, "two", 10000);
        pid = hookproc_pid(p);
        got = wait_answers(p, a, 2, 5000);
        ok(got == 2 && starts_with(a[0].error, cases[i].error) &&
           starts_with(a[1].error, cases[i].error) && !a[0].timed_out,
           "answer '%s': both in flight fail (%s)", cases[i].answer,
           got ? a[0].error : "nothing");
        ok(pid > 0 && group_gone(pid), "answer '%s': the process is ended",
           cases[i].answer);
        free_answers(a, got);
        hookproc_free(p);
        free(cmd);
    }

    /* a bad answer, and a restart that then works */
    {
        char *mark = xasprintf("%s/started", tmpdir);
        char *cmd = xasprintf("if [ -e '%s' ]; then exec cat; fi; "
                              ": >'%s'; read -r l; echo '{\"task\":77}'; "
                              "cat >/dev/null", mark, mark);
        hookproc *p = make(cmd, 200, 0);
        size_t got;
        pid_t pid;

        send_line(p, 1, "{\"task\":1}", 10000);
        pid = hookproc_pid(p);
        got = wait_answers(p, a, 1, 5000);
        is_str(got ? a[0].error : NULL,
               PREFIX_MALFORMED "task 77 is not in flight",
               "a bad answer: the request fails");
        free_answers(a, got);
        is_int(send_when_ready(p, 2, "{\"task\":2}", 10000), 0,
               "restarted after the back-off");
        ok(hookproc_pid(p) != pid, "a new process");
        got = wait_answers(p, a, 1, 5000);
        ok(got == 1 && a[0].tag == 2 && a[0].line &&
           !strcmp(a[0].line, "{\"task\":2}"), "which answers");
        free_answers(a, got);
        hookproc_free(p);
        unlink(mark);
        free(mark);
        free(cmd);
    }

    /* idle, it prints something nobody asked for */
    {
        hookproc *p = make("read -r l; echo '{}'; sleep 0.2; echo '{}'; "
                           "cat >/dev/null", 200, 0);
        size_t got;

        send_line(p, 1, "x", 10000);
        got = wait_answers(p, a, 1, 5000);
        ok(got == 1 && a[0].error == NULL, "idle: the answer");
        free_answers(a, got);
        /* nothing in flight: hook_poll_all() still reads what it says */
        for (int i = 0; i < 50 && hookproc_pid(p); i++) {
            hook_poll_all(NULL, 0, &p, 1, 0);
            sleep_ms(20);
        }
        is_int(hookproc_pid(p), 0, "idle: a line nobody asked for ends it");
        send_when_ready(p, 2, "x", 10000);
        got = wait_answers(p, a, 1, 5000);
        ok(got == 1 && a[0].tag == 2, "idle: a later request is served");
        free_answers(a, got);
        hookproc_free(p);
    }
}

static void
test_long_line(void)
{
    /* answers with a JSON object of exactly as many bytes as asked */
    hookproc *p = make("while read -r n; do "
                       "printf '{\"p\":\"%s\"}\\n' "
                       "\"$(printf \"%0$((n - 8))d\" 0 | tr 0 x)\"; done",
                       200, 100);
    hookproc_answer a[2];
    size_t got;
    pid_t pid;

    send_line(p, 1, "100", 10000);
    pid = hookproc_pid(p);
    got = wait_answers(p, a, 1, 5000);
    ok(got == 1 && a[0].error == NULL && a[0].line_len == 100,
       "a line of exactly max_line bytes: taken");
    free_answers(a, got);
    send_line(p, 2, "101", 10000);
    got = wait_answers(p, a, 1, 5000);
    is_str(got ? a[0].error : NULL,
           "persistent hook sent a line longer than 100 bytes",
           "max_line + 1: refused");
    ok(pid > 0 && group_gone(pid), "and the process ended");
    free_answers(a, got);
    is_int(send_when_ready(p, 3, "50", 10000), 0, "restarted");
    got = wait_answers(p, a, 1, 5000);
    ok(got == 1 && a[0].error == NULL && a[0].line_len == 50 &&
       hookproc_pid(p) != pid, "a new process, answering");
    free_answers(a, got);
    hookproc_free(p);

    /* a much longer line, in many reads, never held whole */
    p = make("read -r l; head -c 3000000 /dev/zero | tr '\\0' x; "
             "cat >/dev/null", 200, 1000);
    send_line(p, 1, "x", 10000);
    got = wait_answers(p, a, 1, 5000);
    is_str(got ? a[0].error : NULL,
           "persistent hook sent a line longer than 1000 bytes",
           "3 MB without a newline: refused");
    free_answers(a, got);
    hookproc_free(p);
}

static void
test_backoff(void)
{
    hookproc *p = make("while IFS= read -r l; do "
                       "case $l in *die*) exit 4 ;; esac; echo '{}'; done",
                       200, 0);
    hookproc_answer a[1];
    osm_err err = { 0, "" };
    int64_t retry_at, now, d1, d2, d3;
    size_t got;

    send_line(p, 1, "die", 10000);
    got = wait_answers(p, a, 1, 5000);
    ok(got == 1 && a[0].exit_status == 4, "back-off: first failure");
    free_answers(a, got);
    now = clock_monotonic_ms();
    is_int(hookproc_send(p, 2, "die", 3, 10000, &retry_at, &err),
           OSM_ETEMPFAIL, "back-off: refused right after");
    d1 = retry_at - now;
    ok(d1 > 0 && d1 <= 100, "back-off: about 100 ms (%lld)", (long long)d1);

    sleep_ms(retry_at - clock_monotonic_ms());
    is_int(send_line(p, 2, "die", 10000), 0, "back-off: passed, sent");
    got = wait_answers(p, a, 1, 5000);
    free_answers(a, got);
    now = clock_monotonic_ms();
    hookproc_send(p, 3, "ok", 2, 10000, &retry_at, &err);
    d2 = retry_at - now;
    ok(d2 > 100 && d2 <= 200, "back-off: doubled after a second failure "
       "(%lld)", (long long)d2);

    sleep_ms(retry_at - clock_monotonic_ms());
    is_int(send_line(p, 3, "ok", 10000), 0, "back-off: sent after the second");
    got = wait_answers(p, a, 1, 5000);
    ok(got == 1 && a[0].error == NULL, "back-off: an answer");
    free_answers(a, got);
    send_line(p, 4, "die", 10000);
    got = wait_answers(p, a, 1, 5000);
    free_answers(a, got);
    now = clock_monotonic_ms();
    hookproc_send(p, 5, "ok", 2, 10000, &retry_at, &err);
    d3 = retry_at - now;
    ok(d3 > 0 && d3 <= 100, "back-off: reset by the answer (%lld)",
       (long long)d3);
    hookproc_free(p);

    /* a clean exit with nothing in flight costs no back-off */
    p = make("read -r l; echo '{}'; exit 0", 200, 0);
    send_line(p, 1, "x", 10000);
    got = wait_answers(p, a, 1, 5000);
    free_answers(a, got);
    for (int i = 0; i < 100 && hookproc_pid(p); i++) {
        hook_poll_all(NULL, 0, &p, 1, 0);
        sleep_ms(10);
    }
    is_int(hookproc_pid(p), 0, "clean exit when idle: reaped");
    is_int(send_line(p, 2, "y", 10000), 0, "clean exit when idle: restarted at "
           "once");
    got = wait_answers(p, a, 1, 5000);
    ok(got == 1 && a[0].error == NULL, "and answering");
    free_answers(a, got);
    hookproc_free(p);
}

static void
test_stderr_and_writes(void)
{
    hookproc *p = make("while IFS= read -r l; do case $l in "
                       "die) echo last words >&2; exit 1 ;; esac; "
                       "head -c 1000000 /dev/zero | tr '\\0' e >&2; "
                       "echo '{}'; done", 200, 0);
    hookproc_answer a[2];
    const char *ex;
    size_t got;
    int64_t t;
    char *big, *line;

    send_line(p, 1, "talk", 5000);
    send_line(p, 2, "talk", 5000);
    got = wait_answers(p, a, 2, 5000);
    ok(got == 2 && !a[0].error && !a[1].error,
       "2 MB of stderr: the process is not blocked");
    free_answers(a, got);
    send_line(p, 3, "die", 5000);
    got = wait_answers(p, a, 1, 5000);
    ex = got ? a[0].err_excerpt : NULL;
    ok(ex && starts_with(ex, "[... ") && strstr(ex, " bytes cut ...]\n"),
       "the excerpt says what was cut");
    ok(ex && strlen(ex) < 8192 + 64 && strlen(ex) > 8192 &&
       !strcmp(ex + strlen(ex) - 11, "last words\n") &&
       ex[strlen(ex) - 12] == 'e', "the excerpt: the last 8 KiB");
    free_answers(a, got);
    hookproc_free(p);

    /* a reader that starts late: sends never block, all answered */
    p = make("sleep 0.3; exec cat", 200, 0);
    big = xmalloc(1001);
    memset(big, 'x', 1000);
    big[1000] = '\0';
    t = clock_monotonic_ms();
    for (int i = 1; i <= 2000; i++) {
        line = xasprintf("{\"task\":%d,\"pad\":\"%s\"}", i, big);
        send_line(p, i, line, 20000);
        free(line);
    }
    t = clock_monotonic_ms() - t;
    ok(t < 250, "2 MB of requests to a process not reading: queued in "
       "%lld ms", (long long)t);
    {
        hookproc_answer *many = xcalloc(2000, sizeof *many);
        int all;

        got = wait_answers(p, many, 2000, 20000);
        all = got == 2000;
        for (size_t i = 0; i < got; i++)
            all &= many[i].tag == (int64_t)i + 1 && !many[i].error;
        ok(all, "all 2000 answered (%zu)", got);
        free_answers(many, got);
        free(many);
    }
    free(big);
    hookproc_free(p);
}

static void
test_poll_all(void)
{
    hookproc *p = make("while IFS= read -r l; do sleep 0.1; "
                       "echo '{}'; done", 200, 0);
    hook_spec spec = { 0 };
    hook_result res;
    hookproc_answer a;
    osm_err err = { 0, "" };
    hook *h = NULL;
    int64_t t;
    int got_hook = 0, got_answer = 0;

    t = clock_monotonic_ms();
    is_int(hook_poll_all(NULL, 0, &p, 1, -1), 0,
           "poll_all with nothing that could finish: 0 at once");
    ok(clock_monotonic_ms() - t < 100, "and without waiting");

    spec.command = "sleep 0.3";
    hook_start(&spec, &h, &err);
    send_line(p, 1, "x", 5000);
    while (!got_hook || !got_answer) {
        int n = hook_poll_all(&h, 1, &p, 1, 5000);

        if (n <= 0)
            break;
        if (h && hook_finished(h)) {
            hook_collect(h, &res);
            got_hook = !got_answer ? -1 : 1;  /* -1: before the answer */
            hook_result_free(&res);
            h = NULL;
        }
        if (hookproc_take(p, &a)) {
            got_answer = 1;
            hookproc_answer_free(&a);
        }
    }
    ok(got_answer == 1 && got_hook == 1,
       "poll_all: the answer (0.1 s) and then the hook (0.3 s)");
    if (h)
        hook_abort(h);
    hookproc_free(p);
}

/* The broadband example's persistent activation hook, as osm drives it. */
static void
test_example(void)
{
    const char *src = getenv("OSM_SRCDIR");
    char *cmd, *line;
    hookproc *p;
    hookproc_answer a[3];
    size_t got;
    int all;

    if (!src || !*src)
        src = ".";
    cmd = xasprintf("%s/examples/broadband/hooks/activation-persistent.sh "
                    "south", src);
    p = make(cmd, 200, 0);
    for (int i = 0; i < 3; i++) {
        line = xasprintf("{\"request\":{\"action\":\"%s\",\"services\":"
                         "[{\"itemId\":\"1\",\"task\":{\"id\":999}}]},"
                         "\"order\":{\"id\":3,\"externalId\":null,"
                         "\"cartridge\":\"broadband\"},\"task\":{\"id\":%d,"
                         "\"function\":\"activate\",\"system\":\"asap-south\","
                         "\"group\":\"1\",\"items\":[\"1\",\"2\"],\"mode\":"
                         "\"do\",\"attempt\":1},\"mode\":\"do\",\"attempt\":1,"
                         "\"idempotencyKey\":\"osm-3-%d-do-1\"}",
                         i == 2 ? "deactivate" : "activate", 40 + i, 40 + i);
        send_line(p, 40 + i, line, 10000);
        free(line);
    }
    got = wait_answers(p, a, 3, 10000);
    all = got == 3;
    for (size_t i = 0; i < got; i++)
        all &= a[i].tag == 40 + (int64_t)i && a[i].error == NULL;
    ok(all, "example activation-persistent.sh: each task answered");
    is_str(got ? a[0].line : NULL,
           "{\"task\":40,\"status\":\"completed\",\"externalStatus\":"
           "\"ACTIVATED\",\"data\":{\"workOrder\":\"WO-ASAPSOUTH-100001\","
           "\"services\":[{\"itemId\":\"1\",\"serviceId\":"
           "\"SVC-ASAPSOUTH-40-1\"},{\"itemId\":\"2\",\"serviceId\":"
           "\"SVC-ASAPSOUTH-40-2\"}]}}", "example: an activation");
    is_str(got == 3 ? a[2].line : NULL,
           "{\"task\":42,\"status\":\"completed\",\"externalStatus\":"
           "\"DEACTIVATED\",\"data\":{\"services\":[{\"itemId\":\"1\"},"
           "{\"itemId\":\"2\"}]}}", "example: a deactivation");
    free_answers(a, got);
    hookproc_free(p);
    free(cmd);
}

static void
test_free(void)
{
    hookproc *p = make("cat >/dev/null", 200, 0);
    pid_t pid;
    int64_t t;

    send_line(p, 1, "x", 10000);
    pid = hookproc_pid(p);
    t = clock_monotonic_ms();
    hookproc_free(p);
    ok(clock_monotonic_ms() - t < 200, "free with a request in flight: "
       "prompt");
    ok(group_gone(pid), "free: the group is gone");

    p = make("trap '' TERM; sleep 30", 300, 0);
    send_line(p, 1, "x", 10000);
    hook_poll_all(NULL, 0, &p, 1, 100);     /* let sh set its trap */
    pid = hookproc_pid(p);
    t = clock_monotonic_ms();
    hookproc_free(p);
    t = clock_monotonic_ms() - t;
    ok(t >= 250 && t < 1000, "free of a TERM-proof process: KILL after "
       "the grace (%lld ms)", (long long)t);
    ok(group_gone(pid), "free: that group is gone too");

    hookproc_free(NULL);
    ok(1, "free(NULL) is a no-op");
}

int
main(void)
{
    const char *t = getenv("TMPDIR");
    struct sigaction sa;
    int fds_before;
    pid_t w;

    diag_init("test-hookproc");
    snprintf(tmpdir, sizeof tmpdir, "%s/test-hookproc.XXXXXX",
             t && *t ? t : "/tmp");
    if (!mkdtemp(tmpdir))
        diag_die(OSM_EIO, "mkdtemp: %s", strerror(errno));
    fds_before = count_fds();

    test_many();
    test_crash();
    test_timeout();
    test_malformed();
    test_long_line();
    test_backoff();
    test_stderr_and_writes();
    test_poll_all();
    test_example();
    test_free();

    w = waitpid(-1, NULL, WNOHANG);
    ok(w == -1 && errno == ECHILD, "no child left, zombie or not");
    is_int(count_fds(), fds_before, "no descriptor leaked");
    sigaction(SIGPIPE, NULL, &sa);
    ok(sa.sa_handler == SIG_DFL, "SIGPIPE disposition untouched");
    rmdir(tmpdir);
    return done_testing();
}
