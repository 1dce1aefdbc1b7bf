/* certinfo.h - internal: printable facts about certificates and CMS. */
#ifndef SIMPKI_SIGVERIFY_CERTINFO_H
#define SIMPKI_SIGVERIFY_CERTINFO_H

#include <openssl/cms.h>
#include <openssl/x509.h>
#include <time.h>

#include "sigverify.h"

void sp_sv_name(const X509_NAME *name, char *out, size_t len);
int sp_sv_asn1_time(const ASN1_TIME *t, time_t *out);
/* Subject, issuer, serial, fingerprint and validity into the report. */
void sp_sv_signer_facts(X509 *x, sp_sig_report *r);
/* 1 found, 0 absent, -1 malformed. */
int sp_sv_signing_time(CMS_SignerInfo *si, time_t *out);
/* "digitalSignature,nonRepudiation" or "(none)". */
void sp_sv_key_usage(X509 *x, char *out, size_t len);
int sp_sv_revocation_time(STACK_OF(X509_CRL) *crls, X509 *x, time_t *out);

#endif
