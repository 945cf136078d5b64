/*
 * persistent-noop: a persistent system that does nothing, for the
 * benchmark's persistent-hook column (bench/README).
 *
 * osm writes one JSON request per line on its standard input; it answers
 * each line, in order, with the line {"status":"completed"} (an answer
 * without "task" belongs to the oldest request in flight, DESIGN §8).
 * It reads whatever has arrived and answers all the complete lines in
 * one write, so that a burst of requests costs one system call each way,
 * and it never parses the requests: what is measured is osm's side.
 * Exits 0 at end of input, 74 when it cannot read or write.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char answer[] = "{\"status\":\"completed\"}\n";
#define ANSWER_LEN (sizeof answer - 1)

/* Write n bytes of buf, whatever it takes; -1 on error. */
static int
write_all(const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = write(STDOUT_FILENO, buf, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        buf += w;
        n -= (size_t)w;
    }
    return 0;
}

int
main(void)
{
    static char in[1 << 16], out[ANSWER_LEN * 512];

    for (;;) {
        ssize_t n = read(STDIN_FILENO, in, sizeof in);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            perror("persistent-noop: read");
            return 74;
        }
        if (n == 0)
            return 0;
        size_t lines = 0, used = 0;
        for (const char *p = in; (p = memchr(p, '\n', (size_t)(in + n - p))) != NULL; p++)
            lines++;
        while (lines > 0) {
            memcpy(out + used, answer, ANSWER_LEN);
            used += ANSWER_LEN;
            lines--;
            if (used == sizeof out || lines == 0) {
                if (write_all(out, used) != 0) {
                    perror("persistent-noop: write");
                    return 74;
                }
                used = 0;
            }
        }
    }
}
