/* policy.c - what an OpenSSL verdict means for the report, and which
 * algorithms are strong enough. Pure: only OpenSSL's constants. */
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/x509_vfy.h>
#include <stdio.h>

#include "sigverify.h"

void sp_sig_map_x509_error(int e, sp_sig_check_id *check,
                           sp_sig_subindication *sub) {
  sp_sig_check_id c = SP_CHECK_CERTIFICATE_CHAIN;
  sp_sig_subindication s = SP_SUB_CERTIFICATE_CHAIN_GENERAL_FAILURE;
  switch (e) {
  /* No path to an anchor: another anchor or intermediate could fix it. */
  case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
  case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
  case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
  case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
  case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
  case X509_V_ERR_CERT_UNTRUSTED:
  case X509_V_ERR_CERT_CHAIN_TOO_LONG:
    s = SP_SUB_NO_CERTIFICATE_CHAIN_FOUND;
    break;
  case X509_V_ERR_INVALID_CA:
  case X509_V_ERR_PATH_LENGTH_EXCEEDED:
  case X509_V_ERR_INVALID_PURPOSE:
  case X509_V_ERR_CERT_REJECTED:
  case X509_V_ERR_KEYUSAGE_NO_CERTSIGN:
  case X509_V_ERR_INVALID_EXTENSION:
  case X509_V_ERR_INVALID_POLICY_EXTENSION:
  case X509_V_ERR_NO_EXPLICIT_POLICY:
  case X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION:
  case X509_V_ERR_PERMITTED_VIOLATION:
  case X509_V_ERR_EXCLUDED_VIOLATION:
  case X509_V_ERR_SUBTREE_MINMAX:
  case X509_V_ERR_UNSUPPORTED_CONSTRAINT_TYPE:
  case X509_V_ERR_UNSUPPORTED_NAME_SYNTAX:
    s = SP_SUB_CHAIN_CONSTRAINTS_FAILURE;
    break;
  case X509_V_ERR_EE_KEY_TOO_SMALL:
  case X509_V_ERR_CA_KEY_TOO_SMALL:
  case X509_V_ERR_CA_MD_TOO_WEAK:
    c = SP_CHECK_CRYPTO_CONSTRAINTS;
    s = SP_SUB_CRYPTO_CONSTRAINTS_FAILURE;
    break;
  /* Validity periods: the caller tells signing from validation time and
   * refines EXPIRED into OUT_OF_BOUNDS_NO_POE where ETSI says so. */
  case X509_V_ERR_CERT_HAS_EXPIRED:
    c = SP_CHECK_VALIDITY_AT_VALIDATION_TIME;
    s = SP_SUB_EXPIRED;
    break;
  case X509_V_ERR_CERT_NOT_YET_VALID:
    c = SP_CHECK_VALIDITY_AT_VALIDATION_TIME;
    s = SP_SUB_NOT_YET_VALID;
    break;
  case X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD:
  case X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD:
    c = SP_CHECK_VALIDITY_AT_VALIDATION_TIME;
    s = SP_SUB_CERTIFICATE_CHAIN_GENERAL_FAILURE;
    break;
  case X509_V_ERR_CERT_REVOKED:
    c = SP_CHECK_REVOCATION;
    s = SP_SUB_REVOKED;
    break;
  /* No usable revocation information now: a fresh CRL may settle it. */
  case X509_V_ERR_UNABLE_TO_GET_CRL:
  case X509_V_ERR_CRL_HAS_EXPIRED:
  case X509_V_ERR_CRL_NOT_YET_VALID:
  case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
    c = SP_CHECK_REVOCATION;
    s = SP_SUB_TRY_LATER;
    break;
  case X509_V_ERR_CRL_SIGNATURE_FAILURE:
  case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
  case X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD:
  case X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD:
  case X509_V_ERR_KEYUSAGE_NO_CRL_SIGN:
  case X509_V_ERR_UNHANDLED_CRITICAL_CRL_EXTENSION:
  case X509_V_ERR_DIFFERENT_CRL_SCOPE:
  case X509_V_ERR_CRL_PATH_VALIDATION_ERROR:
    c = SP_CHECK_REVOCATION;
    s = SP_SUB_CERTIFICATE_CHAIN_GENERAL_FAILURE;
    break;
  default:
    break;
  }
  if (check)
    *check = c;
  if (sub)
    *sub = s;
}

/* SHA-1 and MD5 are broken for signatures; SHA-224 is left out as too
 * short for documents meant to last. */
int sp_sig_digest_allowed(int md_nid) {
  switch (md_nid) {
  case NID_sha256:
  case NID_sha384:
  case NID_sha512:
  case NID_sha3_256:
  case NID_sha3_384:
  case NID_sha3_512:
    return 1;
  default:
    return 0;
  }
}

int sp_sig_key_allowed(int pkey_id, int bits, char *why, size_t whylen) {
  int min = 0;
  const char *kind = NULL;
  switch (pkey_id) {
  case EVP_PKEY_RSA:
  case EVP_PKEY_RSA_PSS:
    min = 2048, kind = "RSA";
    break;
  case EVP_PKEY_DSA:
    min = 2048, kind = "DSA";
    break;
  case EVP_PKEY_EC:
    min = 256, kind = "EC";
    break;
  case EVP_PKEY_ED25519:
  case EVP_PKEY_ED448:
    return 1;
  default:
    snprintf(why, whylen, "key type %d is not accepted", pkey_id);
    return 0;
  }
  if (bits < min) {
    snprintf(why, whylen, "%s key of %d bits, at least %d required", kind,
             bits, min);
    return 0;
  }
  return 1;
}
