/* aud.h - a subscriber's authentication data as OsmoHLR shows it, and the
 * check that it is what we meant to load. Pure: no I/O.
 *
 * OsmoHLR 1.5 answers GET subscriber.by-imsi-<IMSI>.info-aud (and the same
 * lines inside .info-all) with a value that starts with a newline and
 * holds one "key<TAB>value" line per field, e.g.
 *
 *   aud2g.algo       COMP128v1          (also COMP128v2, COMP128v3, XOR)
 *   aud2g.ki         000102...0f        (lower-case hex)
 *   aud3g.algo       MILENAGE
 *   aud3g.k          0011...ff
 *   aud3g.opc        ffee...00          (or aud3g.op when OP was stored)
 *   aud3g.ind_bitlen 5
 *   aud3g.sqn        0
 *
 * A subscriber without 2G or 3G data has no aud2g or aud3g lines (the value
 * is empty when there is neither; careful: info-aud of an IMSI the HLR does
 * not know is empty too, info-all tells the difference). Other lines (id,
 * imsi, msisdn, nam_cs...) are skipped.
 *
 * The struct holds keys: wipe it (hp_aud_wipe) when done. No function here
 * puts key material into an error or reason text. */
#ifndef HP_AUD_H
#define HP_AUD_H

#include <stddef.h>

#define HP_AUD_KEY_MAX 32 /* bytes: MILENAGE uses 16, TUAK allows 32 */
#define HP_AUD_ALGO_MAX 16

typedef enum {
  HP_AUD_ALGO_NONE = 0,
  HP_AUD_COMP128V1,
  HP_AUD_COMP128V2,
  HP_AUD_COMP128V3,
  HP_AUD_XOR,
  HP_AUD_MILENAGE,
  HP_AUD_ALGO_OTHER /* a name we do not know: never matches */
} hp_aud_algo;

typedef struct hp_aud_key {
  unsigned char b[HP_AUD_KEY_MAX];
  size_t len;
} hp_aud_key;

typedef struct hp_aud {
  int has_2g;
  hp_aud_algo algo2g;
  hp_aud_key ki;
  int has_3g;
  hp_aud_algo algo3g;
  hp_aud_key k;
  hp_aud_key opc; /* OPc, or OP when opc_is_op */
  int opc_is_op;
  int ind_bitlen; /* shown by the HLR; -1 when absent */
  unsigned long long sqn;
  int has_sqn;
  char algo2g_name[HP_AUD_ALGO_MAX + 1]; /* as the HLR wrote it */
  char algo3g_name[HP_AUD_ALGO_MAX + 1];
} hp_aud;

/* The HLR's name of an algorithm ("COMP128v1", "MILENAGE"...). */
const char *hp_aud_algo_name(hp_aud_algo a);

/* Intended data, from binary keys: 2G COMP128v1 Ki (16 bytes); 3G MILENAGE
 * K and OPc (16 bytes each). 0, or -1 with the reason (bad lengths). */
int hp_aud_set_2g(hp_aud *a, hp_aud_algo algo, const unsigned char *ki,
                  size_t kilen, char *errstr, size_t errlen);
int hp_aud_set_3g(hp_aud *a, const unsigned char *k, size_t klen,
                  const unsigned char *opc, size_t opclen, int opc_is_op,
                  char *errstr, size_t errlen);

/* Parse an info-aud or info-all value. *out is cleared first. 0, or -1
 * with the reason naming the field, never its value: a key that is not
 * hex or of a wrong length, a duplicate line, an algorithm line without
 * its keys (or keys without one), a line without a TAB. */
int hp_aud_parse(const char *text, size_t len, hp_aud *out, char *errstr,
                 size_t errlen);

typedef enum {
  HP_AUD_MATCH = 0,
  HP_AUD_DIFFERS = 1,
  HP_AUD_UNREADABLE = 2
} hp_aud_verdict;

const char *hp_aud_verdict_name(hp_aud_verdict v);

/* Does what the HLR holds (have) equal what we meant to load (want)?
 * Algorithms and keys must be equal (keys compared in constant time);
 * 2G or 3G data present on one side only differs; OP stored where OPc was
 * meant differs. SQN and IND are the HLR's business and not compared.
 * reason says which part differs (e.g. "aud3g.opc differs"), never a
 * value. */
hp_aud_verdict hp_aud_compare(const hp_aud *have, const hp_aud *want,
                              char *reason, size_t reasonlen);

/* Parse the HLR's text and compare: HP_AUD_UNREADABLE (with the parse
 * error as reason) when it does not parse. Wipes its parsed copy. */
hp_aud_verdict hp_aud_matches(const char *text, size_t len, const hp_aud *want,
                              char *reason, size_t reasonlen);

void hp_aud_wipe(hp_aud *a);

#endif
