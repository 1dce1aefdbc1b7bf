/* sim_secrets.c - the sealed record of a SIM's secrets. */
#include "sim_secrets.h"

#include <stdio.h>
#include <string.h>

#define OFF_KI 2
#define OFF_OPC (OFF_KI + SP_SIMSEC_KEY)
#define OFF_CODES (OFF_OPC + SP_SIMSEC_KEY)

static int put_code(unsigned char *dst, const char *code) {
  size_t n = strnlen(code, SP_SIMSEC_CODE + 1);
  if (n > SP_SIMSEC_CODE)
    return -1;
  for (size_t i = 0; i < n; i++)
    if (code[i] < '0' || code[i] > '9')
      return -1;
  memset(dst, 0, SP_SIMSEC_CODE);
  memcpy(dst, code, n);
  return 0;
}

static int get_code(char *dst, const unsigned char *src) {
  size_t n = 0;
  while (n < SP_SIMSEC_CODE && src[n])
    n++;
  for (size_t i = 0; i < SP_SIMSEC_CODE; i++)
    if (i < n ? (src[i] < '0' || src[i] > '9') : src[i] != 0)
      return -1;
  memcpy(dst, src, n);
  dst[n] = '\0';
  return 0;
}

int sp_simsec_encode(const sp_sim_secrets *s,
                     unsigned char out[SP_SIMSEC_PLAIN]) {
  memset(out, 0, SP_SIMSEC_PLAIN);
  out[0] = 1;
  out[1] = s->has_opc ? 1 : 0;
  memcpy(out + OFF_KI, s->ki, SP_SIMSEC_KEY);
  if (s->has_opc)
    memcpy(out + OFF_OPC, s->opc, SP_SIMSEC_KEY);
  const char *codes[] = {s->adm1, s->pin1, s->puk1, s->pin2, s->puk2};
  for (int i = 0; i < 5; i++)
    if (put_code(out + OFF_CODES + i * SP_SIMSEC_CODE, codes[i])) {
      sp_wipe(out, SP_SIMSEC_PLAIN);
      return -1;
    }
  return 0;
}

int sp_simsec_decode(const unsigned char *in, size_t len, sp_sim_secrets *s,
                     char *errstr, size_t errlen) {
  memset(s, 0, sizeof *s);
  if (len != SP_SIMSEC_PLAIN || in[0] != 1 || in[1] > 1) {
    snprintf(errstr, errlen, "not a version-1 SIM secrets record (%zu bytes)",
             len);
    return -1;
  }
  s->has_opc = in[1] & 1;
  memcpy(s->ki, in + OFF_KI, SP_SIMSEC_KEY);
  memcpy(s->opc, in + OFF_OPC, SP_SIMSEC_KEY);
  char *codes[] = {s->adm1, s->pin1, s->puk1, s->pin2, s->puk2};
  for (int i = 0; i < 5; i++)
    if (get_code(codes[i], in + OFF_CODES + i * SP_SIMSEC_CODE)) {
      sp_wipe(s, sizeof *s);
      snprintf(errstr, errlen, "SIM secrets record: a code is not digits");
      return -1;
    }
  return 0;
}

int sp_simsec_open(sp_keystore *ks, const char *kek_id, const char *imsi,
                   const unsigned char *sealed, size_t sealedlen,
                   sp_sim_secrets *s, char *errstr, size_t errlen) {
  unsigned char pt[SP_SIMSEC_PLAIN];
  size_t ptlen = 0;
  memset(s, 0, sizeof *s);
  if (sealedlen != SP_SIMSEC_SEALED) {
    snprintf(errstr, errlen, "sealed SIM secrets are %zu bytes, not %d",
             sealedlen, SP_SIMSEC_SEALED);
    return -1;
  }
  int rc = sp_keystore_open(ks, kek_id, (const unsigned char *)imsi,
                            strlen(imsi), sealed, sealedlen, pt, &ptlen,
                            errstr, errlen);
  if (rc == 0)
    rc = sp_simsec_decode(pt, ptlen, s, errstr, errlen);
  sp_wipe(pt, sizeof pt);
  return rc;
}
