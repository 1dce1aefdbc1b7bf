/* secret.c - passwords (scrypt) and OTPs for the accounts service. */
#include "secret.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "crypto.h"

int ac_random_below(uint32_t n, uint32_t *out) {
  /* Accept only draws below the largest multiple of n that fits in 32 bits;
   * the rest would favour the small residues. */
  uint32_t limit = (uint32_t)(((uint64_t)1 << 32) - ((uint64_t)1 << 32) % n);
  unsigned char b[4];
  char err[80];
  for (;;) {
    if (sp_random_bytes(b, sizeof b, err, sizeof err))
      return -1;
    uint32_t v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
                 (uint32_t)b[2] << 8 | b[3];
    sp_wipe(b, sizeof b);
    if (limit == 0 || v < limit) { /* limit 0: n divides 2^32 */
      *out = v % n;
      return 0;
    }
  }
}

/* ---- Passwords ------------------------------------------------------- */

int ac_password_new(char out[AC_PASSWORD_LEN + 1]) {
  static const char alphabet[] = AC_PASSWORD_ALPHABET;
  int digit, letter;
  do {
    digit = letter = 0;
    for (int i = 0; i < AC_PASSWORD_LEN; i++) {
      uint32_t k;
      if (ac_random_below(sizeof alphabet - 1, &k)) {
        sp_wipe(out, AC_PASSWORD_LEN + 1);
        return -1;
      }
      out[i] = alphabet[k];
      if (out[i] >= '0' && out[i] <= '9')
        digit = 1;
      else
        letter = 1;
    }
    out[AC_PASSWORD_LEN] = '\0';
  } while (!digit || !letter);
  return 0;
}

static int scrypt(const char *pw, size_t pwlen, const unsigned char *salt,
                  uint64_t n, uint64_t r, uint64_t p,
                  unsigned char key[AC_SCRYPT_KEY_BYTES]) {
  /* OpenSSL's default memory cap (32 MiB) is below what larger accepted
   * parameters need; ask for exactly what these ones use (its formula:
   * 128*r*(N+2) for V plus 128*r*p for B). */
  uint64_t maxmem = 128 * r * (n + 2 + p);
  int ok = EVP_PBE_scrypt(pw, pwlen, salt, AC_SCRYPT_SALT_BYTES, n, r, p,
                          maxmem, key, AC_SCRYPT_KEY_BYTES) == 1;
  ERR_clear_error();
  return ok ? 0 : -1;
}

int ac_password_hash(const char *pw, char *out, size_t outlen, char *errstr,
                     size_t errlen) {
  unsigned char salt[AC_SCRYPT_SALT_BYTES], key[AC_SCRYPT_KEY_BYTES];
  char salthex[2 * sizeof salt + 1], keyhex[2 * sizeof key + 1];
  size_t pwlen = pw ? strnlen(pw, AC_PASSWORD_MAX_BYTES + 1) : 0;
  int rc = -1;
  if (out && outlen)
    out[0] = '\0';
  if (!out || outlen < AC_PASSWORD_HASH_MAX) {
    snprintf(errstr, errlen, "password hash buffer too small");
    return -1;
  }
  if (pwlen == 0 || pwlen > AC_PASSWORD_MAX_BYTES) {
    snprintf(errstr, errlen, "password empty or longer than %d bytes",
             AC_PASSWORD_MAX_BYTES);
    return -1;
  }
  if (sp_random_bytes(salt, sizeof salt, errstr, errlen))
    return -1;
  if (scrypt(pw, pwlen, salt, AC_SCRYPT_N, AC_SCRYPT_R, AC_SCRYPT_P, key)) {
    snprintf(errstr, errlen, "scrypt failed");
    goto done;
  }
  sp_hex_encode(salt, sizeof salt, salthex);
  sp_hex_encode(key, sizeof key, keyhex);
  snprintf(out, outlen, "scrypt$N=%d,r=%d,p=%d$%s$%s", AC_SCRYPT_N, AC_SCRYPT_R,
           AC_SCRYPT_P, salthex, keyhex);
  rc = 0;
done:
  sp_wipe(key, sizeof key);
  sp_wipe(keyhex, sizeof keyhex);
  return rc;
}

/* Reads "<name>=<decimal>" at *s: no sign, no leading zero, at most 7
 * digits (every accepted parameter is below 10^7). */
static int param(const char **s, char name, uint64_t *v) {
  const char *c = *s;
  if (c[0] != name || c[1] != '=' || c[2] < '1' || c[2] > '9')
    return -1;
  c += 2;
  *v = 0;
  for (int i = 0; *c >= '0' && *c <= '9'; i++, c++) {
    if (i == 7)
      return -1;
    *v = *v * 10 + (uint64_t)(*c - '0');
  }
  *s = c;
  return 0;
}

/* Decodes exactly 2*n hex digits at s followed by end, a character. */
static int hexfield(const char *s, char end, unsigned char *out, size_t n) {
  const char *e = strchr(s, end);
  size_t got;
  if (!e || (size_t)(e - s) != 2 * n)
    return -1;
  return sp_hex_decode(s, 2 * n, out, n, &got) || got != n ? -1 : 0;
}

int ac_password_verify(const char *pw, const char *stored) {
  unsigned char salt[AC_SCRYPT_SALT_BYTES], want[AC_SCRYPT_KEY_BYTES],
      got[AC_SCRYPT_KEY_BYTES];
  uint64_t n, r, p;
  const char *s = stored;
  if (!s || strncmp(s, "scrypt$", 7))
    return -1;
  s += 7;
  if (param(&s, 'N', &n) || *s++ != ',' || param(&s, 'r', &r) || *s++ != ',' ||
      param(&s, 'p', &p) || *s++ != '$')
    return -1;
  if (n < 2 || n > AC_SCRYPT_MAX_N || (n & (n - 1)) ||
      r * p > AC_SCRYPT_MAX_RP || 128 * n * r > AC_SCRYPT_MAX_MEM)
    return -1;
  if (hexfield(s, '$', salt, sizeof salt))
    return -1;
  s += 2 * sizeof salt + 1;
  if (hexfield(s, '\0', want, sizeof want))
    return -1;
  size_t pwlen = pw ? strnlen(pw, AC_PASSWORD_MAX_BYTES + 1) : 0;
  if (pwlen == 0 || pwlen > AC_PASSWORD_MAX_BYTES)
    return 0;
  if (scrypt(pw, pwlen, salt, n, r, p, got))
    return -1;
  int match = CRYPTO_memcmp(got, want, sizeof got) == 0;
  sp_wipe(got, sizeof got);
  sp_wipe(want, sizeof want);
  return match;
}

/* ---- One-time passwords ---------------------------------------------- */

static int otp_ok(const char *otp) {
  if (!otp || strnlen(otp, AC_OTP_LEN + 1) != AC_OTP_LEN)
    return 0;
  for (int i = 0; i < AC_OTP_LEN; i++)
    if (otp[i] < '0' || otp[i] > '9')
      return 0;
  return 1;
}

int ac_otp_new(char out[AC_OTP_LEN + 1]) {
  uint32_t v;
  if (ac_random_below(1000000, &v)) {
    out[0] = '\0';
    return -1;
  }
  snprintf(out, AC_OTP_LEN + 1, "%06u", (unsigned)v);
  sp_wipe(&v, sizeof v);
  return 0;
}

/* SHA-256(salt || login || otp), fed in pieces so no buffer ever holds a
 * copy of the OTP (EVP_MD_CTX_free cleanses the digest state). */
static int otp_digest(const unsigned char *salt, const char *login,
                      const char *otp, unsigned char md[32]) {
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  unsigned int mdlen = 0;
  int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
           EVP_DigestUpdate(ctx, salt, AC_OTP_SALT_BYTES) == 1 &&
           EVP_DigestUpdate(ctx, login, strlen(login)) == 1 &&
           EVP_DigestUpdate(ctx, otp, AC_OTP_LEN) == 1 &&
           EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == 32;
  EVP_MD_CTX_free(ctx);
  ERR_clear_error();
  return ok ? 0 : -1;
}

int ac_otp_hash(const char *otp, const char *login, char *out, size_t outlen) {
  unsigned char salt[AC_OTP_SALT_BYTES], md[32];
  char err[80];
  if (out && outlen)
    out[0] = '\0';
  if (!out || outlen <= AC_OTP_HASH_LEN || !otp_ok(otp) || !login)
    return -1;
  if (sp_random_bytes(salt, sizeof salt, err, sizeof err) ||
      otp_digest(salt, login, otp, md))
    return -1;
  sp_hex_encode(salt, sizeof salt, out);
  out[2 * sizeof salt] = '$';
  sp_hex_encode(md, sizeof md, out + 2 * sizeof salt + 1);
  sp_wipe(md, sizeof md);
  return 0;
}

int ac_otp_verify(const char *otp, const char *login, const char *stored) {
  unsigned char salt[AC_OTP_SALT_BYTES], want[32], got[32];
  if (!stored || strnlen(stored, AC_OTP_HASH_LEN + 1) != AC_OTP_HASH_LEN ||
      hexfield(stored, '$', salt, sizeof salt) ||
      hexfield(stored + 2 * sizeof salt + 1, '\0', want, sizeof want))
    return -1;
  if (!otp_ok(otp) || !login)
    return 0;
  if (otp_digest(salt, login, otp, got))
    return -1;
  int match = CRYPTO_memcmp(got, want, sizeof got) == 0;
  sp_wipe(got, sizeof got);
  sp_wipe(want, sizeof want);
  return match;
}
