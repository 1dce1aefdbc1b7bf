/* keystore_file.c - the file backend of the keystore: KEKs read from a
 * protected text file into locked memory, AES-256-GCM done here.
 *
 *   # comment
 *   kek-2026-02 <64 hex digits>     <- first key: the current one
 *   kek-2026-01 <64 hex digits>     <- older keys, still able to open
 *
 * Nonces are random (96 bits). NIST SP 800-38D bounds that to 2^32 seals
 * per key; a KEK seals three values per SIM, so rotate long before ~1e9
 * SIMs. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "crypto.h"

#define KEYFILE_MAX_BYTES (1024 * 1024)

typedef struct {
  char id[SP_KEK_ID_MAX + 1];
  unsigned char key[SP_AES256_KEY_BYTES];
  unsigned long line;
} kf_entry;

typedef struct {
  kf_entry *e; /* sp_secure_alloc'd: cap entries */
  size_t n, cap;
  EVP_CIPHER *gcm; /* fetched once: a fetch per seal costs more than AES */
} keyfile;

static const kf_entry *kf_find(const keyfile *kf, const char *id) {
  for (size_t i = 0; i < kf->n; i++)
    if (!strcmp(kf->e[i].id, id))
      return &kf->e[i];
  return NULL;
}

static const char *kf_current_id(void *impl) {
  keyfile *kf = impl;
  return kf->n ? kf->e[0].id : NULL;
}

static size_t kf_count(void *impl) { return ((keyfile *)impl)->n; }

static const char *kf_id(void *impl, size_t i) {
  return ((keyfile *)impl)->e[i].id;
}

static int kf_seal(void *impl, const char *kek_id, const unsigned char *aad,
                   size_t aadlen, const unsigned char *pt, size_t ptlen,
                   unsigned char *out, char *errstr, size_t errlen) {
  keyfile *kf = impl;
  const kf_entry *k = kf_find(kf, kek_id);
  unsigned char *nonce = out, *ct = out + SP_SEAL_NONCE_BYTES;
  EVP_CIPHER_CTX *ctx = NULL;
  int n = 0, m = 0, ok = 0;
  if (!k || sp_random_bytes(nonce, SP_SEAL_NONCE_BYTES, errstr, errlen) != 0)
    goto done;
  ctx = EVP_CIPHER_CTX_new();
  if (ctx && EVP_EncryptInit_ex2(ctx, kf->gcm, k->key, nonce, NULL) == 1 &&
      (aadlen == 0 ||
       EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)aadlen) == 1) &&
      (ptlen == 0 || EVP_EncryptUpdate(ctx, ct, &n, pt, (int)ptlen) == 1) &&
      EVP_EncryptFinal_ex(ctx, ct + (ptlen ? n : 0), &m) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, SP_SEAL_TAG_BYTES,
                          ct + ptlen) == 1)
    ok = 1;
  else
    snprintf(errstr, errlen, "AES-256-GCM encryption failed");
done:
  if (!k)
    snprintf(errstr, errlen, "KEK id %s is not in the keystore", kek_id);
  EVP_CIPHER_CTX_free(ctx); /* cleanses the key schedule */
  ERR_clear_error();
  return ok ? 0 : -1;
}

static int kf_open(void *impl, const char *kek_id, const unsigned char *aad,
                   size_t aadlen, const unsigned char *in, size_t inlen,
                   unsigned char *out, char *errstr, size_t errlen) {
  keyfile *kf = impl;
  const kf_entry *k = kf_find(kf, kek_id);
  size_t ctlen = inlen - SP_SEAL_OVERHEAD;
  unsigned char tag[SP_SEAL_TAG_BYTES];
  EVP_CIPHER_CTX *ctx = NULL;
  int n = 0, m = 0, ok = 0;
  if (!k) {
    snprintf(errstr, errlen, "KEK id %s is not in the keystore", kek_id);
    return -1;
  }
  memcpy(tag, in + inlen - SP_SEAL_TAG_BYTES, sizeof tag);
  ctx = EVP_CIPHER_CTX_new();
  if (!ctx || EVP_DecryptInit_ex2(ctx, kf->gcm, k->key, in, NULL) != 1)
    snprintf(errstr, errlen, "AES-256-GCM is not available");
  else if ((aadlen &&
            EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aadlen) != 1) ||
           (ctlen && EVP_DecryptUpdate(ctx, out, &n, in + SP_SEAL_NONCE_BYTES,
                                       (int)ctlen) != 1) ||
           EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, sizeof tag, tag) !=
               1 ||
           EVP_DecryptFinal_ex(ctx, out + (ctlen ? n : 0), &m) != 1)
    snprintf(errstr, errlen,
             "integrity check failed (wrong KEK, wrong associated data or "
             "altered data)");
  else
    ok = 1;
  EVP_CIPHER_CTX_free(ctx);
  ERR_clear_error();
  if (!ok)
    sp_wipe(out, ctlen); /* never hand out unauthenticated plaintext */
  return ok ? 0 : -1;
}

/* A sealer: the GCM context keyed once, nonces drawn from the DRBG in
 * batches (the same random bytes, fewer calls). */
#define NONCE_BATCH 256

typedef struct {
  EVP_CIPHER_CTX *ctx;
  unsigned char nonces[NONCE_BATCH * SP_SEAL_NONCE_BYTES];
  size_t next; /* nonces used */
} kf_sealer;

static void kf_sealer_free(void *p) {
  kf_sealer *s = p;
  if (!s)
    return;
  EVP_CIPHER_CTX_free(s->ctx);
  sp_wipe(s->nonces, sizeof s->nonces);
  free(s);
}

static void *kf_sealer_new(void *impl, const char *kek_id, char *errstr,
                           size_t errlen) {
  keyfile *kf = impl;
  const kf_entry *k = kf_find(kf, kek_id);
  kf_sealer *s = k ? calloc(1, sizeof *s) : NULL;
  if (!s) {
    snprintf(errstr, errlen, k ? "out of memory"
                               : "KEK id is not in the keystore");
    return NULL;
  }
  s->next = NONCE_BATCH;
  if (!(s->ctx = EVP_CIPHER_CTX_new()) ||
      EVP_EncryptInit_ex2(s->ctx, kf->gcm, k->key, NULL, NULL) != 1) {
    ERR_clear_error();
    snprintf(errstr, errlen, "AES-256-GCM is not available");
    kf_sealer_free(s);
    return NULL;
  }
  return s;
}

static int kf_sealer_seal(void *p, const unsigned char *aad, size_t aadlen,
                          const unsigned char *pt, size_t ptlen,
                          unsigned char *out, char *errstr, size_t errlen) {
  kf_sealer *s = p;
  if (s->next == NONCE_BATCH) {
    if (sp_random_bytes(s->nonces, sizeof s->nonces, errstr, errlen))
      return -1;
    s->next = 0;
  }
  unsigned char *nonce = out, *ct = out + SP_SEAL_NONCE_BYTES;
  memcpy(nonce, s->nonces + s->next * SP_SEAL_NONCE_BYTES,
         SP_SEAL_NONCE_BYTES);
  sp_wipe(s->nonces + s->next * SP_SEAL_NONCE_BYTES, SP_SEAL_NONCE_BYTES);
  s->next++;
  int n = 0, m = 0;
  if (EVP_EncryptInit_ex2(s->ctx, NULL, NULL, nonce, NULL) == 1 &&
      (aadlen == 0 ||
       EVP_EncryptUpdate(s->ctx, NULL, &n, aad, (int)aadlen) == 1) &&
      (ptlen == 0 || EVP_EncryptUpdate(s->ctx, ct, &n, pt, (int)ptlen) == 1) &&
      EVP_EncryptFinal_ex(s->ctx, ct + (ptlen ? n : 0), &m) == 1 &&
      EVP_CIPHER_CTX_ctrl(s->ctx, EVP_CTRL_AEAD_GET_TAG, SP_SEAL_TAG_BYTES,
                          ct + ptlen) == 1)
    return 0;
  ERR_clear_error();
  snprintf(errstr, errlen, "AES-256-GCM encryption failed");
  return -1;
}

static void kf_close(void *impl) {
  keyfile *kf = impl;
  if (!kf)
    return;
  EVP_CIPHER_free(kf->gcm);
  sp_secure_free(kf->e, kf->cap * sizeof *kf->e);
  free(kf);
}

static const sp_keystore_ops file_ops = {
    .name = "file",
    .current_id = kf_current_id,
    .count = kf_count,
    .id = kf_id,
    .seal = kf_seal,
    .open = kf_open,
    .close = kf_close,
    .sealer_new = kf_sealer_new,
    .sealer_seal = kf_sealer_seal,
    .sealer_free = kf_sealer_free,
};

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

/* One line [p, end). Errors name the line but never quote it: a key pasted
 * into the wrong column must not end up in a log. */
static int parse_line(keyfile *kf, const char *p, const char *end,
                      unsigned long line, const char *origin, char *errstr,
                      size_t errlen) {
  while (p < end && is_blank(*p))
    p++;
  while (end > p && is_blank(end[-1]))
    end--;
  if (p == end || *p == '#')
    return 0;
  const char *id = p;
  while (p < end && !is_blank(*p))
    p++;
  size_t idlen = (size_t)(p - id);
  while (p < end && is_blank(*p))
    p++;
  const char *hex = p;
  while (p < end && !is_blank(*p))
    p++;
  size_t hexlen = (size_t)(p - hex);
  if (hexlen == 0 || p != end) {
    snprintf(errstr, errlen, "%s line %lu: expected \"KEK_ID HEX64\"", origin,
             line);
    return -1;
  }
  kf_entry *e = &kf->e[kf->n];
  if (idlen > SP_KEK_ID_MAX) {
    snprintf(errstr, errlen,
             "%s line %lu: bad key id (1 to 64 of A-Z a-z 0-9 . _ -)", origin,
             line);
    return -1;
  }
  memcpy(e->id, id, idlen);
  e->id[idlen] = '\0';
  int rc = -1;
  size_t got = 0;
  if (!sp_key_id_valid(e->id))
    snprintf(errstr, errlen,
             "%s line %lu: bad key id (1 to 64 of A-Z a-z 0-9 . _ -)", origin,
             line);
  else if (hexlen != 2 * SP_AES256_KEY_BYTES)
    snprintf(errstr, errlen,
             "%s line %lu: the key must be 64 hex digits (256 bits), not %zu "
             "characters",
             origin, line, hexlen);
  else if (sp_hex_decode(hex, hexlen, e->key, sizeof e->key, &got) != 0)
    snprintf(errstr, errlen,
             "%s line %lu: the key must be 64 hex digits (0-9 a-f A-F)", origin,
             line);
  else {
    unsigned char any = 0;
    for (size_t i = 0; i < sizeof e->key; i++)
      any |= e->key[i];
    const kf_entry *dup = kf_find(kf, e->id);
    if (!any)
      snprintf(errstr, errlen,
               "%s line %lu: the key is all zeros (a placeholder?)", origin,
               line);
    else if (dup)
      snprintf(errstr, errlen,
               "%s line %lu: duplicate key id (first on line %lu)", origin,
               line, dup->line);
    else
      rc = 0;
  }
  if (rc != 0) {
    sp_wipe(e, sizeof *e);
    return -1;
  }
  e->line = line;
  kf->n++;
  return 0;
}

sp_keystore *sp_keystore_parse(const char *text, size_t len, const char *origin,
                               int allow_empty, char *errstr, size_t errlen) {
  if (!text && len) {
    snprintf(errstr, errlen, "sp_keystore_parse: no text");
    return NULL;
  }
  if (!origin)
    origin = "key file";
  size_t lines = 1;
  for (size_t i = 0; i < len; i++)
    lines += text[i] == '\n';
  keyfile *kf = calloc(1, sizeof *kf);
  if (!kf || lines > SIZE_MAX / sizeof(kf_entry)) {
    free(kf);
    snprintf(errstr, errlen, "out of memory");
    return NULL;
  }
  /* One slot per line: the array never grows, so no copy of a key is left
   * behind in freed memory. */
  kf->cap = lines;
  kf->e = sp_secure_alloc(lines * sizeof(kf_entry));
  kf->gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
  if (!kf->e || !kf->gcm) {
    snprintf(errstr, errlen,
             kf->e ? "AES-256-GCM is not available" : "out of memory");
    kf_close(kf);
    ERR_clear_error();
    return NULL;
  }
  const char *p = text, *end = text + len;
  unsigned long line = 0;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *le = nl ? nl : end;
    if (parse_line(kf, p, le, ++line, origin, errstr, errlen) != 0) {
      kf_close(kf);
      return NULL;
    }
    p = nl ? nl + 1 : end;
  }
  if (kf->n == 0 && !allow_empty) {
    snprintf(errstr, errlen, "%s holds no key (one \"KEK_ID HEX64\" per line)",
             origin);
    kf_close(kf);
    return NULL;
  }
  return sp_keystore_new(&file_ops, kf, errstr, errlen);
}

sp_keystore *sp_keystore_open_file(const char *path, char *errstr,
                                   size_t errlen) {
  char *text;
  size_t len;
  if (!path || !*path) {
    snprintf(errstr, errlen, "no KEK file given");
    return NULL;
  }
  if (sp_secret_file_read(path, "KEK file", KEYFILE_MAX_BYTES, &text, &len,
                          errstr, errlen) != 0)
    return NULL;
  char origin[512];
  snprintf(origin, sizeof origin, "KEK file %s", path);
  sp_keystore *ks = sp_keystore_parse(text, len, origin, 0, errstr, errlen);
  sp_secure_free(text, len + 1);
  return ks;
}
