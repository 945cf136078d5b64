/*
 * Unit tests for lib/sha256 (nettle's SHA-256 with our hex form): the
 * FIPS 180-4 / NIST example vectors, the same digests reached through
 * uneven streaming updates, and padding at the block-boundary lengths
 * 55, 56, 63 and 64 (checked against the one-shot digest of the same
 * bytes fed one byte at a time).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "sha256.h"
#include "tap.h"

static const char *
hex_of(const void *data, size_t len)
{
    static char out[SHA256_HEX_SIZE];
    sha256_hex(data, len, out);
    return out;
}

/* Feed data in chunks of step bytes (1 byte at a time when step is 1). */
static const char *
hex_streamed(const void *data, size_t len, size_t step)
{
    static char out[SHA256_HEX_SIZE];
    const unsigned char *p = data;
    unsigned char digest[SHA256_DIGEST_SIZE];
    sha256_ctx ctx;

    sha256_init(&ctx);
    for (size_t off = 0; off < len; off += step)
        sha256_update(&ctx, len - off < step ? len - off : step, p + off);
    sha256_digest(&ctx, SHA256_DIGEST_SIZE, digest);
    sha256_to_hex(digest, out);
    return out;
}

int
main(void)
{
    static const char msg448[] =
        "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    static const char msg896[] =
        "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
        "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    const char *empty =
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    const char *abc =
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    const char *d448 =
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
    const char *d896 =
        "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1";
    const char *million =
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
    char *a = malloc(1000000);
    sha256_ctx ctx;
    unsigned char digest[SHA256_DIGEST_SIZE];
    char hex[SHA256_HEX_SIZE];

    is_str(hex_of("", 0), empty, "empty string");
    is_str(hex_of("abc", 3), abc, "\"abc\"");
    is_str(hex_of(msg448, strlen(msg448)), d448, "448-bit message");
    is_str(hex_of(msg896, strlen(msg896)), d896, "896-bit message");

    memset(a, 'a', 1000000);
    is_str(hex_of(a, 1000000), million, "one million 'a'");
    is_str(hex_streamed(a, 1000000, 997), million,
           "one million 'a' in uneven chunks");

    /* the NIST way: 1000 updates of 1000 bytes */
    sha256_init(&ctx);
    for (int i = 0; i < 1000; i++)
        sha256_update(&ctx, 1000, (const uint8_t *)a);
    sha256_digest(&ctx, SHA256_DIGEST_SIZE, digest);
    sha256_to_hex(digest, hex);
    is_str(hex, million, "one million 'a' in 1000 updates");

    is_str(hex_streamed(msg448, strlen(msg448), 1), d448,
           "448-bit message byte by byte");
    is_str(hex_streamed(msg896, strlen(msg896), 7), d896,
           "896-bit message in 7-byte chunks");

    /* the context is ready for a new message after a digest */
    sha256_update(&ctx, 3, (const uint8_t *)"abc");
    sha256_digest(&ctx, SHA256_DIGEST_SIZE, digest);
    sha256_to_hex(digest, hex);
    is_str(hex, abc, "a digest resets the context");

    /* padding edge cases: one-shot and byte-by-byte agree */
    static const size_t edges[] = { 1, 55, 56, 57, 63, 64, 65, 119, 120, 128 };
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        char one[SHA256_HEX_SIZE];
        memcpy(one, hex_of(a, edges[i]), sizeof one);
        is_str(hex_streamed(a, edges[i], 1), one,
               "%zu bytes: streamed equals one-shot", edges[i]);
    }
    /* two independently known values at the padding boundary */
    is_str(hex_of(a, 55),
           "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318",
           "55 'a' (one block)");
    is_str(hex_of(a, 56),
           "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a",
           "56 'a' (padding spills into a second block)");

    free(a);
    return done_testing();
}
