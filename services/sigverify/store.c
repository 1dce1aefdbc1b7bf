/* store.c - the trust anchors, CRLs and certificate pool, read from their
 * folders and read again when a folder's files change. */
#include <dirent.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "store.h"

/* FNV-1a over one entry; entries are summed so readdir order is moot. */
static uint64_t fnv(uint64_t h, const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++)
    h = (h ^ b[i]) * 1099511628211ULL;
  return h;
}

typedef void (*file_fn)(const char *path, void *arg);

/* Calls fn (when given) for each regular file not starting with '.', and
 * returns the folder's fingerprint in *fp. -1 when it cannot be read. */
static int walk(const char *dir, file_fn fn, void *arg, uint64_t *fp) {
  DIR *d = opendir(dir);
  if (!d)
    return -1;
  uint64_t sum = 0, count = 0;
  struct dirent *de;
  char path[4096];
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    if (snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >=
        (int)sizeof path)
      continue;
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
      continue;
    uint64_t h = fnv(14695981039346656037ULL, de->d_name, strlen(de->d_name));
    h = fnv(h, &st.st_size, sizeof st.st_size);
    h = fnv(h, &st.st_mtim.tv_sec, sizeof st.st_mtim.tv_sec);
    h = fnv(h, &st.st_mtim.tv_nsec, sizeof st.st_mtim.tv_nsec);
    h = fnv(h, &st.st_ino, sizeof st.st_ino);
    sum += h;
    count++;
    if (fn)
      fn(path, arg);
  }
  closedir(d);
  *fp = fnv(sum, &count, sizeof count);
  return 0;
}

struct load {
  STACK_OF(X509) *certs;    /* NULL: certificates are not wanted here */
  STACK_OF(X509_CRL) *crls; /* NULL: CRLs are not wanted here */
};

/* One PEM object. Only certificates and CRLs are decoded: anything else
 * (a private key dropped in by mistake) is skipped unread. */
static void load_pem(struct load *l, const char *name,
                     const unsigned char *data, long len, int *found,
                     int *wrong) {
  const unsigned char *p = data;
  if (!strcmp(name, PEM_STRING_X509) || !strcmp(name, PEM_STRING_X509_OLD)) {
    X509 *x = l->certs ? d2i_X509(NULL, &p, len) : NULL;
    if (x && sk_X509_push(l->certs, x))
      (*found)++;
    else
      X509_free(x), (*wrong)++;
  } else if (!strcmp(name, PEM_STRING_X509_CRL)) {
    X509_CRL *c = l->crls ? d2i_X509_CRL(NULL, &p, len) : NULL;
    if (c && sk_X509_CRL_push(l->crls, c))
      (*found)++;
    else
      X509_CRL_free(c), (*wrong)++;
  } else {
    (*wrong)++;
  }
}

/* A file holds PEM objects (any number) or one DER certificate or CRL. */
static void load_file(const char *path, void *arg) {
  struct load *l = arg;
  int found = 0, wrong = 0, pem = 0;
  BIO *b = BIO_new_file(path, "rb");
  if (!b) {
    sp_warn("sigverify: cannot open file", "file", path);
    ERR_clear_error();
    return;
  }
  char *name = NULL, *header = NULL;
  unsigned char *data = NULL;
  long len = 0;
  while (PEM_read_bio(b, &name, &header, &data, &len) == 1) {
    pem++;
    load_pem(l, name, data, len, &found, &wrong);
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
  }
  if (!pem && BIO_reset(b) == 0) {
    X509 *x = l->certs ? d2i_X509_bio(b, NULL) : NULL;
    X509_CRL *c = NULL;
    if (!x && l->crls && BIO_reset(b) == 0)
      c = d2i_X509_CRL_bio(b, NULL);
    if (x && sk_X509_push(l->certs, x))
      found++;
    else if (c && sk_X509_CRL_push(l->crls, c))
      found++;
    else
      X509_free(x), X509_CRL_free(c);
  }
  BIO_free(b);
  ERR_clear_error();
  if (wrong)
    sp_warn("sigverify: file holds objects that are unreadable or do not "
            "belong in its folder (ignored)", "file", path);
  if (!found && !wrong)
    sp_warn("sigverify: no certificate or CRL in file (ignored)", "file",
            path);
}

static void free_sets(sp_sv_store *s) {
  X509_STORE_free(s->store);
  sk_X509_pop_free(s->anchors, X509_free);
  sk_X509_CRL_pop_free(s->crls, X509_CRL_free);
  s->store = NULL, s->anchors = NULL, s->crls = NULL;
}

/* Anchors and CRLs live in one X509_STORE, so either change rebuilds it. */
static int load_trust(sp_sv_store *s, char *errstr, size_t errlen) {
  STACK_OF(X509) *anchors = sk_X509_new_null();
  STACK_OF(X509_CRL) *crls = sk_X509_CRL_new_null();
  X509_STORE *st = X509_STORE_new();
  uint64_t tfp = 0, cfp = 0;
  struct load la = {anchors, NULL}, lc = {NULL, crls};
  if (!anchors || !crls || !st) {
    snprintf(errstr, errlen, "out of memory");
    goto fail;
  }
  if (walk(s->trust_dir, load_file, &la, &tfp) != 0) {
    snprintf(errstr, errlen, "cannot read trust folder %s: %s", s->trust_dir,
             strerror(errno));
    goto fail;
  }
  if (s->crl_dir && walk(s->crl_dir, load_file, &lc, &cfp) != 0) {
    snprintf(errstr, errlen, "cannot read CRL folder %s: %s", s->crl_dir,
             strerror(errno));
    goto fail;
  }
  for (int i = 0; i < sk_X509_num(anchors); i++)
    X509_STORE_add_cert(st, sk_X509_value(anchors, i));
  for (int i = 0; i < sk_X509_CRL_num(crls); i++)
    X509_STORE_add_crl(st, sk_X509_CRL_value(crls, i));
  ERR_clear_error(); /* duplicates are harmless */
  free_sets(s);
  s->store = st, s->anchors = anchors, s->crls = crls;
  s->trust_fp = tfp, s->crl_fp = cfp;
  return 0;
fail:
  X509_STORE_free(st);
  sk_X509_pop_free(anchors, X509_free);
  sk_X509_CRL_pop_free(crls, X509_CRL_free);
  return -1;
}

static int load_pool(sp_sv_store *s, char *errstr, size_t errlen) {
  STACK_OF(X509) *pool = sk_X509_new_null();
  uint64_t fp = 0;
  struct load l = {pool, NULL};
  if (!pool) {
    snprintf(errstr, errlen, "out of memory");
    return -1;
  }
  if (s->pool_dir && walk(s->pool_dir, load_file, &l, &fp) != 0) {
    snprintf(errstr, errlen, "cannot read pool folder %s: %s", s->pool_dir,
             strerror(errno));
    sk_X509_pop_free(pool, X509_free);
    return -1;
  }
  sk_X509_pop_free(s->pool, X509_free);
  s->pool = pool;
  s->pool_fp = fp;
  return 0;
}

int sp_sv_store_open(sp_sv_store *s, const char *trust_dir,
                     const char *crl_dir, const char *pool_dir, char *errstr,
                     size_t errlen) {
  memset(s, 0, sizeof *s);
  if (!trust_dir || !*trust_dir) {
    snprintf(errstr, errlen, "no trust folder given");
    return -1;
  }
  s->trust_dir = strdup(trust_dir);
  s->crl_dir = crl_dir && *crl_dir ? strdup(crl_dir) : NULL;
  s->pool_dir = pool_dir && *pool_dir ? strdup(pool_dir) : NULL;
  if (!s->trust_dir || (crl_dir && *crl_dir && !s->crl_dir) ||
      (pool_dir && *pool_dir && !s->pool_dir)) {
    snprintf(errstr, errlen, "out of memory");
    sp_sv_store_close(s);
    return -1;
  }
  if (load_trust(s, errstr, errlen) != 0 ||
      load_pool(s, errstr, errlen) != 0) {
    sp_sv_store_close(s);
    return -1;
  }
  if (sk_X509_num(s->anchors) == 0) {
    snprintf(errstr, errlen, "no certificate in trust folder %s", trust_dir);
    sp_sv_store_close(s);
    return -1;
  }
  return 0;
}

void sp_sv_store_refresh(sp_sv_store *s) {
  char err[512];
  uint64_t fp = 0;
  int trust_changed = walk(s->trust_dir, NULL, NULL, &fp) != 0 ||
                      fp != s->trust_fp;
  if (s->crl_dir && (walk(s->crl_dir, NULL, NULL, &fp) != 0 ||
                     fp != s->crl_fp))
    trust_changed = 1;
  if (trust_changed) {
    /* A folder that became unreadable keeps the last good set: a check
     * then still fails closed on stale CRLs (nextUpdate), never opens. */
    if (load_trust(s, err, sizeof err) != 0)
      sp_warn("sigverify: reload failed, keeping the previous set", "error",
              err);
    else
      sp_info("sigverify: trust anchors and CRLs reloaded");
  }
  if (s->pool_dir &&
      (walk(s->pool_dir, NULL, NULL, &fp) != 0 || fp != s->pool_fp)) {
    if (load_pool(s, err, sizeof err) != 0)
      sp_warn("sigverify: pool reload failed, keeping the previous set",
              "error", err);
    else
      sp_info("sigverify: certificate pool reloaded");
  }
}

void sp_sv_store_close(sp_sv_store *s) {
  free_sets(s);
  sk_X509_pop_free(s->pool, X509_free);
  free(s->trust_dir);
  free(s->crl_dir);
  free(s->pool_dir);
  memset(s, 0, sizeof *s);
}
