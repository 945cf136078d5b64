/*
 * SHA-256 (FIPS 180-4), used to fingerprint cartridge archives.
 *
 * Streaming use: sha256_init(), any number of sha256_update(), then
 * sha256_final(), which leaves the context unusable until the next
 * sha256_init().  sha256_hex() does all three for one buffer and writes
 * the 64 lowercase hex digits and a NUL.  Nothing here allocates or fails.
 */
#ifndef OSM_SHA256_H
#define OSM_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_SIZE 32
#define SHA256_HEX_SIZE 65          /* 64 hex digits and a NUL */

typedef struct sha256_ctx {
    uint32_t h[8];                  /* chaining state */
    uint64_t nbytes;                /* message length so far */
    unsigned char block[64];        /* pending partial block */
    size_t nblock;                  /* bytes used in block */
} sha256_ctx;

void sha256_init(sha256_ctx *ctx);
void sha256_update(sha256_ctx *ctx, const void *data, size_t len);
void sha256_final(sha256_ctx *ctx, unsigned char digest[SHA256_DIGEST_SIZE]);

/* Lowercase hex of a digest into out (65 bytes, NUL-terminated). */
void sha256_to_hex(const unsigned char digest[SHA256_DIGEST_SIZE],
                   char out[SHA256_HEX_SIZE]);

/* The hex digest of len bytes at data. */
void sha256_hex(const void *data, size_t len, char out[SHA256_HEX_SIZE]);

#endif
