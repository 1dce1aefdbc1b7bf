/* store.h - internal: the folders a sigverify context reads. */
#ifndef SIMPKI_SIGVERIFY_STORE_H
#define SIMPKI_SIGVERIFY_STORE_H

#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sp_sv_store {
  char *trust_dir, *crl_dir, *pool_dir;
  uint64_t trust_fp, crl_fp, pool_fp; /* folder fingerprints */
  X509_STORE *store;                  /* anchors and CRLs */
  STACK_OF(X509) *anchors;
  STACK_OF(X509_CRL) *crls;
  STACK_OF(X509) *pool;               /* untrusted intermediates */
} sp_sv_store;

int sp_sv_store_open(sp_sv_store *s, const char *trust_dir,
                     const char *crl_dir, const char *pool_dir, char *errstr,
                     size_t errlen);
/* Reload the folders whose files changed since the last load. */
void sp_sv_store_refresh(sp_sv_store *s);
void sp_sv_store_close(sp_sv_store *s);

#endif
