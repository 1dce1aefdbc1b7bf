/* crypto.h - SIM key protection: AES key wrap (RFC 3394) for the vendors'
 * transport keys, and the key-encryption keys (KEKs) that seal every stored
 * Ki, OPc and ADM1 with AES-256-GCM.
 *
 * Rules every function here keeps: no key, plaintext or hex of either ever
 * appears in errstr (so callers may log errstr as is); buffers that held key
 * material are wiped before they are freed. Functions return 0 on success
 * and -1 with errstr on failure. A keystore is read-only once opened, so one
 * keystore may be used by several threads at once. */
#ifndef SIMPKI_CRYPTO_H
#define SIMPKI_CRYPTO_H

#include <stddef.h>

#define SP_AES256_KEY_BYTES 32
#define SP_SEAL_NONCE_BYTES 12
#define SP_SEAL_TAG_BYTES 16
#define SP_SEAL_OVERHEAD 28 /* 12-byte nonce + 16-byte GCM tag */
#define SP_KEYWRAP_OVERHEAD 8
#define SP_KEK_ID_MAX 64 /* characters, without the NUL */

void sp_wipe(void *p, size_t n); /* OPENSSL_cleanse */

/* Memory for key material: page-locked when the system allows it (failure
 * is ignored), left out of core dumps, zeroed. sp_secure_free wipes it.
 * Whole pages from mmap, a system call each: allocate once and reuse it,
 * not once per SIM. */
void *sp_secure_alloc(size_t n);
void sp_secure_free(void *p, size_t n);

/* Cryptographically strong random bytes. */
int sp_random_bytes(unsigned char *out, size_t n, char *errstr, size_t errlen);

/* RFC 3394 AES-256 key wrap: inlen a multiple of 8, >= 16; out has inlen+8
 * bytes. */
int sp_keywrap(const unsigned char kek[32], const unsigned char *in,
               size_t inlen, unsigned char *out, size_t *outlen, char *errstr,
               size_t errlen);
/* Returns -1 with "integrity check failed" when the wrap does not verify
 * (wrong key, flipped bit); out has inlen-8 bytes. */
int sp_keyunwrap(const unsigned char kek[32], const unsigned char *in,
                 size_t inlen, unsigned char *out, size_t *outlen, char *errstr,
                 size_t errlen);

/* Many unwraps under one key (a vendor file's thousands of keys): the
 * cipher is fetched and the key scheduled once, not per key. The unwrapper
 * holds the key; free it as soon as the file is done. */
typedef struct sp_unwrapper sp_unwrapper;
sp_unwrapper *sp_unwrapper_new(const unsigned char kek[32], char *errstr,
                               size_t errlen);
/* Same contract as sp_keyunwrap. */
int sp_unwrapper_run(sp_unwrapper *u, const unsigned char *in, size_t inlen,
                     unsigned char *out, size_t *outlen, char *errstr,
                     size_t errlen);
/* Many wrapped 128-bit keys at once (count x 24 bytes in, count x 16 out):
 * RFC 3394's twelve AES steps each run over all the keys in one call, so
 * AES-NI works on many blocks in a row instead of one. ok[k] is 1 when key k
 * passed its integrity check, 0 when not (its 16 output bytes wiped).
 * Returns how many failed, or -1 (errstr) when AES itself failed. At most
 * SP_UNWRAP_MANY keys per call. */
#define SP_UNWRAP_MANY 512
int sp_unwrapper_run_many(sp_unwrapper *u, const unsigned char *in,
                          size_t count, unsigned char *out, unsigned char *ok,
                          char *errstr, size_t errlen);
void sp_unwrapper_free(sp_unwrapper *u);

/* Hex helpers: strict, even length, [0-9a-fA-F]; 0 ok, -1 bad (out may then
 * hold part of the value: wipe it if it is secret). */
int sp_hex_decode(const char *hex, size_t hexlen, unsigned char *out,
                  size_t outcap, size_t *outlen);
void sp_hex_encode(const unsigned char *in, size_t len,
                   char *out /* 2*len+1 */);

/* 1 when id is [A-Za-z0-9._-]{1,64} (KEK ids and transport key ids). */
int sp_key_id_valid(const char *id);

/* Read a file that holds a secret: a regular file, at most max_bytes, that
 * neither group nor others may read or write (refused with its mode named).
 * *out is NUL-terminated, from sp_secure_alloc(*len + 1); release it with
 * sp_secure_free(*out, *len + 1). what names the file in errors. */
int sp_secret_file_read(const char *path, const char *what, size_t max_bytes,
                        char **out, size_t *len, char *errstr, size_t errlen);

/* The key-encryption keys, behind a small interface so an HSM/PKCS#11
 * backend can replace the file later. */
typedef struct sp_keystore sp_keystore;

/* File backend: one key per line "KEK_ID HEX64" (blank lines and #
 * comments ok); the FIRST key is the current one; the file must not be
 * readable or writable by group/others (refused with an error naming the
 * mode) and ids are [A-Za-z0-9._-]{1,64}. Errors never contain key material
 * (nor the text of a bad line: a key pasted in the wrong column must not
 * reach a log). */
sp_keystore *sp_keystore_open_file(const char *path, char *errstr,
                                   size_t errlen);
/* The same from text already read; origin names it in errors. With
 * allow_empty, a text without keys gives a keystore with no current key
 * (for tools that add the first one). */
sp_keystore *sp_keystore_parse(const char *text, size_t len, const char *origin,
                               int allow_empty, char *errstr, size_t errlen);
/* Default: open $SIMPKI_KEK_FILE (required). */
sp_keystore *sp_keystore_open_env(char *errstr, size_t errlen);

/* NULL only for an empty keystore from sp_keystore_parse(allow_empty). */
const char *sp_keystore_current_id(const sp_keystore *ks);
int sp_keystore_has(const sp_keystore *ks, const char *kek_id);
/* The ids, current first. */
size_t sp_keystore_count(const sp_keystore *ks);
const char *sp_keystore_id(const sp_keystore *ks, size_t i);

/* AES-256-GCM under kek_id (NULL = current), fresh random 12-byte nonce;
 * out = nonce||ct||tag, *outlen = ptlen + SP_SEAL_OVERHEAD. */
int sp_keystore_seal(sp_keystore *ks, const char *kek_id,
                     const unsigned char *aad, size_t aadlen,
                     const unsigned char *pt, size_t ptlen, unsigned char *out,
                     size_t *outlen, char *errstr, size_t errlen);
/* -1 when the tag does not verify (wrong KEK, wrong AAD e.g. a key copied
 * to another IMSI's row, altered bytes) or kek_id is unknown; out has
 * inlen - SP_SEAL_OVERHEAD bytes. */
int sp_keystore_open(sp_keystore *ks, const char *kek_id,
                     const unsigned char *aad, size_t aadlen,
                     const unsigned char *in, size_t inlen, unsigned char *out,
                     size_t *outlen, char *errstr, size_t errlen);
void sp_keystore_close(sp_keystore *ks); /* wipes key material */

/* Many seals under one KEK by one thread (an ingest's millions): the same
 * output as sp_keystore_seal, without setting the key up each time. One
 * sealer per thread; free it before the keystore. */
typedef struct sp_sealer sp_sealer;
sp_sealer *sp_keystore_sealer(sp_keystore *ks, const char *kek_id,
                              char *errstr, size_t errlen);
const char *sp_sealer_kek_id(const sp_sealer *s);
int sp_sealer_seal(sp_sealer *s, const unsigned char *aad, size_t aadlen,
                   const unsigned char *pt, size_t ptlen, unsigned char *out,
                   size_t *outlen, char *errstr, size_t errlen);
void sp_sealer_free(sp_sealer *s);

/* Backend interface. The public functions above check their arguments
 * (sizes, a known kek_id) and resolve kek_id NULL to the current id before
 * calling seal/open, so a backend only does the cryptography. */
typedef struct sp_keystore_ops {
  const char *name;                      /* "file", later e.g. "pkcs11" */
  const char *(*current_id)(void *impl); /* NULL: no key at all */
  size_t (*count)(void *impl);
  const char *(*id)(void *impl, size_t i); /* every id, current first */
  int (*seal)(void *impl, const char *kek_id, const unsigned char *aad,
              size_t aadlen, const unsigned char *pt, size_t ptlen,
              unsigned char *out, char *errstr, size_t errlen);
  int (*open)(void *impl, const char *kek_id, const unsigned char *aad,
              size_t aadlen, const unsigned char *in, size_t inlen,
              unsigned char *out, char *errstr, size_t errlen);
  void (*close)(void *impl);
  /* Optional, for sp_sealer: a per-thread sealing state under kek_id. A
   * backend without them gets one seal() call per value. */
  void *(*sealer_new)(void *impl, const char *kek_id, char *errstr,
                      size_t errlen);
  int (*sealer_seal)(void *sealer, const unsigned char *aad, size_t aadlen,
                     const unsigned char *pt, size_t ptlen, unsigned char *out,
                     char *errstr, size_t errlen);
  void (*sealer_free)(void *sealer);
} sp_keystore_ops;

/* Takes ownership of impl (ops->close runs on failure too). */
sp_keystore *sp_keystore_new(const sp_keystore_ops *ops, void *impl,
                             char *errstr, size_t errlen);

/* A vendor transport key: file DIR/KEY_ID.key holding 64 hex digits (one
 * line); key_id [A-Za-z0-9._-]{1,64}; same permission rule. */
int sp_transport_key_load(const char *dir, const char *key_id,
                          unsigned char out[32], char *errstr, size_t errlen);

#endif
