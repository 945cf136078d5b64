/*
 * Allocation that cannot fail: on exhaustion the process ends with
 * "osm-NAME: out of memory" and status 70.  Also a small growable byte
 * buffer used wherever text or bytes are accumulated.
 */
#ifndef OSM_XALLOC_H
#define OSM_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A growable buffer; buf is always NUL-terminated (len excludes it). */
typedef struct strbuf {
    char *buf;
    size_t len;
    size_t cap;
} strbuf;

#define STRBUF_INIT { NULL, 0, 0 }

void sb_grow(strbuf *sb, size_t extra);
void sb_add(strbuf *sb, const void *data, size_t n);
void sb_adds(strbuf *sb, const char *s);
void sb_addf(strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_reset(strbuf *sb);
/* Hand over the buffer (never NULL); sb is left empty. */
char *sb_detach(strbuf *sb, size_t *len);
void sb_free(strbuf *sb);

#endif
