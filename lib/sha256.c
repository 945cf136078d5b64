/*
 * The hex digests of cartridge archives, over nettle's SHA-256 (see
 * sha256.h).
 */
#include "config.h"

#include <stdint.h>

#include "sha256.h"

void
sha256_to_hex(const unsigned char digest[SHA256_DIGEST_SIZE], char out[SHA256_HEX_SIZE])
{
    static const char digits[] = "0123456789abcdef";

    for (int i = 0; i < SHA256_DIGEST_SIZE; i++) {
        out[2 * i] = digits[digest[i] >> 4];
        out[2 * i + 1] = digits[digest[i] & 0x0f];
    }
    out[2 * SHA256_DIGEST_SIZE] = '\0';
}

void
sha256_hex(const void *data, size_t len, char out[SHA256_HEX_SIZE])
{
    struct sha256_ctx ctx;
    uint8_t digest[SHA256_DIGEST_SIZE];

    sha256_init(&ctx);
    sha256_update(&ctx, len, data);
    sha256_digest(&ctx, SHA256_DIGEST_SIZE, digest);
    sha256_to_hex(digest, out);
}
