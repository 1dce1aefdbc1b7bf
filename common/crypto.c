/* crypto.c - key wrap, hex, secret files, transport keys and the keystore
 * front end (argument checks, then the backend's ops). The file backend is
 * keystore_file.c. */
#include "crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/modes.h>
#include <openssl/rand.h>

#include "config.h"

void sp_wipe(void *p, size_t n) {
  if (p && n)
    OPENSSL_cleanse(p, n);
}

/* Whole pages from mmap: they can be locked and kept out of core dumps
 * without touching the malloc heap, and come back zeroed. */
static size_t page_round(size_t n) {
  long pg = sysconf(_SC_PAGESIZE);
  size_t ps = pg > 0 ? (size_t)pg : 4096;
  if (n == 0)
    n = 1;
  return (n + ps - 1) / ps * ps;
}

void *sp_secure_alloc(size_t n) {
  if (n > SIZE_MAX / 2)
    return NULL;
  size_t len = page_round(n);
  void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                 -1, 0);
  if (p == MAP_FAILED)
    return NULL;
  (void)mlock(p, len); /* best effort: RLIMIT_MEMLOCK may be small */
#ifdef MADV_DONTDUMP
  (void)madvise(p, len, MADV_DONTDUMP);
#endif
  return p;
}

void sp_secure_free(void *p, size_t n) {
  if (!p)
    return;
  size_t len = page_round(n);
  OPENSSL_cleanse(p, len);
  (void)munlock(p, len);
  munmap(p, len);
}

int sp_random_bytes(unsigned char *out, size_t n, char *errstr, size_t errlen) {
  if (n > INT_MAX || RAND_bytes(out, (int)n) != 1) {
    ERR_clear_error();
    snprintf(errstr, errlen, "the random number generator failed");
    return -1;
  }
  return 0;
}

/* ---- RFC 3394 key wrap ------------------------------------------------- */

static int wrap_run(int enc, const unsigned char kek[32],
                    const unsigned char *in, size_t inlen, unsigned char *out,
                    size_t *outlen, char *errstr, size_t errlen) {
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  int n = 0, m = 0, ok = 0;
  if (!ctx) {
    snprintf(errstr, errlen, "out of memory");
    return -1;
  }
  /* Needed by OpenSSL 1.x for wrap modes, harmless in 3.x. */
  EVP_CIPHER_CTX_set_flags(ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
  if (EVP_CipherInit_ex(ctx, EVP_aes_256_wrap(), NULL, kek, NULL, enc) != 1)
    snprintf(errstr, errlen, "AES key wrap is not available");
  else if (EVP_CipherUpdate(ctx, out, &n, in, (int)inlen) != 1 || n < 0 ||
           EVP_CipherFinal_ex(ctx, out + n, &m) != 1)
    snprintf(errstr, errlen,
             enc ? "key wrap failed"
                 : "integrity check failed (wrong transport key or altered "
                   "data)");
  else {
    *outlen = (size_t)n + (size_t)m;
    ok = 1;
  }
  EVP_CIPHER_CTX_free(ctx);
  ERR_clear_error();
  if (!ok && !enc)
    sp_wipe(out, inlen - SP_KEYWRAP_OVERHEAD);
  return ok ? 0 : -1;
}

/* OpenSSL 3.0's AES-WRAP cipher runs on the portable AES code, ~1.7 us
 * per 16-byte key here; the same RFC 3394 mode (OpenSSL's
 * CRYPTO_128_unwrap) over an AES-256-ECB context keeps AES-NI: ~0.25 us. */
struct sp_unwrapper {
  EVP_CIPHER *cipher;
  EVP_CIPHER_CTX *ctx; /* AES-256-ECB, decrypting, no padding */
};

static void unwrap_block(const unsigned char in[16], unsigned char out[16],
                         const void *key) {
  int n = 0;
  EVP_CipherUpdate((EVP_CIPHER_CTX *)key, out, &n, in, 16);
}

sp_unwrapper *sp_unwrapper_new(const unsigned char kek[32], char *errstr,
                               size_t errlen) {
  sp_unwrapper *u = calloc(1, sizeof *u);
  if (!u || !(u->cipher = EVP_CIPHER_fetch(NULL, "AES-256-ECB", NULL)) ||
      !(u->ctx = EVP_CIPHER_CTX_new()) ||
      EVP_CipherInit_ex2(u->ctx, u->cipher, kek, NULL, 0, NULL) != 1 ||
      EVP_CIPHER_CTX_set_padding(u->ctx, 0) != 1) {
    snprintf(errstr, errlen, "AES is not available");
    sp_unwrapper_free(u);
    ERR_clear_error();
    return NULL;
  }
  return u;
}

int sp_unwrapper_run(sp_unwrapper *u, const unsigned char *in, size_t inlen,
                     unsigned char *out, size_t *outlen, char *errstr,
                     size_t errlen) {
  if (!u || !in || !out || !outlen || inlen < 24 || inlen % 8 ||
      inlen > INT_MAX - 16) {
    snprintf(errstr, errlen,
             "a wrapped key must be a multiple of 8 bytes, at least 24");
    return -1;
  }
  /* NULL iv: the RFC 3394 default, checked; 0 on a mismatch (out wiped). */
  size_t n = CRYPTO_128_unwrap(u->ctx, NULL, out, in, inlen, unwrap_block);
  if (n == 0) {
    sp_wipe(out, inlen - SP_KEYWRAP_OVERHEAD);
    snprintf(errstr, errlen,
             "integrity check failed (wrong transport key or altered data)");
    return -1;
  }
  *outlen = n;
  return 0;
}

int sp_unwrapper_run_many(sp_unwrapper *u, const unsigned char *in,
                          size_t count, unsigned char *out, unsigned char *ok,
                          char *errstr, size_t errlen) {
  if (!u || count > SP_UNWRAP_MANY) {
    snprintf(errstr, errlen, "at most %d keys per call", SP_UNWRAP_MANY);
    return -1;
  }
  /* RFC 3394 2.2.2, index form, n = 2: A is the 64-bit integrity register,
   * R[1..2] the key halves. blk holds every key's A|R[i] for one step. */
  static const unsigned char iv[8] = {0xA6, 0xA6, 0xA6, 0xA6,
                                      0xA6, 0xA6, 0xA6, 0xA6};
  unsigned char a[SP_UNWRAP_MANY][8], blk[SP_UNWRAP_MANY][16];
  for (size_t k = 0; k < count; k++) {
    memcpy(a[k], in + 24 * k, 8);
    memcpy(out + 16 * k, in + 24 * k + 8, 16);
  }
  int rc = 0;
  for (int j = 5; j >= 0 && rc == 0; j--)
    for (int i = 2; i >= 1; i--) {
      unsigned char t = (unsigned char)(2 * j + i); /* < 256: one byte */
      for (size_t k = 0; k < count; k++) {
        memcpy(blk[k], a[k], 8);
        blk[k][7] ^= t;
        memcpy(blk[k] + 8, out + 16 * k + 8 * (i - 1), 8);
      }
      int n = 0;
      if (count && (EVP_CipherUpdate(u->ctx, &blk[0][0], &n, &blk[0][0],
                                     (int)(16 * count)) != 1 ||
                    n != (int)(16 * count))) {
        snprintf(errstr, errlen, "AES failed while unwrapping");
        ERR_clear_error();
        rc = -1;
        break;
      }
      for (size_t k = 0; k < count; k++) {
        memcpy(a[k], blk[k], 8);
        memcpy(out + 16 * k + 8 * (i - 1), blk[k] + 8, 8);
      }
    }
  int failed = 0;
  for (size_t k = 0; k < count; k++) {
    ok[k] = rc == 0 && CRYPTO_memcmp(a[k], iv, 8) == 0;
    if (!ok[k]) {
      sp_wipe(out + 16 * k, 16);
      failed++;
    }
  }
  sp_wipe(blk, sizeof blk);
  sp_wipe(a, sizeof a);
  return rc < 0 ? -1 : failed;
}

void sp_unwrapper_free(sp_unwrapper *u) {
  if (!u)
    return;
  EVP_CIPHER_CTX_free(u->ctx); /* cleanses the key schedule */
  EVP_CIPHER_free(u->cipher);
  free(u);
}

int sp_keywrap(const unsigned char kek[32], const unsigned char *in,
               size_t inlen, unsigned char *out, size_t *outlen, char *errstr,
               size_t errlen) {
  if (!kek || !in || !out || !outlen) {
    snprintf(errstr, errlen, "sp_keywrap: missing argument");
    return -1;
  }
  if (inlen < 16 || inlen % 8 || inlen > INT_MAX - 16) {
    snprintf(errstr, errlen,
             "key data to wrap must be a multiple of 8 bytes, at least 16, "
             "not %zu",
             inlen);
    return -1;
  }
  return wrap_run(1, kek, in, inlen, out, outlen, errstr, errlen);
}

int sp_keyunwrap(const unsigned char kek[32], const unsigned char *in,
                 size_t inlen, unsigned char *out, size_t *outlen, char *errstr,
                 size_t errlen) {
  if (!kek || !in || !out || !outlen) {
    snprintf(errstr, errlen, "sp_keyunwrap: missing argument");
    return -1;
  }
  if (inlen < 24 || inlen % 8 || inlen > INT_MAX - 16) {
    snprintf(errstr, errlen,
             "a wrapped key must be a multiple of 8 bytes, at least 24, "
             "not %zu",
             inlen);
    return -1;
  }
  return wrap_run(0, kek, in, inlen, out, outlen, errstr, errlen);
}

/* ---- hex and ids ------------------------------------------------------- */

/* Without table lookups or data-dependent branches: the digits may be a
 * key. Returns 0-15, or -1. */
static int hex_nibble(unsigned char c) {
  int d = (int)c - '0';
  int l = (int)(c | 0x20) - 'a';
  int is_d = (d >= 0) & (d <= 9);
  int is_l = (l >= 0) & (l <= 5);
  return (is_d * d) + (is_l * (l + 10)) - !(is_d | is_l);
}

int sp_hex_decode(const char *hex, size_t hexlen, unsigned char *out,
                  size_t outcap, size_t *outlen) {
  if (!hex || hexlen % 2 || hexlen / 2 > outcap)
    return -1;
  int bad = 0;
  for (size_t i = 0; i < hexlen / 2; i++) {
    int hi = hex_nibble((unsigned char)hex[2 * i]);
    int lo = hex_nibble((unsigned char)hex[2 * i + 1]);
    bad |= (hi | lo) < 0;
    out[i] = (unsigned char)(((hi & 0x0f) << 4) | (lo & 0x0f));
  }
  if (bad)
    return -1;
  if (outlen)
    *outlen = hexlen / 2;
  return 0;
}

void sp_hex_encode(const unsigned char *in, size_t len, char *out) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < len; i++) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 0x0f];
  }
  out[2 * len] = '\0';
}

int sp_key_id_valid(const char *id) {
  if (!id)
    return 0;
  size_t n = 0;
  for (; id[n]; n++) {
    char c = id[n];
    int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
             (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok || n >= SP_KEK_ID_MAX)
      return 0;
  }
  return n > 0;
}

/* ---- secret files ------------------------------------------------------ */

int sp_secret_file_read(const char *path, const char *what, size_t max_bytes,
                        char **out, size_t *len, char *errstr, size_t errlen) {
  struct stat st;
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    snprintf(errstr, errlen, "cannot open %s %s: %s", what, path,
             strerror(errno));
    return -1;
  }
  /* fstat on the open descriptor: what we check is what we read. */
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    snprintf(errstr, errlen, "%s %s is not a regular file", what, path);
    close(fd);
    return -1;
  }
  if (st.st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH)) {
    snprintf(errstr, errlen,
             "%s %s has mode %04o: it must not be readable or writable by "
             "group or others (chmod 600)",
             what, path, (unsigned)(st.st_mode & 07777));
    close(fd);
    return -1;
  }
  if ((unsigned long long)st.st_size > max_bytes) {
    snprintf(errstr, errlen, "%s %s is larger than %zu bytes", what, path,
             max_bytes);
    close(fd);
    return -1;
  }
  size_t cap = (size_t)st.st_size + 1, n = 0;
  char *buf = sp_secure_alloc(cap + 1);
  if (!buf) {
    snprintf(errstr, errlen, "out of memory reading %s %s", what, path);
    close(fd);
    return -1;
  }
  for (;;) {
    ssize_t got = read(fd, buf + n, cap - n);
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0) {
      snprintf(errstr, errlen, "cannot read %s %s: %s", what, path,
               strerror(errno));
      break;
    }
    if (got == 0) {
      close(fd);
      buf[n] = '\0';
      *out = buf;
      *len = n;
      return 0;
    }
    n += (size_t)got;
    if (n == cap) { /* grew since fstat: refuse rather than guess */
      snprintf(errstr, errlen, "%s %s changed while it was read", what, path);
      break;
    }
  }
  close(fd);
  sp_secure_free(buf, cap + 1);
  return -1;
}

int sp_transport_key_load(const char *dir, const char *key_id,
                          unsigned char out[32], char *errstr, size_t errlen) {
  if (!dir || !*dir) {
    snprintf(errstr, errlen, "no transport key folder given");
    return -1;
  }
  if (!sp_key_id_valid(key_id)) {
    snprintf(errstr, errlen,
             "bad transport key id (1 to 64 of A-Z a-z 0-9 . _ -)");
    return -1;
  }
  char path[PATH_MAX];
  if (snprintf(path, sizeof path, "%s/%s.key", dir, key_id) >=
      (int)sizeof path) {
    snprintf(errstr, errlen, "transport key path is too long");
    return -1;
  }
  char *text;
  size_t len;
  if (sp_secret_file_read(path, "transport key file", 4096, &text, &len, errstr,
                          errlen) != 0)
    return -1;
  size_t a = 0, b = len;
  while (a < b && (text[a] == ' ' || text[a] == '\t'))
    a++;
  while (b > a && (text[b - 1] == '\n' || text[b - 1] == '\r' ||
                   text[b - 1] == ' ' || text[b - 1] == '\t'))
    b--;
  size_t got = 0;
  int rc = 0;
  if (b - a != 64 ||
      sp_hex_decode(text + a, 64, out, SP_AES256_KEY_BYTES, &got) != 0) {
    snprintf(errstr, errlen,
             "transport key file %s must hold one line of 64 hex digits "
             "(a 256-bit key)",
             path);
    sp_wipe(out, SP_AES256_KEY_BYTES);
    rc = -1;
  }
  sp_secure_free(text, len + 1);
  return rc;
}

/* ---- keystore front end ------------------------------------------------ */

struct sp_keystore {
  const sp_keystore_ops *ops;
  void *impl;
};

sp_keystore *sp_keystore_new(const sp_keystore_ops *ops, void *impl,
                             char *errstr, size_t errlen) {
  sp_keystore *ks = ops ? calloc(1, sizeof *ks) : NULL;
  if (!ks) {
    snprintf(errstr, errlen, ops ? "out of memory" : "no keystore backend");
    if (ops && ops->close)
      ops->close(impl);
    return NULL;
  }
  ks->ops = ops;
  ks->impl = impl;
  return ks;
}

void sp_keystore_close(sp_keystore *ks) {
  if (!ks)
    return;
  ks->ops->close(ks->impl);
  free(ks);
}

sp_keystore *sp_keystore_open_env(char *errstr, size_t errlen) {
  const char *path;
  if (sp_config_str("SIMPKI_KEK_FILE", SP_CONFIG_REQUIRED, &path, errstr,
                    errlen) != 0)
    return NULL;
  return sp_keystore_open_file(path, errstr, errlen);
}

const char *sp_keystore_current_id(const sp_keystore *ks) {
  return ks ? ks->ops->current_id(ks->impl) : NULL;
}

size_t sp_keystore_count(const sp_keystore *ks) {
  return ks ? ks->ops->count(ks->impl) : 0;
}

const char *sp_keystore_id(const sp_keystore *ks, size_t i) {
  return ks && i < ks->ops->count(ks->impl) ? ks->ops->id(ks->impl, i) : NULL;
}

int sp_keystore_has(const sp_keystore *ks, const char *kek_id) {
  if (!ks || !kek_id)
    return 0;
  size_t n = ks->ops->count(ks->impl);
  for (size_t i = 0; i < n; i++)
    if (!strcmp(ks->ops->id(ks->impl, i), kek_id))
      return 1;
  return 0;
}

/* kek_id NULL means the current key; the id must be one the store holds.
 * An id is not secret (it is stored beside every sealed value). */
static const char *resolve_id(const sp_keystore *ks, const char *kek_id,
                              char *errstr, size_t errlen) {
  if (!kek_id) {
    kek_id = sp_keystore_current_id(ks);
    if (!kek_id)
      snprintf(errstr, errlen, "the keystore holds no key");
    return kek_id;
  }
  if (!sp_key_id_valid(kek_id)) {
    snprintf(errstr, errlen, "bad KEK id (1 to 64 of A-Z a-z 0-9 . _ -)");
    return NULL;
  }
  if (!sp_keystore_has(ks, kek_id)) {
    snprintf(errstr, errlen, "KEK id %s is not in the keystore", kek_id);
    return NULL;
  }
  return kek_id;
}

int sp_keystore_seal(sp_keystore *ks, const char *kek_id,
                     const unsigned char *aad, size_t aadlen,
                     const unsigned char *pt, size_t ptlen, unsigned char *out,
                     size_t *outlen, char *errstr, size_t errlen) {
  if (!ks || !out || !outlen || (!pt && ptlen) || (!aad && aadlen)) {
    snprintf(errstr, errlen, "sp_keystore_seal: missing argument");
    return -1;
  }
  if (ptlen > INT_MAX - SP_SEAL_OVERHEAD || aadlen > INT_MAX) {
    snprintf(errstr, errlen, "sp_keystore_seal: input too large");
    return -1;
  }
  const char *id = resolve_id(ks, kek_id, errstr, errlen);
  if (!id || ks->ops->seal(ks->impl, id, aad, aadlen, pt, ptlen, out, errstr,
                           errlen) != 0)
    return -1;
  *outlen = ptlen + SP_SEAL_OVERHEAD;
  return 0;
}

struct sp_sealer {
  sp_keystore *ks;
  char kek_id[SP_KEK_ID_MAX + 1];
  void *impl; /* the backend's sealing state; NULL: seal() per value */
};

sp_sealer *sp_keystore_sealer(sp_keystore *ks, const char *kek_id,
                              char *errstr, size_t errlen) {
  const char *id = ks ? resolve_id(ks, kek_id, errstr, errlen) : NULL;
  if (!id) {
    if (!ks)
      snprintf(errstr, errlen, "sp_keystore_sealer: missing keystore");
    return NULL;
  }
  sp_sealer *s = calloc(1, sizeof *s);
  if (!s) {
    snprintf(errstr, errlen, "out of memory");
    return NULL;
  }
  s->ks = ks;
  snprintf(s->kek_id, sizeof s->kek_id, "%s", id);
  if (ks->ops->sealer_new &&
      !(s->impl = ks->ops->sealer_new(ks->impl, id, errstr, errlen))) {
    free(s);
    return NULL;
  }
  return s;
}

const char *sp_sealer_kek_id(const sp_sealer *s) { return s->kek_id; }

int sp_sealer_seal(sp_sealer *s, const unsigned char *aad, size_t aadlen,
                   const unsigned char *pt, size_t ptlen, unsigned char *out,
                   size_t *outlen, char *errstr, size_t errlen) {
  if (!s || !out || !outlen || (!pt && ptlen) || (!aad && aadlen) ||
      ptlen > INT_MAX - SP_SEAL_OVERHEAD || aadlen > INT_MAX) {
    snprintf(errstr, errlen, "sp_sealer_seal: bad argument");
    return -1;
  }
  int rc = s->impl ? s->ks->ops->sealer_seal(s->impl, aad, aadlen, pt, ptlen,
                                             out, errstr, errlen)
                   : s->ks->ops->seal(s->ks->impl, s->kek_id, aad, aadlen,
                                      pt, ptlen, out, errstr, errlen);
  if (rc != 0)
    return -1;
  *outlen = ptlen + SP_SEAL_OVERHEAD;
  return 0;
}

void sp_sealer_free(sp_sealer *s) {
  if (!s)
    return;
  if (s->impl)
    s->ks->ops->sealer_free(s->impl);
  free(s);
}

int sp_keystore_open(sp_keystore *ks, const char *kek_id,
                     const unsigned char *aad, size_t aadlen,
                     const unsigned char *in, size_t inlen, unsigned char *out,
                     size_t *outlen, char *errstr, size_t errlen) {
  if (!ks || !in || !out || !outlen || (!aad && aadlen)) {
    snprintf(errstr, errlen, "sp_keystore_open: missing argument");
    return -1;
  }
  if (inlen < SP_SEAL_OVERHEAD) {
    snprintf(errstr, errlen, "sealed value too short (%zu bytes, at least %d)",
             inlen, SP_SEAL_OVERHEAD);
    return -1;
  }
  if (inlen > INT_MAX || aadlen > INT_MAX) {
    snprintf(errstr, errlen, "sp_keystore_open: input too large");
    return -1;
  }
  const char *id = resolve_id(ks, kek_id, errstr, errlen);
  if (!id || ks->ops->open(ks->impl, id, aad, aadlen, in, inlen, out, errstr,
                           errlen) != 0)
    return -1;
  *outlen = inlen - SP_SEAL_OVERHEAD;
  return 0;
}
