/*
 * Hooks: running a command in its own process group (started by
 * hook-spawn.c), feeding its stdin and draining its stdout and stderr
 * without blocking, and ending it (TERM, then KILL after a grace) when it
 * runs too long, prints too much, or leaves a grandchild holding its
 * pipes; and hook_poll_all(), the one poll(2) loop that drives one-shot
 * hooks and persistent hook processes together.  See hook.h and
 * hookproc.h for the contracts.
 *
 * The child's exit is noticed with waitid(WNOWAIT), which leaves it a
 * zombie: an unreaped leader keeps its pid, and so its process group id,
 * from being reused, so that kill(-pgid) can never reach a stranger.  It
 * is reaped only when the hook finishes, after the last signal to its
 * group.  No SIGCHLD handler is needed: hook_poll() wakes at least every
 * HOOK_TICK_MS while a child is alive.  The signal reported is the one
 * that ended the child (WTERMSIG), whoever sent it: KILL after an
 * ignored TERM is 9.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "diag.h"
#include "hook-int.h"
#include "hook.h"
#include "hookproc.h"
#include "xalloc.h"

struct hook {
    pid_t pid;              /* the child, and its process group id */
    int in_fd, out_fd, err_fd;  /* our ends of its pipes; -1 once closed */
    int pid_fd;             /* pidfd_open(2) of the child: readable when it
                               ends, so its end is seen at once; -1 if none */

    unsigned char *input;   /* a copy of spec->input; NULL once sent */
    size_t input_len, input_off;

    strbuf out;
    size_t max_stdout;

    hook_errcap err;        /* stderr: head and tail */

    int64_t timeout_ms, grace_ms;
    int64_t start_ms, end_ms;
    int64_t term_at;        /* when the group got TERM; -1: not yet */
    int64_t exited_at;      /* when the child was seen to end */
    int64_t pipes_closed_at;/* when stdout and stderr both closed; -1 */
    int kill_sent;
    int timed_out, overflow;
    int exited;             /* the child has ended (a zombie until reaped) */
    int reaped;             /* waited for: its pid is no longer ours */
    int status_known, status;
    int done;
    char *spawn_error;
};

static int64_t
min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* Signal the hook's process group, only while its leader is unreaped. */
static void
group_signal(hook *h, int sig)
{
    if (!h->reaped)
        kill(-h->pid, sig);
}

/* TERM the group (once) and stop feeding it; KILL follows after grace. */
static void
begin_kill(hook *h, int64_t now)
{
    hook_close_fd(&h->in_fd);
    free(h->input);
    h->input = NULL;
    if (h->term_at < 0) {
        group_signal(h, SIGTERM);
        h->term_at = now;
    }
}

/* ---------------------------------------------------------- starting */

/* Reap the child (blocking); its pid is no longer ours after this. */
static void
wait_child(hook *h)
{
    h->status_known = hook_child_reap(h->pid, &h->status);
    h->reaped = 1;
    h->exited = 1;
}

int
hook_start(const hook_spec *spec, hook **out, osm_err *err)
{
    hook_child c;
    size_t max_err;
    hook *h;
    int rc;

    if (!spec->command)
        return osm_fail(err, OSM_ESOFTWARE, "cannot start hook: no command");
    if ((rc = hook_spawn(spec->command, spec->cwd, spec->env, &c, err)) != 0)
        return rc;

    h = xcalloc(1, sizeof *h);
    h->start_ms = c.start_ms;
    h->pid = c.pid;
    h->in_fd = c.in_fd;
    h->out_fd = c.out_fd;
    h->err_fd = c.err_fd;
    h->max_stdout = spec->max_stdout ? spec->max_stdout
                                     : HOOK_MAX_STDOUT_DEFAULT;
    max_err = spec->max_stderr ? spec->max_stderr : HOOK_MAX_STDERR_DEFAULT;
    hook_errcap_init(&h->err, max_err / 2, max_err - max_err / 2);
    h->timeout_ms = spec->timeout_ms > 0 ? spec->timeout_ms : 0;
    h->grace_ms = spec->grace_ms > 0 ? spec->grace_ms : HOOK_GRACE_MS_DEFAULT;
    h->term_at = -1;
    h->pipes_closed_at = -1;
#ifdef SYS_pidfd_open
    h->pid_fd = c.spawn_error ? -1 : (int)syscall(SYS_pidfd_open, c.pid, 0);
#else
    h->pid_fd = -1;
#endif
    *out = h;

    if (c.spawn_error) {
        /* hook_spawn() reaped it */
        h->spawn_error = c.spawn_error;
        h->reaped = h->exited = 1;
        h->end_ms = clock_monotonic_ms();
        h->done = 1;
        return 0;
    }
    if (c.exec_note) {
        /* what sh would have printed before its exit 127 or 126 */
        hook_errcap_add(&h->err, c.exec_note, strlen(c.exec_note));
        hook_errcap_add(&h->err, "\n", 1);
        free(c.exec_note);
    }
    if (spec->input_len) {
        h->input = xmalloc(spec->input_len);
        memcpy(h->input, spec->input, spec->input_len);
        h->input_len = spec->input_len;
    } else
        hook_close_fd(&h->in_fd);
    return 0;
}

/* ------------------------------------------------------------ pipes */

static void
note_pipes(hook *h, int64_t now)
{
    if (h->out_fd < 0 && h->err_fd < 0 && h->pipes_closed_at < 0)
        h->pipes_closed_at = now;
}

/* Drain stdout or stderr as far as it goes now (a bounded number of reads). */
static void
read_pipe(hook *h, int is_err, int64_t now)
{
    int *fd = is_err ? &h->err_fd : &h->out_fd;
    char buf[HOOK_IO_CHUNK];

    for (int i = 0; i < HOOK_READS_PER_PASS && *fd >= 0; i++) {
        ssize_t n = read(*fd, buf, sizeof buf);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0) {
            hook_close_fd(fd);      /* EOF, or an error: nothing more */
            break;
        }
        if (is_err) {
            hook_errcap_add(&h->err, buf, (size_t)n);
            continue;
        }
        if ((size_t)n > h->max_stdout - h->out.len) {
            /* too much: keep the cap's worth, stop listening, end it */
            sb_add(&h->out, buf, h->max_stdout - h->out.len);
            h->overflow = 1;
            hook_close_fd(fd);
            begin_kill(h, now);
            break;
        }
        sb_add(&h->out, buf, (size_t)n);
    }
    note_pipes(h, now);
}

/* Feed stdin as far as the pipe takes it; sets *raised on EPIPE. */
static void
write_input(hook *h, int *raised)
{
    while (h->in_fd >= 0 && h->input_off < h->input_len) {
        size_t n = h->input_len - h->input_off;
        ssize_t w = write(h->in_fd, h->input + h->input_off,
                          n < HOOK_IO_CHUNK ? n : HOOK_IO_CHUNK);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (w < 0) {
            /* EPIPE: the hook did not want (all of) its input; fine */
            if (errno == EPIPE)
                *raised = 1;
            break;
        }
        h->input_off += (size_t)w;
    }
    hook_close_fd(&h->in_fd);
    free(h->input);
    h->input = NULL;
}

/* ------------------------------------------------------------ polling */

/* Has the child ended?  Look without reaping it (see the top). */
static void
check_child(hook *h, int64_t now)
{
    int ended;

    if (h->exited || (ended = hook_child_ended(h->pid)) == 0)
        return;
    if (ended < 0)
        h->reaped = 1;      /* someone else waited for it: status lost */
    h->exited = 1;
    h->exited_at = now;
    hook_close_fd(&h->in_fd);
    free(h->input);
    h->input = NULL;
}

static void
finish(hook *h, int64_t now)
{
    hook_close_fd(&h->in_fd);
    hook_close_fd(&h->out_fd);
    hook_close_fd(&h->err_fd);
    /* a group we set out to kill is killed, whatever is left of it */
    if (h->term_at >= 0 && !h->kill_sent) {
        group_signal(h, SIGKILL);
        h->kill_sent = 1;
    }
    if (!h->reaped)
        wait_child(h);
    h->end_ms = now;
    h->done = 1;
}

/* Timers, the child's state, and finishing. */
static void
tick(hook *h, int64_t now)
{
    if (h->done)
        return;
    check_child(h, now);
    if (!h->exited && h->timeout_ms && h->term_at < 0 &&
        now - h->start_ms >= h->timeout_ms) {
        h->timed_out = 1;
        begin_kill(h, now);
    }
    if (h->term_at >= 0 && !h->kill_sent &&
        now - h->term_at >= h->grace_ms) {
        group_signal(h, SIGKILL);
        h->kill_sent = 1;
    }
    /* the child is gone but something it left holds the pipes */
    if (h->exited && (h->out_fd >= 0 || h->err_fd >= 0) &&
        now - h->exited_at >= h->grace_ms) {
        group_signal(h, SIGKILL);
        h->kill_sent = 1;
        hook_close_fd(&h->out_fd);
        hook_close_fd(&h->err_fd);
    }
    if (h->exited && h->out_fd < 0 && h->err_fd < 0)
        finish(h, now);
}

/* Milliseconds until h next needs tick(). */
static int64_t
next_wake(const hook *h, int64_t now)
{
    int64_t w = INT64_MAX;

    if (!h->exited) {
        /* the child usually ends just after its pipes close: look soon */
        w = HOOK_TICK_MS;
        if (h->pipes_closed_at >= 0)
            w = min64(HOOK_TICK_MS, (now - h->pipes_closed_at) / 4 + 1);
        if (h->timeout_ms && h->term_at < 0)
            w = min64(w, h->start_ms + h->timeout_ms - now);
    } else
        w = min64(w, h->exited_at + h->grace_ms - now);
    if (h->term_at >= 0 && !h->kill_sent)
        w = min64(w, h->term_at + h->grace_ms - now);
    return w < 0 ? 0 : w;
}

/* Service one descriptor of a one-shot hook (slot 0 stdin, 1, 2). */
static void
hook_io(hook *h, int slot, int64_t now, int *raised)
{
    if (slot == 0)
        write_input(h, raised);
    else
        read_pipe(h, slot == 2, now);
}

int
hook_poll_all(hook **hooks, size_t nh, hookproc **procs, size_t np,
              int64_t timeout_ms)
{
    int64_t t0 = clock_monotonic_ms();
    struct pollfd *pfd = NULL;
    size_t *owner = NULL;
    int ready = 0;

    if (nh + np == 0)
        return 0;
    for (int pass = 0;; pass++) {
        int64_t now = clock_monotonic_ms(), wait;
        size_t live = 0;
        nfds_t nfds = 0;
        int raised = 0, writes = 0;
        hook_pipe_guard g;

        ready = 0;
        for (size_t i = 0; i < nh; i++) {
            if (!hooks[i])
                continue;
            tick(hooks[i], now);
            ready += hooks[i]->done;
            live++;
        }
        for (size_t i = 0; i < np; i++) {
            if (!procs[i])
                continue;
            ready += hookproc_service_tick(procs[i], now);
            live += hookproc_service_live(procs[i]);
        }
        if (ready)
            break;
        wait = timeout_ms < 0 ? INT64_MAX : t0 + timeout_ms - now;
        /*
         * Nothing could finish: do not wait for it, but do read what idle
         * processes write (one pass without waiting).
         */
        if (!live)
            wait = 0;
        if (pass > 0 && wait <= 0)
            break;
        if (!pfd) {
            pfd = xmalloc(4 * (nh + np) * sizeof *pfd);
            owner = xmalloc(4 * (nh + np) * sizeof *owner);
        }
        for (size_t i = 0; i < nh; i++) {
            hook *h = hooks[i];
            int fds[4];

            if (!h)
                continue;
            wait = min64(wait, next_wake(h, now));
            fds[0] = h->in_fd;
            fds[1] = h->out_fd;
            fds[2] = h->err_fd;
            /* its end, once its pipes are closed: no need to look every tick */
            fds[3] = !h->exited && h->pipes_closed_at >= 0 ? h->pid_fd : -1;
            for (int k = 0; k < 4; k++) {
                if (fds[k] < 0)
                    continue;
                pfd[nfds].fd = fds[k];
                pfd[nfds].events = k == 0 ? POLLOUT : POLLIN;
                pfd[nfds].revents = 0;
                owner[nfds++] = i * 4 + (size_t)k;
            }
        }
        for (size_t i = 0; i < np; i++) {
            int slot[3];
            size_t k;

            if (!procs[i])
                continue;
            k = hookproc_service_fds(procs[i], pfd + nfds, slot, now, &wait);
            for (size_t m = 0; m < k; m++)
                owner[nfds + m] = (nh + i) * 4 + (size_t)slot[m];
            nfds += (nfds_t)k;
        }
        if (wait < 0)
            wait = 0;
        if (poll(pfd, nfds, wait > INT_MAX ? INT_MAX : (int)wait) <= 0)
            continue;       /* timeout, EINTR: tick() again */
        for (nfds_t j = 0; j < nfds; j++)
            writes += pfd[j].revents && owner[j] % 4 == 0;
        if (writes)
            hook_guard_on(&g);
        now = clock_monotonic_ms();
        for (nfds_t j = 0; j < nfds; j++) {
            size_t who = owner[j] / 4;
            int slot = (int)(owner[j] % 4);

            if (!pfd[j].revents || slot == 3)
                continue;   /* a child's end: the next tick() sees it */
            if (who < nh)
                hook_io(hooks[who], slot, now, &raised);
            else
                hookproc_service_io(procs[who - nh], slot, now, &raised);
        }
        if (writes)
            hook_guard_off(&g, raised);
    }
    free(pfd);
    free(owner);
    return ready;
}

int
hook_poll(hook **hooks, size_t n, int64_t timeout_ms)
{
    return hook_poll_all(hooks, n, NULL, 0, timeout_ms);
}

int
hook_finished(const hook *h)
{
    return h->done;
}

/* ------------------------------------------------------------ results */

static void
hook_free(hook *h)
{
    hook_close_fd(&h->pid_fd);
    hook_close_fd(&h->in_fd);
    hook_close_fd(&h->out_fd);
    hook_close_fd(&h->err_fd);
    free(h->input);
    sb_free(&h->out);
    hook_errcap_free(&h->err);
    free(h->spawn_error);
    free(h);
}

/* End a hook now: KILL its group, stop listening, reap. */
static void
force_finish(hook *h)
{
    if (h->done)
        return;
    group_signal(h, SIGKILL);
    h->kill_sent = 1;
    finish(h, clock_monotonic_ms());
}

void
hook_collect(hook *h, hook_result *res)
{
    memset(res, 0, sizeof *res);
    force_finish(h);
    res->duration_ms = h->end_ms - h->start_ms;
    if (h->spawn_error) {
        res->spawn_error = h->spawn_error;
        h->spawn_error = NULL;
        hook_free(h);
        return;
    }
    if (h->status_known && WIFEXITED(h->status)) {
        res->exited = 1;
        res->exit_status = WEXITSTATUS(h->status);
    } else if (h->status_known && WIFSIGNALED(h->status))
        res->signal = WTERMSIG(h->status);
    res->timed_out = h->timed_out;
    res->stdout_overflow = h->overflow;
    res->out = sb_detach(&h->out, &res->out_len);
    res->err = hook_errcap_build(&h->err, &res->err_len);
    hook_free(h);
}

void
hook_abort(hook *h)
{
    if (!h)
        return;
    if (!h->done) {
        int64_t deadline;

        /* nobody listens any more: a writer gets EPIPE, not a full pipe */
        hook_close_fd(&h->out_fd);
        hook_close_fd(&h->err_fd);
        begin_kill(h, clock_monotonic_ms());
        deadline = h->term_at + h->grace_ms;
        for (;;) {
            struct timespec ts = { 0, 10 * 1000 * 1000 };

            check_child(h, clock_monotonic_ms());
            if (h->exited || clock_monotonic_ms() >= deadline)
                break;
            nanosleep(&ts, NULL);
        }
        force_finish(h);
    }
    hook_free(h);
}

void
hook_result_free(hook_result *res)
{
    free(res->out);
    free(res->err);
    free(res->spawn_error);
    memset(res, 0, sizeof *res);
}

int
hook_run(const hook_spec *spec, hook_result *res, osm_err *err)
{
    hook *h;
    int rc;

    memset(res, 0, sizeof *res);
    if ((rc = hook_start(spec, &h, err)) != 0)
        return rc;
    while (!hook_finished(h))
        hook_poll(&h, 1, -1);
    hook_collect(h, res);
    return 0;
}
