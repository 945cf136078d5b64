/*
 * Hooks: spawning "/bin/sh -c COMMAND" in its own process group, feeding
 * its stdin and draining its stdout and stderr without blocking, and
 * ending it (TERM, then KILL after a grace) when it runs too long, prints
 * too much, or leaves a grandchild holding its pipes.  See hook.h for the
 * contract.
 *
 * The child is forked and, before exec, puts itself in a new process
 * group, restores every signal to its default disposition with an empty
 * mask, and closes every descriptor above stderr.  A close-on-exec pipe
 * reports a failure before exec (chdir, exec itself) to the parent, which
 * waits for that pipe to close before hook_start() returns: after that
 * the child is sh, in its own group.
 *
 * The child's exit is noticed with waitid(WNOWAIT), which leaves it a
 * zombie: an unreaped leader keeps its pid, and so its process group id,
 * from being reused, so that kill(-pgid) can never reach a stranger.  It
 * is reaped only when the hook finishes, after the last signal to its
 * group.  No SIGCHLD handler is needed: hook_poll() wakes at least every
 * TICK_MS while a child is alive.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
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
#include "hook.h"
#include "xalloc.h"

#define TICK_MS 50              /* longest wait while a child is alive */
#define IO_CHUNK 65536          /* one read or write */
#define READS_PER_PASS 16       /* reads of one pipe per poll() wake-up */

/* What the child reports through the exec pipe when it cannot exec. */
enum { STAGE_SETUP = 1, STAGE_CHDIR, STAGE_EXEC };
typedef struct exec_report {
    int stage;
    int errnum;
} exec_report;

struct hook {
    pid_t pid;              /* the child, and its process group id */
    int in_fd, out_fd, err_fd;  /* our ends of its pipes; -1 once closed */

    unsigned char *input;   /* a copy of spec->input; NULL once sent */
    size_t input_len, input_off;

    strbuf out;
    size_t max_stdout;

    strbuf err_head;        /* the first head_cap bytes of stderr */
    size_t head_cap;
    char *tail;             /* a ring of the last tail_cap bytes after them */
    size_t tail_cap, tail_len, tail_pos;
    uint64_t err_total;     /* every byte of stderr read */

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

static void
close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
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
    close_fd(&h->in_fd);
    free(h->input);
    h->input = NULL;
    if (h->term_at < 0) {
        group_signal(h, SIGTERM);
        h->term_at = now;
    }
}

/* ------------------------------------------------------------ SIGPIPE */

/*
 * Writes to a hook's stdin run with SIGPIPE blocked; a SIGPIPE they raise
 * stays pending and is consumed before the old mask comes back, unless
 * one was already pending (not ours to take).
 */
typedef struct pipe_guard {
    sigset_t old;
    int pending_before;
} pipe_guard;

static void
guard_on(pipe_guard *g)
{
    sigset_t set, pending;

    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    sigprocmask(SIG_BLOCK, &set, &g->old);
    sigemptyset(&pending);
    sigpending(&pending);
    g->pending_before = sigismember(&pending, SIGPIPE) == 1;
}

static void
guard_off(pipe_guard *g, int raised)
{
    if (raised && !g->pending_before) {
        sigset_t set;
        struct timespec zero = { 0, 0 };

        sigemptyset(&set);
        sigaddset(&set, SIGPIPE);
        while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR)
            ;
    }
    sigprocmask(SIG_SETMASK, &g->old, NULL);
}

/* ---------------------------------------------------------- spawning */

static size_t
name_len(const char *s)
{
    const char *eq = strchr(s, '=');
    return eq ? (size_t)(eq - s) : strlen(s);
}

static int
same_name(const char *a, const char *b)
{
    size_t la = name_len(a);
    return la == name_len(b) && memcmp(a, b, la) == 0;
}

/*
 * The child's environment: ours, less the names extra sets or removes,
 * then extra's "NAME=value" entries (the last of a name wins).  The
 * strings are borrowed; free only the array.
 */
static char **
build_env(char *const *extra)
{
    size_t ne = 0, nx = 0, k = 0;
    char **v;

    while (environ && environ[ne])
        ne++;
    while (extra && extra[nx])
        nx++;
    v = xmalloc((ne + nx + 1) * sizeof *v);
    for (size_t i = 0; i < ne; i++) {
        size_t j;

        if (!strchr(environ[i], '='))
            continue;
        for (j = 0; j < nx && !same_name(environ[i], extra[j]); j++)
            ;
        if (j == nx)
            v[k++] = environ[i];
    }
    for (size_t i = 0; i < nx; i++) {
        size_t j;

        if (!strchr(extra[i], '='))
            continue;
        for (j = i + 1; j < nx && !same_name(extra[i], extra[j]); j++)
            ;
        if (j == nx)
            v[k++] = extra[i];
    }
    v[k] = NULL;
    return v;
}

/* Close every descriptor from 3 up except keep. */
static void
close_others(int keep, long open_max)
{
#ifdef CLOSE_RANGE_CLOEXEC
    if ((keep == 3 || close_range(3, (unsigned)keep - 1, 0) == 0) &&
        close_range((unsigned)keep + 1, ~0U, 0) == 0)
        return;
#endif
    for (long fd = 3; fd < open_max; fd++)
        if (fd != keep)
            close((int)fd);
}

/*
 * In the child, between fork and exec: only async-signal-safe calls.
 * Every descriptor passed is above 2 (see lift_fds), so the dup2s cannot
 * clobber one another.
 */
static _Noreturn void
child(int in_r, int out_w, int err_w, int exec_w, long open_max,
      const char *cwd, char *const argv[], char *const envp[])
{
    struct sigaction sa;
    sigset_t none;
    exec_report r = { STAGE_SETUP, 0 };

    if (setpgid(0, 0) != 0)
        goto fail;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    for (int sig = 1; sig < NSIG; sig++)
        sigaction(sig, &sa, NULL);      /* KILL, STOP, glibc's own: fail */
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (dup2(in_r, 0) < 0 || dup2(out_w, 1) < 0 || dup2(err_w, 2) < 0)
        goto fail;
    close_others(exec_w, open_max);
    if (cwd && chdir(cwd) != 0) {
        r.stage = STAGE_CHDIR;
        goto fail;
    }
    execve("/bin/sh", argv, envp);
    r.stage = STAGE_EXEC;
fail:
    r.errnum = errno;
    if (write(exec_w, &r, sizeof r) < 0) {
        /* nothing left to tell it with */
    }
    _exit(127);
}

/*
 * Move any of the n descriptors that landed on 0-2 (our own stdin,
 * stdout or stderr were closed) above 2, close-on-exec.  Returns 0 or -1
 * (errno set; the descriptors are then all still open, some maybe moved).
 */
static int
lift_fds(int *fds[], size_t n)
{
    int low[8], nlow = 0, rc = 0;

    for (size_t i = 0; i < n; i++) {
        if (*fds[i] >= 0 && *fds[i] <= 2) {
            int fd = fcntl(*fds[i], F_DUPFD_CLOEXEC, 3);
            if (fd < 0) {
                rc = -1;
                break;
            }
            low[nlow++] = *fds[i];
            *fds[i] = fd;
        }
    }
    /* only now: closing earlier would let a later dup land on them */
    for (int i = 0; i < nlow; i++) {
        int e = errno;
        close(low[i]);
        errno = e;
    }
    return rc;
}

static int
set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void
wait_child(hook *h)
{
    int st;
    pid_t r;

    while ((r = waitpid(h->pid, &st, 0)) < 0 && errno == EINTR)
        ;
    h->reaped = 1;
    h->exited = 1;
    if (r == h->pid) {
        h->status_known = 1;
        h->status = st;
    }
}

int
hook_start(const hook_spec *spec, hook **out, osm_err *err)
{
    int p_in[2] = { -1, -1 }, p_out[2] = { -1, -1 };
    int p_err[2] = { -1, -1 }, p_exec[2] = { -1, -1 };
    int *fds[] = { &p_in[0], &p_in[1], &p_out[0], &p_out[1],
                   &p_err[0], &p_err[1], &p_exec[0], &p_exec[1] };
    char *argv[] = { "sh", "-c", (char *)spec->command, NULL };
    char **envp = NULL;
    long open_max;
    int64_t start_ms;
    exec_report r;
    ssize_t got = 0;
    hook *h;
    pid_t pid;
    int rc = 0;

    if (!spec->command)
        return osm_fail(err, OSM_ESOFTWARE, "cannot start hook: no command");
    if (pipe2(p_in, O_CLOEXEC) != 0 || pipe2(p_out, O_CLOEXEC) != 0 ||
        pipe2(p_err, O_CLOEXEC) != 0 || pipe2(p_exec, O_CLOEXEC) != 0 ||
        lift_fds(fds, 8) != 0 || set_nonblock(p_in[1]) != 0 ||
        set_nonblock(p_out[0]) != 0 || set_nonblock(p_err[0]) != 0) {
        rc = osm_fail(err, OSM_EIO, "cannot start hook: pipe: %s",
                      strerror(errno));
        goto fail;
    }
    open_max = sysconf(_SC_OPEN_MAX);
    if (open_max < 0 || open_max > INT_MAX)
        open_max = open_max < 0 ? 1024 : INT_MAX;
    envp = build_env(spec->env);

    start_ms = clock_monotonic_ms();
    pid = fork();
    if (pid < 0) {
        rc = osm_fail(err, OSM_ESOFTWARE, "cannot start hook: fork: %s",
                      strerror(errno));
        goto fail;
    }
    if (pid == 0)
        child(p_in[0], p_out[1], p_err[1], p_exec[1], open_max, spec->cwd,
              argv, envp);
    free(envp);
    envp = NULL;
    close_fd(&p_in[0]);
    close_fd(&p_out[1]);
    close_fd(&p_err[1]);
    close_fd(&p_exec[1]);
    /* EOF when sh is running (close-on-exec), a report when it is not */
    while ((got = read(p_exec[0], &r, sizeof r)) < 0 && errno == EINTR)
        ;
    close_fd(&p_exec[0]);

    h = xcalloc(1, sizeof *h);
    h->start_ms = start_ms;
    h->pid = pid;
    h->in_fd = p_in[1];
    h->out_fd = p_out[0];
    h->err_fd = p_err[0];
    h->max_stdout = spec->max_stdout ? spec->max_stdout
                                     : HOOK_MAX_STDOUT_DEFAULT;
    {
        size_t max_err = spec->max_stderr ? spec->max_stderr
                                          : HOOK_MAX_STDERR_DEFAULT;
        h->head_cap = max_err / 2;
        h->tail_cap = max_err - h->head_cap;
    }
    h->timeout_ms = spec->timeout_ms > 0 ? spec->timeout_ms : 0;
    h->grace_ms = spec->grace_ms > 0 ? spec->grace_ms : HOOK_GRACE_MS_DEFAULT;
    h->term_at = -1;
    h->pipes_closed_at = -1;
    *out = h;

    if (got > 0) {
        int e = got == (ssize_t)sizeof r ? r.errnum : EIO;

        if (got == (ssize_t)sizeof r && r.stage == STAGE_CHDIR)
            h->spawn_error = xasprintf("cannot change to directory \"%s\": %s",
                                       spec->cwd, strerror(e));
        else if (got == (ssize_t)sizeof r && r.stage == STAGE_EXEC)
            h->spawn_error = xasprintf("cannot run /bin/sh: %s", strerror(e));
        else
            h->spawn_error = xasprintf("cannot set up the hook process: %s",
                                       strerror(e));
        close_fd(&h->in_fd);
        close_fd(&h->out_fd);
        close_fd(&h->err_fd);
        wait_child(h);
        h->end_ms = clock_monotonic_ms();
        h->done = 1;
        return 0;
    }
    if (spec->input_len) {
        h->input = xmalloc(spec->input_len);
        memcpy(h->input, spec->input, spec->input_len);
        h->input_len = spec->input_len;
    } else
        close_fd(&h->in_fd);
    return 0;

fail:
    free(envp);
    for (size_t i = 0; i < 8; i++)
        close_fd(fds[i]);
    return rc;
}

/* ------------------------------------------------------------ pipes */

/* Keep stderr's first head_cap bytes and a ring of the last tail_cap. */
static void
err_add(hook *h, const char *p, size_t n)
{
    size_t take = h->head_cap - h->err_head.len;

    h->err_total += n;
    if (take > n)
        take = n;
    sb_add(&h->err_head, p, take);
    p += take;
    n -= take;
    if (n == 0 || h->tail_cap == 0)
        return;
    if (!h->tail)
        h->tail = xmalloc(h->tail_cap);
    if (n >= h->tail_cap) {
        memcpy(h->tail, p + n - h->tail_cap, h->tail_cap);
        h->tail_pos = 0;
        h->tail_len = h->tail_cap;
        return;
    }
    while (n) {
        size_t chunk = h->tail_cap - h->tail_pos;

        if (chunk > n)
            chunk = n;
        memcpy(h->tail + h->tail_pos, p, chunk);
        h->tail_pos = (h->tail_pos + chunk) % h->tail_cap;
        h->tail_len = h->tail_len + chunk < h->tail_cap
                          ? h->tail_len + chunk : h->tail_cap;
        p += chunk;
        n -= chunk;
    }
}

/* The excerpt: head, the cut marker if bytes were dropped, tail in order. */
static char *
err_build(hook *h, size_t *len)
{
    strbuf sb = h->err_head;
    uint64_t kept = sb.len + h->tail_len;

    h->err_head = (strbuf)STRBUF_INIT;
    if (h->err_total > kept)
        sb_addf(&sb, "\n[... %llu bytes cut ...]\n",
                (unsigned long long)(h->err_total - kept));
    if (h->tail_len < h->tail_cap)
        sb_add(&sb, h->tail, h->tail_len);
    else if (h->tail_len) {
        sb_add(&sb, h->tail + h->tail_pos, h->tail_cap - h->tail_pos);
        sb_add(&sb, h->tail, h->tail_pos);
    }
    return sb_detach(&sb, len);
}

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
    char buf[IO_CHUNK];

    for (int i = 0; i < READS_PER_PASS && *fd >= 0; i++) {
        ssize_t n = read(*fd, buf, sizeof buf);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0) {
            close_fd(fd);           /* EOF, or an error: nothing more */
            break;
        }
        if (is_err) {
            err_add(h, buf, (size_t)n);
            continue;
        }
        if ((size_t)n > h->max_stdout - h->out.len) {
            /* too much: keep the cap's worth, stop listening, end it */
            sb_add(&h->out, buf, h->max_stdout - h->out.len);
            h->overflow = 1;
            close_fd(fd);
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
                          n < IO_CHUNK ? n : IO_CHUNK);

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
    close_fd(&h->in_fd);
    free(h->input);
    h->input = NULL;
}

/* ------------------------------------------------------------ polling */

/* Has the child ended?  Look without reaping it (see the top). */
static void
check_child(hook *h, int64_t now)
{
    siginfo_t si;

    if (h->exited)
        return;
    memset(&si, 0, sizeof si);
    if (waitid(P_PID, (id_t)h->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0) {
        if (si.si_pid != h->pid)
            return;
    } else if (errno != ECHILD)
        return;
    else
        h->reaped = 1;      /* someone else waited for it: status lost */
    h->exited = 1;
    h->exited_at = now;
    close_fd(&h->in_fd);
    free(h->input);
    h->input = NULL;
}

static void
finish(hook *h, int64_t now)
{
    close_fd(&h->in_fd);
    close_fd(&h->out_fd);
    close_fd(&h->err_fd);
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
        close_fd(&h->out_fd);
        close_fd(&h->err_fd);
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
        w = TICK_MS;
        if (h->pipes_closed_at >= 0)
            w = min64(TICK_MS, (now - h->pipes_closed_at) / 4 + 1);
        if (h->timeout_ms && h->term_at < 0)
            w = min64(w, h->start_ms + h->timeout_ms - now);
    } else
        w = min64(w, h->exited_at + h->grace_ms - now);
    if (h->term_at >= 0 && !h->kill_sent)
        w = min64(w, h->term_at + h->grace_ms - now);
    return w < 0 ? 0 : w;
}

int
hook_poll(hook **hooks, size_t n, int64_t timeout_ms)
{
    int64_t t0 = clock_monotonic_ms();
    struct pollfd *pfd;
    size_t *owner, live = 0;
    int finished = 0;

    for (size_t i = 0; i < n; i++)
        live += hooks[i] != NULL;
    if (live == 0)
        return 0;
    pfd = xmalloc(3 * n * sizeof *pfd);
    owner = xmalloc(3 * n * sizeof *owner);

    for (int pass = 0;; pass++) {
        int64_t now = clock_monotonic_ms(), wait;
        nfds_t nfds = 0;
        int raised = 0, writes = 0;
        pipe_guard g;

        finished = 0;
        for (size_t i = 0; i < n; i++) {
            if (!hooks[i])
                continue;
            tick(hooks[i], now);
            finished += hooks[i]->done;
        }
        if (finished)
            break;
        wait = timeout_ms < 0 ? INT64_MAX : t0 + timeout_ms - now;
        if (pass > 0 && wait <= 0)
            break;
        for (size_t i = 0; i < n; i++) {
            hook *h = hooks[i];
            int fds[3];

            if (!h)
                continue;
            wait = min64(wait, next_wake(h, now));
            fds[0] = h->in_fd;
            fds[1] = h->out_fd;
            fds[2] = h->err_fd;
            for (int k = 0; k < 3; k++) {
                if (fds[k] < 0)
                    continue;
                pfd[nfds].fd = fds[k];
                pfd[nfds].events = k == 0 ? POLLOUT : POLLIN;
                pfd[nfds].revents = 0;
                owner[nfds++] = i * 3 + (size_t)k;
            }
        }
        if (wait < 0)
            wait = 0;
        if (poll(pfd, nfds, wait > INT_MAX ? INT_MAX : (int)wait) <= 0)
            continue;       /* timeout, EINTR: tick() again */
        for (nfds_t j = 0; j < nfds; j++)
            writes += pfd[j].revents && owner[j] % 3 == 0;
        if (writes)
            guard_on(&g);
        now = clock_monotonic_ms();
        for (nfds_t j = 0; j < nfds; j++) {
            hook *h = hooks[owner[j] / 3];

            if (!pfd[j].revents)
                continue;
            switch (owner[j] % 3) {
            case 0:
                write_input(h, &raised);
                break;
            case 1:
                read_pipe(h, 0, now);
                break;
            default:
                read_pipe(h, 1, now);
                break;
            }
        }
        if (writes)
            guard_off(&g, raised);
    }
    free(pfd);
    free(owner);
    return finished;
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
    close_fd(&h->in_fd);
    close_fd(&h->out_fd);
    close_fd(&h->err_fd);
    free(h->input);
    sb_free(&h->out);
    sb_free(&h->err_head);
    free(h->tail);
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
    res->err = err_build(h, &res->err_len);
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
        close_fd(&h->out_fd);
        close_fd(&h->err_fd);
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
