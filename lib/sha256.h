/*
 * SHA-256, used to fingerprint cartridge archives, is nettle's: a
 * maintained implementation from the distribution (found by ./configure).
 * Streaming use is nettle's own API, declared here through
 * <nettle/sha2.h>: sha256_init(&ctx), any number of sha256_update(&ctx,
 * len, data), then sha256_digest(&ctx, SHA256_DIGEST_SIZE, out), which
 * also makes ctx ready for a new message.  This module adds the hex form
 * the store keeps.  Nothing here allocates or fails.
 */
#ifndef OSM_SHA256_H
#define OSM_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include <nettle/sha2.h>

#define SHA256_HEX_SIZE 65          /* 64 hex digits and a NUL */

typedef struct sha256_ctx sha256_ctx;

/* Lowercase hex of a digest into out (65 bytes, NUL-terminated). */
void sha256_to_hex(const unsigned char digest[SHA256_DIGEST_SIZE],
                   char out[SHA256_HEX_SIZE]);

/* The hex digest of len bytes at data. */
void sha256_hex(const void *data, size_t len, char out[SHA256_HEX_SIZE]);

#endif
