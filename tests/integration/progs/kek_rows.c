/* kek_rows.c - test helper for test_kek.sh: SIM rows whose keys are known.
 *
 *   kek_rows seal --batch B --first-imsi N --first-iccid N --count C [--kek ID]
 *       prints COPY text rows for sims(iccid, imsi, batch_id, pin1, puk1,
 *       pin2, puk2, kek_id, adm1_enc, ki_enc, opc_enc), the keys sealed under
 *       KEK ID (default: the current one of $SIMPKI_KEK_FILE);
 *   kek_rows verify [--expect-kek ID]
 *       opens every stored key of every SIM ($SIMPKI_DB_URL) and compares it
 *       with the expected plaintext; the same value must not open with
 *       another SIM's IMSI. Prints "verified N sims", exits 1 at the first
 *       problem;
 *   kek_rows ki IMSI
 *       prints the Ki of IMSI in hex, for the test to grep outputs for.
 *
 * The keys are derived from the IMSI (SHA-256 of a label and the IMSI), so
 * verify needs no record of them. Every third IMSI (last digit divisible by
 * 3) is a 2G SIM without OPc. */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "crypto.h"

static void derive(const char *label, const char *imsi, unsigned char *out,
                   size_t n) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  char buf[64];
  snprintf(buf, sizeof buf, "%s:%s", label, imsi);
  SHA256((const unsigned char *)buf, strlen(buf), md);
  memcpy(out, md, n);
}

/* The plaintext of column col (0 adm1, 1 ki, 2 opc); 0 when none. */
static size_t plain(int col, const char *imsi, unsigned char *out) {
  if (col == 0) { /* ADM1: 8 ASCII digits */
    derive("adm1", imsi, out, 8);
    for (int i = 0; i < 8; i++)
      out[i] = (unsigned char)('0' + out[i] % 10);
    return 8;
  }
  if (col == 2 && (imsi[14] - '0') % 3 == 0)
    return 0;
  derive(col == 1 ? "ki" : "opc", imsi, out, 16);
  return 16;
}

static const char *opt(int argc, char **argv, const char *name) {
  for (int i = 2; i + 1 < argc; i++)
    if (!strcmp(argv[i], name))
      return argv[i + 1];
  return NULL;
}

static int seal(int argc, char **argv, sp_keystore *ks) {
  const char *batch = opt(argc, argv, "--batch"),
             *kek = opt(argc, argv, "--kek");
  const char *fi = opt(argc, argv, "--first-imsi");
  const char *fc = opt(argc, argv, "--first-iccid");
  const char *cnt = opt(argc, argv, "--count");
  if (!batch || !fi || !fc || !cnt) {
    fprintf(stderr,
            "kek_rows seal: --batch --first-imsi --first-iccid --count\n");
    return 2;
  }
  if (!kek)
    kek = sp_keystore_current_id(ks);
  long long imsi0 = atoll(fi), iccid0 = atoll(fc), n = atoll(cnt);
  char err[512];
  for (long long i = 0; i < n; i++) {
    char imsi[16], hex[2 * 64 + 1];
    snprintf(imsi, sizeof imsi, "%015lld", imsi0 + i);
    printf("%lld\t%s\t%s\t1234\t12345678\t5678\t87654321\t%s", iccid0 + i, imsi,
           batch, kek);
    for (int col = 0; col < 3; col++) {
      unsigned char pt[16], s[16 + SP_SEAL_OVERHEAD];
      size_t pl = plain(col, imsi, pt), sl;
      if (col == 2 && pl == 0) {
        printf("\t\\N");
        continue;
      }
      if (sp_keystore_seal(ks, kek, (const unsigned char *)imsi, 15, pt, pl, s,
                           &sl, err, sizeof err) != 0) {
        fprintf(stderr, "kek_rows seal: %s\n", err);
        return 1;
      }
      sp_wipe(pt, sizeof pt);
      sp_hex_encode(s, sl, hex);
      printf("\t\\\\x%s", hex);
    }
    printf("\n");
  }
  return fflush(stdout) == 0 ? 0 : 1;
}

static int verify(int argc, char **argv, sp_keystore *ks) {
  const char *expect = opt(argc, argv, "--expect-kek");
  PGconn *c =
      PQconnectdb(getenv("SIMPKI_DB_URL") ? getenv("SIMPKI_DB_URL") : "");
  if (PQstatus(c) != CONNECTION_OK) {
    fprintf(stderr, "kek_rows verify: %s", PQerrorMessage(c));
    PQfinish(c);
    return 1;
  }
  PGresult *r =
      PQexec(c, "SELECT iccid, imsi, kek_id, encode(adm1_enc, 'hex'), "
                "encode(ki_enc, 'hex'), encode(opc_enc, 'hex') "
                "FROM sims ORDER BY iccid");
  int rc = PQresultStatus(r) == PGRES_TUPLES_OK ? 0 : 1;
  if (rc)
    fprintf(stderr, "kek_rows verify: %s", PQerrorMessage(c));
  int n = rc ? 0 : PQntuples(r);
  char err[512];
  for (int i = 0; i < n && !rc; i++) {
    const char *iccid = PQgetvalue(r, i, 0), *imsi = PQgetvalue(r, i, 1);
    const char *kek = PQgetvalue(r, i, 2);
    char other[16];
    /* Another SIM's IMSI: the last digit changed. */
    snprintf(other, sizeof other, "%.14s%c", imsi,
             imsi[14] == '9' ? '0' : imsi[14] + 1);
    if (expect && strcmp(kek, expect)) {
      fprintf(stderr, "kek_rows verify: sim %s under %s, not %s\n", iccid, kek,
              expect);
      rc = 1;
    }
    for (int col = 0; col < 3 && !rc; col++) {
      unsigned char want[16], got[64], in[128];
      size_t wl = plain(col, imsi, want), gl = 0, il = 0;
      if (PQgetisnull(r, i, 3 + col) != (wl == 0)) {
        fprintf(stderr, "kek_rows verify: sim %s column %d: NULL mismatch\n",
                iccid, col);
        rc = 1;
        break;
      }
      if (wl == 0)
        continue;
      const char *hex = PQgetvalue(r, i, 3 + col);
      snprintf(err, sizeof err, "not hex");
      if (sp_hex_decode(hex, strlen(hex), in, sizeof in, &il) != 0 ||
          sp_keystore_open(ks, kek, (const unsigned char *)imsi, 15, in, il,
                           got, &gl, err, sizeof err) != 0) {
        fprintf(stderr, "kek_rows verify: sim %s column %d: %s\n", iccid, col,
                err);
        rc = 1;
      } else if (gl != wl || memcmp(got, want, wl)) {
        fprintf(stderr, "kek_rows verify: sim %s column %d: wrong plaintext\n",
                iccid, col);
        rc = 1;
      } else if (sp_keystore_open(ks, kek, (const unsigned char *)other, 15, in,
                                  il, got, &gl, err, sizeof err) == 0) {
        fprintf(stderr,
                "kek_rows verify: sim %s column %d opens with IMSI %s\n", iccid,
                col, other);
        rc = 1;
      }
      sp_wipe(got, sizeof got);
      sp_wipe(want, sizeof want);
    }
  }
  if (!rc)
    printf("verified %d sims\n", n);
  PQclear(r);
  PQfinish(c);
  return rc;
}

int main(int argc, char **argv) {
  if (argc >= 3 && !strcmp(argv[1], "ki")) {
    unsigned char ki[16];
    char hex[33];
    plain(1, argv[2], ki);
    sp_hex_encode(ki, 16, hex);
    printf("%s\n", hex);
    return 0;
  }
  if (argc < 2 || (strcmp(argv[1], "seal") && strcmp(argv[1], "verify"))) {
    fprintf(stderr, "usage: kek_rows seal|verify|ki ...\n");
    return 2;
  }
  char err[512];
  sp_keystore *ks = sp_keystore_open_env(err, sizeof err);
  if (!ks) {
    fprintf(stderr, "kek_rows: %s\n", err);
    return 1;
  }
  int rc =
      !strcmp(argv[1], "seal") ? seal(argc, argv, ks) : verify(argc, argv, ks);
  sp_keystore_close(ks);
  return rc;
}
