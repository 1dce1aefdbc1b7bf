/* sim_secrets.h - a SIM's secrets as one sealed record.
 *
 * Ki, OPc, ADM1 and the PIN/PUK codes of a SIM are stored together, sealed
 * under a KEK with the SIM's IMSI as associated data (a record moved onto
 * another SIM's row does not open). One record per SIM rather than one per
 * value: a million-SIM ingest seals a million times instead of three
 * million, and the row stays narrow for the bulk COPY.
 *
 * The plaintext layout (version 1, SP_SIMSEC_PLAIN bytes):
 *   [0] version 1   [1] flags (bit 0: OPc present)
 *   [2..17] Ki      [18..33] OPc (zeros when absent)
 *   then ADM1, PIN1, PUK1, PIN2, PUK2: 8 bytes each, ASCII digits padded
 *   with NUL. */
#ifndef SP_SIM_SECRETS_H
#define SP_SIM_SECRETS_H

#include <stddef.h>

#include "crypto.h"

#define SP_SIMSEC_KEY 16
#define SP_SIMSEC_CODE 8
#define SP_SIMSEC_PLAIN (2 + 2 * SP_SIMSEC_KEY + 5 * SP_SIMSEC_CODE)
#define SP_SIMSEC_SEALED (SP_SIMSEC_PLAIN + SP_SEAL_OVERHEAD)

typedef struct sp_sim_secrets {
  unsigned char ki[SP_SIMSEC_KEY];
  unsigned char opc[SP_SIMSEC_KEY];
  int has_opc;
  /* ASCII digits, NUL-terminated */
  char adm1[SP_SIMSEC_CODE + 1], pin1[SP_SIMSEC_CODE + 1],
      puk1[SP_SIMSEC_CODE + 1], pin2[SP_SIMSEC_CODE + 1],
      puk2[SP_SIMSEC_CODE + 1];
} sp_sim_secrets;

/* -1 when a code is longer than 8 characters or not digits. */
int sp_simsec_encode(const sp_sim_secrets *s,
                     unsigned char out[SP_SIMSEC_PLAIN]);
/* -1 with the reason (never the bytes) when in is not a version-1 record. */
int sp_simsec_decode(const unsigned char *in, size_t len, sp_sim_secrets *s,
                     char *errstr, size_t errlen);

/* Open a stored record (sealed under kek_id, imsi as associated data) and
 * decode it. The plaintext is wiped; *s holds key material: sp_wipe it. */
int sp_simsec_open(sp_keystore *ks, const char *kek_id, const char *imsi,
                   const unsigned char *sealed, size_t sealedlen,
                   sp_sim_secrets *s, char *errstr, size_t errlen);

#endif
