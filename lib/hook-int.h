/*
 * Internals shared by one-shot hooks (hook.c) and persistent hook
 * processes (hookproc.c); nothing outside lib/hook*.c includes this.
 *
 * hook-spawn.c starts a child the way both need it (own process group,
 * default signal dispositions, every descriptor above stderr closed,
 * direct exec or /bin/sh -c), and holds the small pieces both use on its
 * pipes: writes with SIGPIPE held, a bounded stderr excerpt, and looking
 * at or reaping the child by pid.  hookproc.c exports the servicing
 * steps that let hook_poll_all() (in hook.c) drive persistent processes
 * in the same poll(2) as one-shot hooks.
 */
#ifndef OSM_HOOK_INT_H
#define OSM_HOOK_INT_H

#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "diag.h"
#include "hookproc.h"
#include "xalloc.h"

#define HOOK_TICK_MS 50         /* longest wait while a child may end unseen */
#define HOOK_IO_CHUNK 65536     /* one read or write */
#define HOOK_READS_PER_PASS 16  /* reads of one pipe per poll() wake-up */

/* ------------------------------------------------------------ spawning */

typedef struct hook_child {
    pid_t pid;              /* the child, and its process group id */
    int in_fd, out_fd, err_fd;  /* our ends: non-blocking, close-on-exec */
    int64_t start_ms;       /* monotonic, just before fork */
    char *spawn_error;      /* non-NULL: it could not be started; the
                               child is reaped and no descriptor is left
                               open (in_fd, out_fd, err_fd are -1) */
    char *exec_note;        /* non-NULL: a directly executed program was
                               not found or could not be executed; the
                               child exits 127 or 126 as sh would, and
                               this line ("NAME: not found") belongs at
                               the head of its stderr */
} hook_child;

/*
 * Start command (hook_needs_shell() decides between a direct exec and
 * /bin/sh -c) in cwd (NULL: ours) with env added to our environment (see
 * hook_spec.env).  Returns 0 with *c filled (see hook_child: a child
 * that could not be started is not an error here), or OSM_EIO (pipes) /
 * OSM_ESOFTWARE (fork) with err filled in and nothing left behind.  The
 * caller owns c's strings and descriptors.
 */
int hook_spawn(const char *command, const char *cwd, char *const *env,
               hook_child *c, osm_err *err);

/* Close *fd if open and set it to -1. */
void hook_close_fd(int *fd);

/*
 * Has child pid ended?  Looks without reaping it (waitid WNOWAIT), so
 * that its pid, and so its process group id, cannot be reused until
 * hook_child_reap().  Returns 1 ended, 0 still running, -1 no longer our
 * child (someone else reaped it: its status is lost).
 */
int hook_child_ended(pid_t pid);

/*
 * Wait for child pid (blocking) and reap it.  Returns 1 with *status set,
 * or 0 when its status is lost (someone else reaped it).
 */
int hook_child_reap(pid_t pid, int *status);

/* ------------------------------------------------------------ SIGPIPE */

/*
 * Writes to a hook's stdin run with SIGPIPE blocked; a SIGPIPE they raise
 * stays pending and is consumed before the old mask comes back (when
 * raised is set), unless one was already pending (not ours to take).
 */
typedef struct hook_pipe_guard {
    sigset_t old;
    int pending_before;
} hook_pipe_guard;

void hook_guard_on(hook_pipe_guard *g);
void hook_guard_off(hook_pipe_guard *g, int raised);

/* ------------------------------------------------------------ stderr */

/*
 * A bounded stderr excerpt: the first head_cap bytes and a ring of the
 * last tail_cap bytes after them, with a count of everything seen.
 */
typedef struct hook_errcap {
    strbuf head;
    size_t head_cap;
    char *tail;
    size_t tail_cap, tail_len, tail_pos;
    uint64_t total;
} hook_errcap;

void hook_errcap_init(hook_errcap *e, size_t head_cap, size_t tail_cap);
void hook_errcap_add(hook_errcap *e, const char *p, size_t n);

/*
 * The excerpt, NUL-terminated, the caller's: head, then
 * "[... N bytes cut ...]" on a line of its own when bytes were dropped,
 * then the tail in order.  e is left as it was.
 */
char *hook_errcap_build(const hook_errcap *e, size_t *len);

/* Forget everything seen (the caps stay). */
void hook_errcap_reset(hook_errcap *e);
void hook_errcap_free(hook_errcap *e);

/* ------------------------------------------------ persistent processes */

/*
 * The steps of hook_poll_all() for one persistent process, in the order
 * it calls them in each pass:
 *
 * hookproc_service_tick(): timers and the child's state (may fail the
 * requests in flight and reap the process).  Returns 1 when an answer or
 * failure waits for hookproc_take(), else 0.
 *
 * hookproc_service_live(): 1 while something may still become ready
 * (requests in flight, or a process being stopped), else 0.
 *
 * hookproc_service_fds(): the descriptors to watch, at most 3, in
 * pfd[0..] with slot[k] telling which (0 stdin, 1 stdout, 2 stderr);
 * lowers *wake to when tick next needs to run.  Returns how many.
 *
 * hookproc_service_io(): the descriptor of slot is ready; write (setting
 * *raised on EPIPE; the caller holds a hook_pipe_guard) or read.
 */
int hookproc_service_tick(hookproc *p, int64_t now);
int hookproc_service_live(const hookproc *p);
size_t hookproc_service_fds(hookproc *p, struct pollfd *pfd, int *slot,
                            int64_t now, int64_t *wake);
void hookproc_service_io(hookproc *p, int slot, int64_t now, int *raised);

#endif
