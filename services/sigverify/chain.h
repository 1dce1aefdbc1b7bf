/* chain.h - internal: certificate path, validity and revocation checks. */
#ifndef SIMPKI_SIGVERIFY_CHAIN_H
#define SIMPKI_SIGVERIFY_CHAIN_H

#include <openssl/x509.h>

#include "sigverify.h"
#include "store.h"

/* Fills the certificate_chain, validity_at_*, revocation and (for weak
 * certificates in the chain) crypto_constraints checks. crl: whether a
 * CRL folder is configured (revocation is checked either way). */
void sp_sv_check_chain(sp_sig_report *r, sp_sv_store *st, X509 *signer,
                       STACK_OF(X509) *cms_certs, int crl);

#endif
