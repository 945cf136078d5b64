/*
 * Persistent hook processes: a line protocol over one long-lived child,
 * many requests in flight on it, and a clean restart with back-off when
 * it fails (see hookproc.h for the contract).  The child is started by
 * hook-spawn.c exactly as a one-shot hook's; hook_poll_all() (hook.c)
 * drives it through the hookproc_service_* steps below.
 *
 * A process's life: running (requests written as the pipe takes them,
 * answers matched as their lines complete), then stopping, once the
 * stream is over, for one of two reasons.  Either the process ended its
 * side (it exited, closed its stdout or stopped reading its stdin): then
 * what it wrote before is still read and delivered, and a process that
 * is still alive a grace period later is ended.  Or we ended it (a
 * timeout, a bad line): then nothing more it writes is believed, and its
 * group gets TERM, then KILL after the grace.  Either way the requests
 * still in flight fail together once the child is reaped, which happens
 * only after the last signal to its group (as in hook.c: an unreaped
 * leader keeps its process group id from being reused).
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "diag.h"
#include "hook-int.h"
#include "hookproc.h"
#include "json.h"
#include "xalloc.h"

typedef struct inflight {
    int64_t tag;
    int64_t sent_ms;        /* monotonic */
    int64_t timeout_ms;     /* 0: none */
    int timed_out;
} inflight;

struct hookproc {
    char *command, *cwd;
    char **env;
    size_t max_line;
    int64_t grace_ms;

    /* the process; pid 0 when there is none */
    pid_t pid;
    int in_fd, out_fd, err_fd;  /* our ends; -1 once closed */
    int exited;             /* the child has ended (a zombie until reaped) */
    int reaped;             /* someone else reaped it: status lost */
    int64_t exited_at;
    int64_t term_at;        /* when its group got TERM; -1: not yet */
    int kill_sent;
    int stopping;           /* the stream is over (see the top) */
    char *reason;           /* why we ended it; NULL: as it ended */
    int64_t quiet_at;       /* it closed stdout or its stdin while alive */
    const char *quiet_why;

    strbuf wbuf;            /* requests not written yet, from woff */
    size_t woff;
    strbuf line;            /* the answer line being read */
    hook_errcap err;        /* the last stderr */

    inflight *fl;           /* in flight, oldest first */
    size_t nfl, fl_cap;
    hookproc_answer *ready; /* to take, from ready_head */
    size_t ready_head, ready_len, ready_cap;

    int64_t backoff_ms;     /* the last back-off; 0 after an answer */
    int64_t retry_at;       /* no new process before (monotonic ms) */
};

static int64_t
min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* Signal the process group, only while its leader is unreaped. */
static void
group_signal(hookproc *p, int sig)
{
    if (p->pid && !p->reaped)
        kill(-p->pid, sig);
}

static void
push_ready(hookproc *p, const hookproc_answer *a)
{
    if (p->ready_len == p->ready_cap) {
        p->ready_cap = p->ready_cap ? 2 * p->ready_cap : 8;
        p->ready = xrealloc(p->ready, p->ready_cap * sizeof *p->ready);
    }
    p->ready[p->ready_len++] = *a;
}

static void
drop_input(hookproc *p)
{
    hook_close_fd(&p->in_fd);
    sb_reset(&p->wbuf);
    p->woff = 0;
}

/* The next back-off: 100 ms, doubling up to 30 s; no restart before. */
static void
penalise(hookproc *p, int64_t now)
{
    p->backoff_ms = p->backoff_ms ? min64(2 * p->backoff_ms,
                                          HOOKPROC_BACKOFF_MAX_MS)
                                  : HOOKPROC_BACKOFF_FIRST_MS;
    p->retry_at = now + p->backoff_ms;
}

/*
 * We end the process: its output is no longer believed, its group gets
 * TERM.  reason (ours) is the failure of what is in flight, unless one
 * was given before.
 */
static void
stop_process(hookproc *p, int64_t now, char *reason)
{
    if (!p->reason)
        p->reason = reason;
    else
        free(reason);
    p->stopping = 1;
    drop_input(p);
    hook_close_fd(&p->out_fd);
    if (p->term_at < 0) {
        group_signal(p, SIGTERM);
        p->term_at = now;
    }
}

/* The process ended its side of the stream; wait a grace for its exit. */
static void
process_quiet(hookproc *p, int64_t now, const char *why)
{
    p->stopping = 1;
    drop_input(p);
    if (p->quiet_at < 0) {
        p->quiet_at = now;
        p->quiet_why = why;
    }
}

static void
malformed(hookproc *p, int64_t now, const char *why)
{
    stop_process(p, now, xasprintf("persistent hook sent a malformed "
                                   "answer: %s", why));
}

/* ------------------------------------------------------------ answers */

/* p->line is a whole answer line: match it to its request. */
static void
answer_line(hookproc *p, int64_t now)
{
    osm_err perr = { 0, "" };
    jv v = json_parse_mem(p->line.buf ? p->line.buf : "", p->line.len, &perr);
    hookproc_answer a;
    long long task = 0;
    size_t i = 0;
    int has;

    if (!jv_is_valid(v)) {
        jv_free(v);
        malformed(p, now, perr.msg);
        return;
    }
    if (jv_get_kind(v) != JV_KIND_OBJECT) {
        jv_free(v);
        malformed(p, now, "not a JSON object");
        return;
    }
    has = json_get_int(v, "task", &task);
    jv_free(v);
    if (has < 0) {
        malformed(p, now, "\"task\" is not an integer");
        return;
    }
    if (p->nfl == 0) {
        malformed(p, now, "an answer with no request in flight");
        return;
    }
    if (has) {
        for (i = 0; i < p->nfl && p->fl[i].tag != task; i++)
            ;
        if (i == p->nfl) {
            char why[64];

            snprintf(why, sizeof why, "task %lld is not in flight", task);
            malformed(p, now, why);
            return;
        }
    }
    memset(&a, 0, sizeof a);
    a.tag = p->fl[i].tag;
    a.duration_ms = now - p->fl[i].sent_ms;
    a.line = sb_detach(&p->line, &a.line_len);
    memmove(p->fl + i, p->fl + i + 1, (p->nfl - i - 1) * sizeof *p->fl);
    p->nfl--;
    push_ready(p, &a);
    p->backoff_ms = 0;
}

/* Split what stdout gave into lines, each at most max_line bytes. */
static void
take_output(hookproc *p, const char *buf, size_t n, int64_t now)
{
    while (n && p->out_fd >= 0) {
        const char *nl = memchr(buf, '\n', n);
        size_t seg = nl ? (size_t)(nl - buf) : n;

        if (seg > p->max_line - p->line.len) {
            stop_process(p, now, xasprintf("persistent hook sent a line "
                                           "longer than %zu bytes",
                                           p->max_line));
            return;
        }
        sb_add(&p->line, buf, seg);
        if (!nl)
            return;
        answer_line(p, now);
        sb_reset(&p->line);
        buf += seg + 1;
        n -= seg + 1;
    }
}

/* ------------------------------------------------------------ pipes */

static void
read_out(hookproc *p, int64_t now)
{
    char buf[HOOK_IO_CHUNK];

    for (int i = 0; i < HOOK_READS_PER_PASS && p->out_fd >= 0; i++) {
        ssize_t n = read(p->out_fd, buf, sizeof buf);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0) {
            /* EOF (a partial last line is no answer), or an error */
            hook_close_fd(&p->out_fd);
            if (!p->exited)
                process_quiet(p, now, "persistent hook closed its output");
            break;
        }
        take_output(p, buf, (size_t)n, now);
    }
}

static void
read_err(hookproc *p)
{
    char buf[HOOK_IO_CHUNK];

    for (int i = 0; i < HOOK_READS_PER_PASS && p->err_fd >= 0; i++) {
        ssize_t n = read(p->err_fd, buf, sizeof buf);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0) {
            hook_close_fd(&p->err_fd);
            break;
        }
        hook_errcap_add(&p->err, buf, (size_t)n);
    }
}

/* Write queued requests as far as the pipe takes them; *raised on EPIPE. */
static void
write_requests(hookproc *p, int64_t now, int *raised)
{
    while (p->in_fd >= 0 && p->woff < p->wbuf.len) {
        size_t n = p->wbuf.len - p->woff;
        ssize_t w = write(p->in_fd, p->wbuf.buf + p->woff,
                          n < HOOK_IO_CHUNK ? n : HOOK_IO_CHUNK);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (w < 0) {
            if (errno == EPIPE)
                *raised = 1;
            process_quiet(p, now, "persistent hook stopped reading its input");
            return;
        }
        p->woff += (size_t)w;
    }
    if (p->woff == p->wbuf.len) {
        sb_reset(&p->wbuf);
        p->woff = 0;
    } else if (p->woff > HOOK_IO_CHUNK && p->woff > p->wbuf.len / 2) {
        memmove(p->wbuf.buf, p->wbuf.buf + p->woff, p->wbuf.len - p->woff);
        p->wbuf.len -= p->woff;
        p->wbuf.buf[p->wbuf.len] = '\0';
        p->woff = 0;
    }
}

/* ------------------------------------------------------------ the child */

static int
start(hookproc *p, int64_t now, osm_err *err)
{
    hook_child c;
    int rc = hook_spawn(p->command, p->cwd, p->env, &c, err);

    if (rc == 0 && c.spawn_error) {
        rc = osm_fail(err, OSM_EUNAVAILABLE, "cannot start persistent hook: "
                      "%s", c.spawn_error);
        free(c.spawn_error);
    }
    if (rc != 0) {
        penalise(p, now);
        return rc;
    }
    p->pid = c.pid;
    p->in_fd = c.in_fd;
    p->out_fd = c.out_fd;
    p->err_fd = c.err_fd;
    p->exited = p->reaped = p->kill_sent = p->stopping = 0;
    p->term_at = p->quiet_at = -1;
    hook_errcap_reset(&p->err);
    sb_reset(&p->line);
    if (c.exec_note) {
        /* what sh would have printed before its exit 127 or 126 */
        hook_errcap_add(&p->err, c.exec_note, strlen(c.exec_note));
        hook_errcap_add(&p->err, "\n", 1);
        free(c.exec_note);
    }
    return 0;
}

static void
check_child(hookproc *p, int64_t now)
{
    int ended;

    if (p->exited || (ended = hook_child_ended(p->pid)) == 0)
        return;
    if (ended < 0)
        p->reaped = 1;
    p->exited = 1;
    p->exited_at = now;
    p->stopping = 1;
    drop_input(p);
}

static void
check_deadlines(hookproc *p, int64_t now)
{
    const inflight *late = NULL;
    char lim[CLOCK_DURATION_MAX];

    for (size_t i = 0; i < p->nfl; i++) {
        inflight *f = &p->fl[i];

        if (f->timeout_ms && now - f->sent_ms >= f->timeout_ms) {
            f->timed_out = 1;
            if (!late)
                late = f;
        }
    }
    if (!late)
        return;
    duration_format(late->timeout_ms, lim);
    stop_process(p, now, xasprintf("persistent hook timed out (limit %s)",
                                   lim));
}

/*
 * The process is gone (its pipes closed, the child ended): reap it, fail
 * what was in flight, and make room for the next one.
 */
static void
finish(hookproc *p, int64_t now)
{
    int status = 0, known = 0, exited = 0, code = 0, sig = 0, failed;
    char *why, *excerpt = NULL;

    drop_input(p);
    hook_close_fd(&p->out_fd);
    hook_close_fd(&p->err_fd);
    /* a group we set out to kill is killed, whatever is left of it */
    if (p->term_at >= 0 && !p->kill_sent)
        group_signal(p, SIGKILL);
    if (!p->reaped)
        known = hook_child_reap(p->pid, &status);
    if (known && WIFEXITED(status)) {
        exited = 1;
        code = WEXITSTATUS(status);
    } else if (known && WIFSIGNALED(status))
        sig = WTERMSIG(status);

    failed = p->nfl > 0 || p->reason || !exited || code != 0;
    if (p->reason)
        why = p->reason;
    else if (exited)
        why = xasprintf("persistent hook exited with status %d", code);
    else if (sig)
        why = xasprintf("persistent hook killed by signal %d", sig);
    else
        why = xstrdup("persistent hook ended");
    p->reason = NULL;
    if (p->err.total)
        excerpt = hook_errcap_build(&p->err, NULL);
    for (size_t i = 0; i < p->nfl; i++) {
        hookproc_answer a;

        memset(&a, 0, sizeof a);
        a.tag = p->fl[i].tag;
        a.error = xstrdup(why);
        a.err_excerpt = excerpt ? xstrdup(excerpt) : NULL;
        a.duration_ms = now - p->fl[i].sent_ms;
        a.exited = exited;
        a.exit_status = code;
        a.signal = sig;
        a.timed_out = p->fl[i].timed_out;
        push_ready(p, &a);
    }
    free(why);
    free(excerpt);
    if (failed)
        penalise(p, now);

    p->pid = 0;
    p->nfl = 0;
    p->exited = p->reaped = p->kill_sent = p->stopping = 0;
    p->term_at = p->quiet_at = -1;
    sb_reset(&p->line);
    hook_errcap_reset(&p->err);
}

/* A stopping process: the grace periods, then finish() once it is gone. */
static void
advance_stop(hookproc *p, int64_t now)
{
    if (!p->exited && p->term_at < 0 && p->quiet_at >= 0 &&
        now - p->quiet_at >= p->grace_ms)
        stop_process(p, now, xstrdup(p->quiet_why));
    if (p->term_at >= 0 && !p->kill_sent && now - p->term_at >= p->grace_ms) {
        group_signal(p, SIGKILL);
        p->kill_sent = 1;
    }
    /* the child is gone but something it left holds the pipes */
    if (p->exited && (p->out_fd >= 0 || p->err_fd >= 0) &&
        now - p->exited_at >= p->grace_ms) {
        group_signal(p, SIGKILL);
        p->kill_sent = 1;
        hook_close_fd(&p->out_fd);
        hook_close_fd(&p->err_fd);
    }
    if (p->exited && p->out_fd < 0 && p->err_fd < 0)
        finish(p, now);
}

/* ------------------------------------------------------------ servicing */

int
hookproc_service_tick(hookproc *p, int64_t now)
{
    if (p->pid) {
        check_child(p, now);
        if (!p->stopping)
            check_deadlines(p, now);
        if (p->stopping)
            advance_stop(p, now);
    }
    return p->ready_head < p->ready_len;
}

int
hookproc_service_live(const hookproc *p)
{
    return p->nfl > 0 || (p->pid && p->stopping);
}

size_t
hookproc_service_fds(hookproc *p, struct pollfd *pfd, int *slot,
                     int64_t now, int64_t *wake)
{
    int64_t w = INT64_MAX;
    size_t k = 0;

    if (!p->pid)
        return 0;
    if (p->in_fd >= 0 && p->woff < p->wbuf.len) {
        pfd[k].fd = p->in_fd;
        pfd[k].events = POLLOUT;
        slot[k++] = 0;
    }
    if (p->out_fd >= 0) {
        pfd[k].fd = p->out_fd;
        pfd[k].events = POLLIN;
        slot[k++] = 1;
    }
    if (p->err_fd >= 0) {
        pfd[k].fd = p->err_fd;
        pfd[k].events = POLLIN;
        slot[k++] = 2;
    }
    for (size_t i = 0; i < k; i++)
        pfd[i].revents = 0;

    if (p->stopping) {
        /* the child usually ends just after it stops: look soon */
        w = HOOK_TICK_MS;
        if (p->term_at >= 0 && !p->kill_sent)
            w = min64(w, p->term_at + p->grace_ms - now);
        if (p->exited)
            w = min64(w, p->exited_at + p->grace_ms - now);
        else if (p->term_at < 0 && p->quiet_at >= 0)
            w = min64(w, p->quiet_at + p->grace_ms - now);
    } else if (p->nfl) {
        /* its exit may go unseen while a grandchild holds stdout */
        w = HOOK_TICK_MS;
        for (size_t i = 0; i < p->nfl; i++)
            if (p->fl[i].timeout_ms)
                w = min64(w, p->fl[i].sent_ms + p->fl[i].timeout_ms - now);
    }
    if (w < 0)
        w = 0;
    *wake = min64(*wake, w);
    return k;
}

void
hookproc_service_io(hookproc *p, int slot, int64_t now, int *raised)
{
    if (!p->pid)
        return;
    if (slot == 0)
        write_requests(p, now, raised);
    else if (slot == 1)
        read_out(p, now);
    else
        read_err(p);
}

/* ------------------------------------------------------------ the API */

int
hookproc_new(const hookproc_spec *spec, hookproc **out, osm_err *err)
{
    hookproc *p;
    size_t n = 0;

    if (!spec->command)
        return osm_fail(err, OSM_ESOFTWARE,
                        "cannot set up persistent hook: no command");
    p = xcalloc(1, sizeof *p);
    p->command = xstrdup(spec->command);
    p->cwd = spec->cwd ? xstrdup(spec->cwd) : NULL;
    while (spec->env && spec->env[n])
        n++;
    p->env = xcalloc(n + 1, sizeof *p->env);
    for (size_t i = 0; i < n; i++)
        p->env[i] = xstrdup(spec->env[i]);
    p->max_line = spec->max_line ? spec->max_line : HOOKPROC_MAX_LINE_DEFAULT;
    p->grace_ms = spec->grace_ms > 0 ? spec->grace_ms : HOOK_GRACE_MS_DEFAULT;
    p->in_fd = p->out_fd = p->err_fd = -1;
    p->term_at = p->quiet_at = -1;
    hook_errcap_init(&p->err, 0, HOOKPROC_STDERR_KEPT);
    *out = p;
    return 0;
}

/* When a process being stopped should be gone, and the back-off past. */
static int64_t
restart_estimate(const hookproc *p, int64_t now)
{
    int64_t end = now, next;

    if (p->term_at >= 0)
        end = p->term_at + p->grace_ms;
    else if (p->exited)
        end = p->exited_at + p->grace_ms;
    else if (p->quiet_at >= 0)
        end = p->quiet_at + 2 * p->grace_ms;
    next = p->backoff_ms ? min64(2 * p->backoff_ms, HOOKPROC_BACKOFF_MAX_MS)
                         : HOOKPROC_BACKOFF_FIRST_MS;
    return (end > now ? end : now) + next;
}

int
hookproc_send(hookproc *p, int64_t tag, const char *line, size_t len,
              int64_t timeout_ms, int64_t *retry_at, osm_err *err)
{
    int64_t now = clock_monotonic_ms();
    hook_pipe_guard g;
    int raised = 0, rc;

    if (memchr(line, '\n', len))
        return osm_fail(err, OSM_EDATA,
                        "persistent hook request holds a newline");
    if (p->pid)
        hookproc_service_tick(p, now);      /* may finish a stopped one */
    if (p->pid && p->stopping) {
        *retry_at = restart_estimate(p, now);
        return OSM_ETEMPFAIL;
    }
    if (!p->pid) {
        if (now < p->retry_at) {
            *retry_at = p->retry_at;
            return OSM_ETEMPFAIL;
        }
        if ((rc = start(p, now, err)) != 0)
            return rc;
    }
    if (p->nfl == p->fl_cap) {
        p->fl_cap = p->fl_cap ? 2 * p->fl_cap : 8;
        p->fl = xrealloc(p->fl, p->fl_cap * sizeof *p->fl);
    }
    p->fl[p->nfl].tag = tag;
    p->fl[p->nfl].sent_ms = now;
    p->fl[p->nfl].timeout_ms = timeout_ms > 0 ? timeout_ms : 0;
    p->fl[p->nfl].timed_out = 0;
    p->nfl++;
    sb_add(&p->wbuf, line, len);
    sb_add(&p->wbuf, "\n", 1);
    hook_guard_on(&g);
    write_requests(p, now, &raised);
    hook_guard_off(&g, raised);
    return 0;
}

size_t
hookproc_inflight(const hookproc *p)
{
    return p->nfl;
}

int
hookproc_take(hookproc *p, hookproc_answer *a)
{
    if (p->ready_head == p->ready_len) {
        memset(a, 0, sizeof *a);
        return 0;
    }
    *a = p->ready[p->ready_head++];
    if (p->ready_head == p->ready_len)
        p->ready_head = p->ready_len = 0;
    return 1;
}

void
hookproc_answer_free(hookproc_answer *a)
{
    free(a->line);
    free(a->error);
    free(a->err_excerpt);
    memset(a, 0, sizeof *a);
}

pid_t
hookproc_pid(const hookproc *p)
{
    return p->pid;
}

void
hookproc_free(hookproc *p)
{
    if (!p)
        return;
    if (p->pid) {
        int64_t deadline;

        /* nobody listens any more: a writer gets EPIPE, not a full pipe */
        drop_input(p);
        hook_close_fd(&p->out_fd);
        hook_close_fd(&p->err_fd);
        if (p->term_at < 0) {
            group_signal(p, SIGTERM);
            p->term_at = clock_monotonic_ms();
        }
        deadline = p->term_at + p->grace_ms;
        for (;;) {
            struct timespec ts = { 0, 10 * 1000 * 1000 };

            check_child(p, clock_monotonic_ms());
            if (p->exited || clock_monotonic_ms() >= deadline)
                break;
            nanosleep(&ts, NULL);
        }
        group_signal(p, SIGKILL);
        p->kill_sent = 1;
        if (!p->reaped) {
            int st;
            hook_child_reap(p->pid, &st);
        }
    }
    for (size_t i = p->ready_head; i < p->ready_len; i++)
        hookproc_answer_free(&p->ready[i]);
    for (size_t i = 0; p->env[i]; i++)
        free(p->env[i]);
    free(p->env);
    free(p->command);
    free(p->cwd);
    sb_free(&p->wbuf);
    sb_free(&p->line);
    hook_errcap_free(&p->err);
    free(p->fl);
    free(p->ready);
    free(p);
}
