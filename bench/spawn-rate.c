/*
 * spawn-rate: how many processes this machine can start per second, the
 * limit a hook per task runs into (bench/README, "machine limits").
 *
 *     spawn-rate [-j N] [-t SECONDS] [-C DIR] COMMAND [ARG...]
 *
 * Starts COMMAND with posix_spawn(3), N at a time (default 2, as
 * `osm-run -j 2`), each with standard input and output on /dev/null,
 * starting the next as soon as one exits, for SECONDS (default 2) of
 * wall time; then waits for those still running.  Prints one line:
 *
 *     RATE COUNT SECONDS
 *
 * spawns per second, the processes started and the seconds they took.
 * COMMAND is found on PATH when it has no slash, and runs in DIR when
 * given.  Exits 1, after the line, when a child did not exit 0; 2 on a
 * usage error; 71 when a spawn fails.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
usage(void)
{
    fputs("usage: spawn-rate [-j N] [-t SECONDS] [-C DIR] COMMAND [ARG...]\n", stderr);
    return 2;
}

/* Wait for one child; count it as failed unless it exited 0. */
static void
reap_one(long *failed)
{
    int status;
    pid_t pid;

    while ((pid = wait(&status)) < 0 && errno == EINTR)
        ;
    if (pid > 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
        (*failed)++;
}

int
main(int argc, char **argv)
{
    long jobs = 2, running = 0, count = 0, failed = 0;
    double seconds = 2;
    const char *dir = NULL;
    char *end;
    int c;

    while ((c = getopt(argc, argv, "+j:t:C:")) != -1) {
        switch (c) {
        case 'j':
            jobs = strtol(optarg, &end, 10);
            if (*end || jobs < 1 || jobs > 1024)
                return usage();
            break;
        case 't':
            seconds = strtod(optarg, &end);
            if (*end || !(seconds > 0 && seconds <= 3600))
                return usage();
            break;
        case 'C': dir = optarg; break;
        default: return usage();
        }
    }
    if (optind >= argc)
        return usage();
    if (dir && chdir(dir) != 0) {
        fprintf(stderr, "spawn-rate: %s: %s\n", dir, strerror(errno));
        return 66;
    }

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);

    double start = now_s(), stop = start + seconds;
    while (now_s() < stop) {
        while (running < jobs) {
            pid_t pid;
            int rc = posix_spawnp(&pid, argv[optind], &fa, NULL, argv + optind, environ);
            if (rc != 0) {
                fprintf(stderr, "spawn-rate: %s: %s\n", argv[optind], strerror(rc));
                return 71;
            }
            running++;
            count++;
        }
        reap_one(&failed);
        running--;
    }
    while (running > 0) {
        reap_one(&failed);
        running--;
    }
    double took = now_s() - start;
    posix_spawn_file_actions_destroy(&fa);

    printf("%.1f %ld %.3f\n", (double)count / took, count, took);
    if (failed) {
        fprintf(stderr, "spawn-rate: %ld of %ld runs of %s did not exit 0\n", failed, count,
                argv[optind]);
        return 1;
    }
    return 0;
}
