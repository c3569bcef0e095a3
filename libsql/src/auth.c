/* auth.c: the password checks of mysql_native_password and
 * caching_sha2_password (DESIGN.md "MySQL protocol", authentication).
 * Hashes come from mbedtls (-lmbedcrypto).
 *
 * native:  token = SHA1(pw) XOR SHA1(scramble . SHA1(SHA1(pw)))
 * sha2:    token = SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) . scramble)
 * The server stores the double hash H and checks a token by undoing the
 * XOR with the hash of (scramble, H) and hashing the result once more.
 */
#include <string.h>

#include <mbedtls/sha1.h>
#include <mbedtls/sha256.h>

#include "proto_int.h"

static void sha1(const void *a, size_t alen, const void *b, size_t blen,
                 uint8_t out[20])
{
    mbedtls_sha1_context ctx;
    mbedtls_sha1_init(&ctx);
    mbedtls_sha1_starts_ret(&ctx);
    mbedtls_sha1_update_ret(&ctx, a, alen);
    if (blen > 0)
        mbedtls_sha1_update_ret(&ctx, b, blen);
    mbedtls_sha1_finish_ret(&ctx, out);
    mbedtls_sha1_free(&ctx);
}

static void sha256(const void *a, size_t alen, const void *b, size_t blen,
                   uint8_t out[32])
{
    mbedtls_sha256_context ctx;
    mbedtls_sha256_init(&ctx);
    mbedtls_sha256_starts_ret(&ctx, 0);
    mbedtls_sha256_update_ret(&ctx, a, alen);
    if (blen > 0)
        mbedtls_sha256_update_ret(&ctx, b, blen);
    mbedtls_sha256_finish_ret(&ctx, out);
    mbedtls_sha256_free(&ctx);
}

/* Constant-time comparison: the time taken says nothing about where the
 * first differing byte is. */
static bool equal(const uint8_t *a, const uint8_t *b, size_t n)
{
    uint8_t d = 0;
    for (size_t i = 0; i < n; i++)
        d |= (uint8_t)(a[i] ^ b[i]);
    return d == 0;
}

void sql_auth_native_hash(const char *password, size_t len, uint8_t out[20])
{
    uint8_t stage1[20];
    sha1(password, len, NULL, 0, stage1);
    sha1(stage1, sizeof stage1, NULL, 0, out);
}

void sql_auth_sha2_hash(const char *password, size_t len, uint8_t out[32])
{
    uint8_t stage1[32];
    sha256(password, len, NULL, 0, stage1);
    sha256(stage1, sizeof stage1, NULL, 0, out);
}

bool sql__auth_native_check(const uint8_t scramble[20],
                            const uint8_t stored[20], const uint8_t *token,
                            size_t len)
{
    if (len != 20)
        return false;
    uint8_t mask[20], stage1[20], check[20];
    sha1(scramble, 20, stored, 20, mask);
    for (size_t i = 0; i < 20; i++)
        stage1[i] = (uint8_t)(token[i] ^ mask[i]);
    sha1(stage1, 20, NULL, 0, check);
    return equal(check, stored, 20);
}

bool sql__auth_sha2_check(const uint8_t scramble[20],
                          const uint8_t stored[32], const uint8_t *token,
                          size_t len)
{
    if (len != 32)
        return false;
    uint8_t mask[32], stage1[32], check[32];
    sha256(stored, 32, scramble, 20, mask);
    for (size_t i = 0; i < 32; i++)
        stage1[i] = (uint8_t)(token[i] ^ mask[i]);
    sha256(stage1, 32, NULL, 0, check);
    return equal(check, stored, 32);
}

bool sql__auth_sha2_check_clear(const uint8_t stored[32],
                                const char *password, size_t len)
{
    uint8_t h[32];
    sql_auth_sha2_hash(password, len, h);
    return equal(h, stored, 32);
}
