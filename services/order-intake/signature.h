/* signature.h - order-intake's signature checks, done in-process by the
 * sigverify library so that a badly signed order is refused in the same
 * request (the sigverify service serves the asynchronous checks). */
#ifndef OI_SIGNATURE_H
#define OI_SIGNATURE_H

#include "intake.h"

/* Open the verifier from SIMPKI_SIG_TRUST_DIR, SIMPKI_SIG_CRL_DIR and
 * SIMPKI_SIG_POOL_DIR and set conf->verify / verify_ctx. */
int oi_signature_open(oi_conf *conf, char *errstr, size_t errlen);
void oi_signature_close(oi_conf *conf);

#endif
