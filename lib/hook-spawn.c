/*
 * Starting a hook's child, for one-shot hooks and persistent processes
 * alike, and the small pieces both use on its pipes (see hook-int.h).
 *
 * A command with no shell syntax (hook_needs_shell()) is split on blanks
 * and executed directly, the program found as execvp(3) and sh find it:
 * along the hook's PATH when the word has no '/', else as a path from the
 * hook's directory.  Anything else is "/bin/sh -c COMMAND".  A program
 * that cannot be found or executed makes the child exit 127 or 126, as
 * sh would, with the reason on its stderr; a program without "#!" that
 * the kernel refuses (ENOEXEC) is run by /bin/sh, as execvp and sh do.
 *
 * The child is vforked and, before exec, puts itself in a new process
 * group, restores every signal to its default disposition with an empty
 * mask, and closes every descriptor above stderr.  A close-on-exec pipe
 * reports a failure before exec (chdir, exec itself) to the parent, which
 * waits for that pipe to close before hook_spawn() returns: after that
 * the child is the program, in its own group.  Everything the child
 * needs (argv, the environment, room for each PATH candidate) is built
 * before vfork: between vfork and exec only async-signal-safe calls,
 * which write nothing of the parent's but errno.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "diag.h"
#include "hook-int.h"
#include "hook.h"
#include "xalloc.h"

/* sh's own search path when PATH is unset (dash's default) */
#define DEFAULT_PATH \
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* What the child reports through the exec pipe when it cannot exec. */
enum { STAGE_SETUP = 1, STAGE_CHDIR, STAGE_EXEC, STAGE_PROGRAM };
typedef struct exec_report {
    int stage;
    int errnum;
} exec_report;

/* ---------------------------------------------------- shell or not */

/*
 * Characters that make a command shell syntax wherever they are: sh's
 * operators, quoting, expansions, globbing, comments, tildes, braces,
 * "!" and newline.
 */
static const char shell_chars[] = "|&;<>()$`\\\"'*?[]#~{}!\n";

/*
 * First words sh does not simply look up in PATH: reserved words, and
 * builtins (some also exist as programs, which may behave differently:
 * echo, kill, pwd, printf, test).
 */
static const char *const shell_words[] = {
    "case", "do", "done", "elif", "else", "esac", "fi", "for", "function",
    "if", "in", "select", "then", "time", "until", "while",
    ".", ":", "alias", "bg", "break", "builtin", "cd", "chdir", "command",
    "continue", "declare", "echo", "eval", "exec", "exit", "export",
    "false", "fc", "fg", "getopts", "hash", "jobs", "kill", "let", "local",
    "printf", "pwd", "read", "readonly", "return", "set", "shift",
    "source", "test", "times", "trap", "true", "type", "typeset", "ulimit",
    "umask", "unalias", "unset", "wait",
};

static int
is_blank(char c)
{
    return c == ' ' || c == '\t';
}

int
hook_needs_shell(const char *command)
{
    const char *w, *e;

    if (strpbrk(command, shell_chars))
        return 1;
    for (w = command; is_blank(*w); w++)
        ;
    if (!*w)
        return 1;           /* nothing to run: sh makes that exit 0 */
    for (e = w; *e && !is_blank(*e); e++)
        if (*e == '=')
            return 1;       /* NAME=value: an assignment */
    for (size_t i = 0; i < sizeof shell_words / sizeof shell_words[0]; i++)
        if (strlen(shell_words[i]) == (size_t)(e - w) &&
            memcmp(shell_words[i], w, (size_t)(e - w)) == 0)
            return 1;
    return 0;
}

/*
 * How the child runs the command, all built before fork.  argv[0] is a
 * spare slot (for "sh" when a program turns out to need /bin/sh), the
 * command is argv[1..]; for sh, argv[1..] is sh -c COMMAND.
 */
typedef struct exec_plan {
    int direct;
    char **argv;
    char *words;            /* direct: the command, split in place */
    const char *path;       /* direct: PATH to search; NULL: argv[1] has '/' */
    char *cand;             /* direct: room for the longest candidate */
    char *const *envp;
} exec_plan;

static void
plan_build(exec_plan *x, const char *command, char *const *envp)
{
    size_t n = 0, k = 1;
    char *s;

    memset(x, 0, sizeof *x);
    x->envp = envp;
    if (hook_needs_shell(command)) {
        x->argv = xcalloc(5, sizeof *x->argv);
        x->argv[1] = "sh";
        x->argv[2] = "-c";
        x->argv[3] = (char *)command;
        return;
    }
    x->direct = 1;
    x->words = xstrdup(command);
    for (s = x->words; *s; s++)
        n += !is_blank(*s) && (s == x->words || is_blank(s[-1]));
    x->argv = xcalloc(n + 2, sizeof *x->argv);
    for (s = x->words; *s;) {
        while (is_blank(*s))
            *s++ = '\0';
        if (!*s)
            break;
        x->argv[k++] = s;
        while (*s && !is_blank(*s))
            s++;
    }
    if (!strchr(x->argv[1], '/')) {
        for (size_t i = 0; envp[i]; i++)
            if (strncmp(envp[i], "PATH=", 5) == 0)
                x->path = envp[i] + 5;
        if (!x->path)
            x->path = DEFAULT_PATH;
        x->cand = xmalloc(strlen(x->path) + strlen(x->argv[1]) + 2);
    }
}

static void
plan_free(exec_plan *x)
{
    free(x->argv);
    free(x->words);
    free(x->cand);
}

/*
 * In the child: execve file; a file the kernel cannot run by itself
 * (no "#!") goes to /bin/sh as a script.  Returns only on failure, with
 * errno set (ENOEXEC when /bin/sh could not be run either).
 */
static void
try_exec(const exec_plan *x, const char *file)
{
    char *word;

    execve(file, x->argv + 1, x->envp);
    if (errno != ENOEXEC)
        return;
    word = x->argv[1];
    x->argv[0] = "sh";
    x->argv[1] = (char *)file;
    execve("/bin/sh", x->argv, x->envp);
    x->argv[1] = word;
    errno = ENOEXEC;
}

/*
 * In the child: find and run the program as execvp does.  Returns only
 * on failure, with the errno that decides the exit status: ENOENT (or
 * ENOTDIR) when no candidate exists, EACCES when one existed but could
 * not be executed, else the error that stopped the search.
 */
static int
exec_direct(const exec_plan *x)
{
    const char *prog = x->argv[1], *p = x->path;
    size_t plen = 0;
    int eacces = 0;

    if (!p) {
        try_exec(x, prog);
        return errno;
    }
    while (prog[plen])
        plen++;
    for (;;) {
        const char *end = p;
        size_t dl;

        while (*end && *end != ':')
            end++;
        dl = (size_t)(end - p);
        /* an empty entry is the current directory */
        memcpy(x->cand, p, dl);
        if (dl)
            x->cand[dl++] = '/';
        memcpy(x->cand + dl, prog, plen + 1);
        try_exec(x, x->cand);
        switch (errno) {
        case EACCES:
            eacces = 1;
            break;
        case ENOENT:
        case ENOTDIR:
        case ESTALE:
        case ENODEV:
        case ETIMEDOUT:
            break;
        default:
            return errno;
        }
        if (!*end)
            break;
        p = end + 1;
    }
    return eacces ? EACCES : ENOENT;
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
      const char *cwd, const exec_plan *x)
{
    struct sigaction sa;
    sigset_t none;
    exec_report r = { STAGE_SETUP, 0 };
    int status = 127;

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
    if (x->direct) {
        r.stage = STAGE_PROGRAM;
        errno = exec_direct(x);
        /* as sh: 127 when there is no such program, 126 otherwise */
        if (errno != ENOENT && errno != ENOTDIR)
            status = 126;
    } else {
        execve("/bin/sh", x->argv + 1, x->envp);
        r.stage = STAGE_EXEC;
    }
fail:
    r.errnum = errno;
    if (write(exec_w, &r, sizeof r) < 0) {
        /* nothing left to tell it with */
    }
    _exit(status);
}

/*
 * vfork and run child() in the child: alone in a function of its own, so
 * that nothing of the caller's lives in registers across the vfork.
 */
static pid_t __attribute__((noinline))
vfork_child(int in_r, int out_w, int err_w, int exec_w, long open_max, const char *cwd,
            const exec_plan *x)
{
    pid_t pid = vfork();
    if (pid == 0)
        child(in_r, out_w, err_w, exec_w, open_max, cwd, x);
    return pid;
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

void
hook_close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

int
hook_spawn(const char *command, const char *cwd, char *const *env,
           hook_child *c, osm_err *err)
{
    int p_in[2] = { -1, -1 }, p_out[2] = { -1, -1 };
    int p_err[2] = { -1, -1 }, p_exec[2] = { -1, -1 };
    int *fds[] = { &p_in[0], &p_in[1], &p_out[0], &p_out[1],
                   &p_err[0], &p_err[1], &p_exec[0], &p_exec[1] };
    char **envp = NULL;
    exec_plan x;
    long open_max;
    int64_t start_ms;
    exec_report r;
    ssize_t got = 0;
    pid_t pid;
    int rc = 0;

    memset(&x, 0, sizeof x);
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
    envp = build_env(env);
    plan_build(&x, command, envp);

    start_ms = clock_monotonic_ms();
    /*
     * vfork, as posix_spawn does: the child borrows our memory until it
     * execs, so starting a hook does not copy the page tables of a
     * worker whose store cache has grown.  Every signal is blocked
     * around it, so that no handler of ours runs in the child before it
     * has reset them all.
     */
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, &old);
    pid = vfork_child(p_in[0], p_out[1], p_err[1], p_exec[1], open_max, cwd, &x);
    int fork_errno = errno;
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (pid < 0) {
        rc = osm_fail(err, OSM_ESOFTWARE, "cannot start hook: fork: %s",
                      strerror(fork_errno));
        goto fail;
    }
    hook_close_fd(&p_in[0]);
    hook_close_fd(&p_out[1]);
    hook_close_fd(&p_err[1]);
    hook_close_fd(&p_exec[1]);
    /* EOF when the program is running (close-on-exec), else a report */
    while ((got = read(p_exec[0], &r, sizeof r)) < 0 && errno == EINTR)
        ;
    hook_close_fd(&p_exec[0]);

    memset(c, 0, sizeof *c);
    c->pid = pid;
    c->start_ms = start_ms;
    c->in_fd = p_in[1];
    c->out_fd = p_out[0];
    c->err_fd = p_err[0];
    if (got > 0) {
        int e = got == (ssize_t)sizeof r ? r.errnum : EIO;
        int stage = got == (ssize_t)sizeof r ? r.stage : STAGE_SETUP;
        int st;

        if (stage == STAGE_PROGRAM) {
            /* not a spawn error: the child exits 127 or 126 */
            if (e == ENOENT || e == ENOTDIR)
                c->exec_note = xasprintf("%s: not found", x.argv[1]);
            else
                c->exec_note = xasprintf("%s: %s", x.argv[1], strerror(e));
        } else {
            if (stage == STAGE_CHDIR)
                c->spawn_error = xasprintf("cannot change to directory "
                                           "\"%s\": %s", cwd, strerror(e));
            else if (stage == STAGE_EXEC)
                c->spawn_error = xasprintf("cannot run /bin/sh: %s",
                                           strerror(e));
            else
                c->spawn_error = xasprintf("cannot set up the hook process: "
                                           "%s", strerror(e));
            hook_close_fd(&c->in_fd);
            hook_close_fd(&c->out_fd);
            hook_close_fd(&c->err_fd);
            hook_child_reap(pid, &st);
        }
    }
    free(envp);
    plan_free(&x);
    return 0;

fail:
    free(envp);
    plan_free(&x);
    for (size_t i = 0; i < 8; i++)
        hook_close_fd(fds[i]);
    return rc;
}

int
hook_child_ended(pid_t pid)
{
    siginfo_t si;

    memset(&si, 0, sizeof si);
    if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0)
        return si.si_pid == pid;
    return errno == ECHILD ? -1 : 0;
}

int
hook_child_reap(pid_t pid, int *status)
{
    pid_t r;

    while ((r = waitpid(pid, status, 0)) < 0 && errno == EINTR)
        ;
    return r == pid;
}

/* ------------------------------------------------------------ SIGPIPE */

void
hook_guard_on(hook_pipe_guard *g)
{
    sigset_t set, pending;

    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    sigprocmask(SIG_BLOCK, &set, &g->old);
    sigemptyset(&pending);
    sigpending(&pending);
    g->pending_before = sigismember(&pending, SIGPIPE) == 1;
}

void
hook_guard_off(hook_pipe_guard *g, int raised)
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

/* ------------------------------------------------------------ stderr */

void
hook_errcap_init(hook_errcap *e, size_t head_cap, size_t tail_cap)
{
    memset(e, 0, sizeof *e);
    e->head_cap = head_cap;
    e->tail_cap = tail_cap;
}

void
hook_errcap_add(hook_errcap *e, const char *p, size_t n)
{
    size_t take = e->head_cap - e->head.len;

    e->total += n;
    if (take > n)
        take = n;
    sb_add(&e->head, p, take);
    p += take;
    n -= take;
    if (n == 0 || e->tail_cap == 0)
        return;
    if (!e->tail)
        e->tail = xmalloc(e->tail_cap);
    if (n >= e->tail_cap) {
        memcpy(e->tail, p + n - e->tail_cap, e->tail_cap);
        e->tail_pos = 0;
        e->tail_len = e->tail_cap;
        return;
    }
    while (n) {
        size_t chunk = e->tail_cap - e->tail_pos;

        if (chunk > n)
            chunk = n;
        memcpy(e->tail + e->tail_pos, p, chunk);
        e->tail_pos = (e->tail_pos + chunk) % e->tail_cap;
        e->tail_len = e->tail_len + chunk < e->tail_cap
                          ? e->tail_len + chunk : e->tail_cap;
        p += chunk;
        n -= chunk;
    }
}

char *
hook_errcap_build(const hook_errcap *e, size_t *len)
{
    strbuf sb = STRBUF_INIT;
    uint64_t kept = e->head.len + e->tail_len;

    sb_add(&sb, e->head.buf, e->head.len);
    if (e->total > kept)
        sb_addf(&sb, "%s[... %llu bytes cut ...]\n", e->head.len ? "\n" : "",
                (unsigned long long)(e->total - kept));
    if (e->tail_len < e->tail_cap)
        sb_add(&sb, e->tail, e->tail_len);
    else if (e->tail_len) {
        sb_add(&sb, e->tail + e->tail_pos, e->tail_cap - e->tail_pos);
        sb_add(&sb, e->tail, e->tail_pos);
    }
    return sb_detach(&sb, len);
}

void
hook_errcap_reset(hook_errcap *e)
{
    sb_reset(&e->head);
    e->tail_len = e->tail_pos = 0;
    e->total = 0;
}

void
hook_errcap_free(hook_errcap *e)
{
    sb_free(&e->head);
    free(e->tail);
    hook_errcap_init(e, e->head_cap, e->tail_cap);
}
