/* aud.c - OsmoHLR's info-aud text, and comparing it with what we meant to
 * load. Pure. */
#include "aud.h"

#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "crypto.h"

static const struct {
  hp_aud_algo algo;
  const char *name;
  int is_3g; /* may stand in aud3g.algo (else aud2g.algo) */
} algos[] = {
    {HP_AUD_COMP128V1, "COMP128v1", 0}, {HP_AUD_COMP128V2, "COMP128v2", 0},
    {HP_AUD_COMP128V3, "COMP128v3", 0}, {HP_AUD_XOR, "XOR", 1},
    {HP_AUD_MILENAGE, "MILENAGE", 1},
};

const char *hp_aud_algo_name(hp_aud_algo a) {
  for (size_t i = 0; i < sizeof algos / sizeof *algos; i++)
    if (algos[i].algo == a)
      return algos[i].name;
  return a == HP_AUD_ALGO_NONE ? "none" : "other";
}

const char *hp_aud_verdict_name(hp_aud_verdict v) {
  switch (v) {
  case HP_AUD_MATCH:
    return "match";
  case HP_AUD_DIFFERS:
    return "differs";
  case HP_AUD_UNREADABLE:
    return "unreadable";
  }
  return "?";
}

void hp_aud_wipe(hp_aud *a) { sp_wipe(a, sizeof *a); }

int hp_aud_set_2g(hp_aud *a, hp_aud_algo algo, const unsigned char *ki,
                  size_t kilen, char *errstr, size_t errlen) {
  if (algo != HP_AUD_COMP128V1 && algo != HP_AUD_COMP128V2 &&
      algo != HP_AUD_COMP128V3 && algo != HP_AUD_XOR) {
    snprintf(errstr, errlen, "%s is not a 2G algorithm",
             hp_aud_algo_name(algo));
    return -1;
  }
  if (!ki || kilen != 16) {
    snprintf(errstr, errlen, "a 2G Ki has 16 bytes, not %zu", kilen);
    return -1;
  }
  a->has_2g = 1;
  a->algo2g = algo;
  memcpy(a->ki.b, ki, 16);
  a->ki.len = 16;
  snprintf(a->algo2g_name, sizeof a->algo2g_name, "%s", hp_aud_algo_name(algo));
  return 0;
}

int hp_aud_set_3g(hp_aud *a, const unsigned char *k, size_t klen,
                  const unsigned char *opc, size_t opclen, int opc_is_op,
                  char *errstr, size_t errlen) {
  if (!k || klen != 16 || !opc || opclen != 16) {
    snprintf(errstr, errlen,
             "MILENAGE K and %s have 16 bytes each, not %zu and %zu",
             opc_is_op ? "OP" : "OPc", klen, opclen);
    return -1;
  }
  a->has_3g = 1;
  a->algo3g = HP_AUD_MILENAGE;
  memcpy(a->k.b, k, 16);
  a->k.len = 16;
  memcpy(a->opc.b, opc, 16);
  a->opc.len = 16;
  a->opc_is_op = opc_is_op ? 1 : 0;
  snprintf(a->algo3g_name, sizeof a->algo3g_name, "MILENAGE");
  return 0;
}

/* ---- parsing --------------------------------------------------------- */

enum { F_ALGO2G, F_KI, F_ALGO3G, F_K, F_OPC, F_OP, F_IND, F_SQN, F_COUNT };
static const char *const fields[F_COUNT] = {
    "aud2g.algo", "aud2g.ki", "aud3g.algo",       "aud3g.k",
    "aud3g.opc",  "aud3g.op", "aud3g.ind_bitlen", "aud3g.sqn"};

static int parse_algo(const char *v, size_t vl, int is_3g, hp_aud_algo *algo,
                      char *name) {
  if (vl == 0 || vl > HP_AUD_ALGO_MAX)
    return -1;
  for (size_t i = 0; i < vl; i++) {
    char ch = v[i];
    if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
          (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
      return -1;
  }
  memcpy(name, v, vl);
  name[vl] = '\0';
  *algo = HP_AUD_ALGO_OTHER;
  for (size_t i = 0; i < sizeof algos / sizeof *algos; i++)
    if (strlen(algos[i].name) == vl && !memcmp(algos[i].name, v, vl) &&
        (is_3g ? algos[i].is_3g : algos[i].algo != HP_AUD_MILENAGE))
      *algo = algos[i].algo;
  return 0;
}

static int parse_key(const char *v, size_t vl, hp_aud_key *key) {
  size_t n = 0;
  if (vl < 2 || vl > 2 * HP_AUD_KEY_MAX ||
      sp_hex_decode(v, vl, key->b, sizeof key->b, &n) != 0) {
    sp_wipe(key, sizeof *key);
    return -1;
  }
  key->len = n;
  return 0;
}

static int parse_ull(const char *v, size_t vl, unsigned long long max,
                     unsigned long long *out) {
  unsigned long long x = 0;
  if (vl == 0 || vl > 20)
    return -1;
  for (size_t i = 0; i < vl; i++) {
    unsigned d = (unsigned)(unsigned char)v[i] - '0';
    if (d > 9 || x > (max - d) / 10)
      return -1;
    x = x * 10 + d;
  }
  *out = x;
  return 0;
}

static int field_value(hp_aud *a, int f, const char *v, size_t vl) {
  unsigned long long x;
  switch (f) {
  case F_ALGO2G:
    return parse_algo(v, vl, 0, &a->algo2g, a->algo2g_name);
  case F_ALGO3G:
    return parse_algo(v, vl, 1, &a->algo3g, a->algo3g_name);
  case F_KI:
    return parse_key(v, vl, &a->ki);
  case F_K:
    return parse_key(v, vl, &a->k);
  case F_OPC:
  case F_OP:
    a->opc_is_op = f == F_OP;
    return parse_key(v, vl, &a->opc);
  case F_IND:
    if (parse_ull(v, vl, 64, &x) < 0)
      return -1;
    a->ind_bitlen = (int)x;
    return 0;
  case F_SQN:
    if (parse_ull(v, vl, ~0ULL, &a->sqn) < 0)
      return -1;
    a->has_sqn = 1;
    return 0;
  }
  return -1;
}

__attribute__((format(printf, 4, 5))) static int
bad(hp_aud *out, char *errstr, size_t errlen, const char *fmt, ...) {
  hp_aud_wipe(out);
  out->ind_bitlen = -1;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(errstr, errlen, fmt, ap);
  va_end(ap);
  return -1;
}

int hp_aud_parse(const char *text, size_t len, hp_aud *out, char *errstr,
                 size_t errlen) {
  hp_aud_wipe(out);
  out->ind_bitlen = -1;
  unsigned seen = 0;
  const char *p = text, *end = text ? text + len : text;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *le = nl ? nl : end;
    const char *next = nl ? nl + 1 : end;
    if (le > p && le[-1] == '\r')
      le--;
    if (le == p) {
      p = next;
      continue;
    }
    const char *tab = memchr(p, '\t', (size_t)(le - p));
    if (!tab)
      return bad(out, errstr, errlen, "%s", "an info line without a TAB");
    size_t kl = (size_t)(tab - p);
    int f = 0;
    for (; f < F_COUNT; f++)
      if (strlen(fields[f]) == kl && !memcmp(fields[f], p, kl))
        break;
    if (f < F_COUNT) {
      if (seen & (1u << f))
        return bad(out, errstr, errlen, "%s appears twice", fields[f]);
      seen |= 1u << f;
      if (field_value(out, f, tab + 1, (size_t)(le - tab - 1)) < 0)
        return bad(out, errstr, errlen,
                   f == F_ALGO2G || f == F_ALGO3G
                       ? "%s is not an algorithm name"
                   : f == F_IND || f == F_SQN ? "%s is not a number in range"
                                              : "%s is not hex of 1-32 bytes",
                   fields[f]);
    }
    p = next;
  }
  /* Each block is all there or not at all. */
  int a2 = !!(seen & (1u << F_ALGO2G)), ki = !!(seen & (1u << F_KI));
  if (a2 != ki)
    return bad(out, errstr, errlen, "%s",
               a2 ? "aud2g.algo without aud2g.ki"
                  : "aud2g.ki without aud2g.algo");
  out->has_2g = a2;
  int a3 = !!(seen & (1u << F_ALGO3G)), k = !!(seen & (1u << F_K));
  int op = !!(seen & (1u << F_OP)), opc = !!(seen & (1u << F_OPC));
  if (op && opc)
    return bad(out, errstr, errlen, "%s", "both aud3g.op and aud3g.opc");
  if (a3 != k)
    return bad(out, errstr, errlen, "%s",
               a3 ? "aud3g.algo without aud3g.k"
                  : "aud3g.k without aud3g.algo");
  if (!a3 && (op || opc))
    return bad(out, errstr, errlen, "%s", "aud3g.op(c) without aud3g.algo");
  if (a3 && out->algo3g == HP_AUD_MILENAGE && !op && !opc)
    return bad(out, errstr, errlen, "%s", "MILENAGE without OP or OPc");
  out->has_3g = a3;
  return 0;
}

/* ---- comparing --------------------------------------------------------- */

/* Constant time in the key bytes; the lengths are not secret. */
static int key_differs(const hp_aud_key *a, const hp_aud_key *b) {
  if (a->len != b->len || a->len > HP_AUD_KEY_MAX)
    return 1;
  return CRYPTO_memcmp(a->b, b->b, a->len) != 0;
}

__attribute__((format(printf, 3, 4))) static hp_aud_verdict
differs(char *reason, size_t reasonlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(reason, reasonlen, fmt, ap);
  va_end(ap);
  return HP_AUD_DIFFERS;
}

hp_aud_verdict hp_aud_compare(const hp_aud *have, const hp_aud *want,
                              char *reason, size_t reasonlen) {
  if (reason && reasonlen)
    reason[0] = '\0';
  if (!want->has_2g && !want->has_3g) {
    snprintf(reason, reasonlen, "no intended auth data to compare with");
    return HP_AUD_UNREADABLE;
  }
  /* Every key compared, whatever differs first, so the time taken does
   * not tell which one it was. */
  int d_ki = want->has_2g && have->has_2g && key_differs(&have->ki, &want->ki);
  int d_k = want->has_3g && have->has_3g && key_differs(&have->k, &want->k);
  int d_opc =
      want->has_3g && have->has_3g && key_differs(&have->opc, &want->opc);
  if (want->has_2g != have->has_2g)
    return differs(reason, reasonlen, "%s",
                   want->has_2g ? "the HLR has no 2G auth data"
                                : "the HLR has 2G auth data, none was meant");
  if (want->has_3g != have->has_3g)
    return differs(reason, reasonlen, "%s",
                   want->has_3g ? "the HLR has no 3G auth data"
                                : "the HLR has 3G auth data, none was meant");
  if (want->has_2g) {
    if (have->algo2g != want->algo2g || have->algo2g == HP_AUD_ALGO_OTHER)
      return differs(reason, reasonlen, "aud2g.algo is %s, not %s",
                     have->algo2g_name, hp_aud_algo_name(want->algo2g));
    if (d_ki)
      return differs(reason, reasonlen, "aud2g.ki differs");
  }
  if (want->has_3g) {
    if (have->algo3g != want->algo3g || have->algo3g == HP_AUD_ALGO_OTHER)
      return differs(reason, reasonlen, "aud3g.algo is %s, not %s",
                     have->algo3g_name, hp_aud_algo_name(want->algo3g));
    if (d_k)
      return differs(reason, reasonlen, "aud3g.k differs");
    if (have->opc_is_op != want->opc_is_op)
      return differs(reason, reasonlen, "the HLR holds %s, not %s",
                     have->opc_is_op ? "OP" : "OPc",
                     want->opc_is_op ? "OP" : "OPc");
    if (d_opc)
      return differs(reason, reasonlen, "%s differs",
                     want->opc_is_op ? "aud3g.op" : "aud3g.opc");
  }
  return HP_AUD_MATCH;
}

hp_aud_verdict hp_aud_matches(const char *text, size_t len, const hp_aud *want,
                              char *reason, size_t reasonlen) {
  hp_aud have;
  if (hp_aud_parse(text, len, &have, reason, reasonlen) < 0)
    return HP_AUD_UNREADABLE;
  hp_aud_verdict v = hp_aud_compare(&have, want, reason, reasonlen);
  hp_aud_wipe(&have);
  return v;
}
