/* kek_rows.c - test helper for test_kek.sh: SIM rows whose keys are known.
 *
 *   kek_rows seal --batch B --first-imsi N --first-iccid N --count C [--kek ID]
 *       prints COPY text rows for sims(iccid, imsi, batch_id, kek_id,
 *       secrets_enc), the SIM's secrets record sealed under KEK ID
 *       (default: the current one of $SIMPKI_KEK_FILE);
 *   kek_rows verify [--expect-kek ID]
 *       opens every SIM's secrets ($SIMPKI_DB_URL) and compares them with
 *       the expected plaintext; the same record must not open with
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
#include "sim_secrets.h"

static void derive(const char *label, const char *imsi, unsigned char *out,
                   size_t n) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  char buf[64];
  snprintf(buf, sizeof buf, "%s:%s", label, imsi);
  SHA256((const unsigned char *)buf, strlen(buf), md);
  memcpy(out, md, n);
}

/* The secrets of a SIM, derived from its IMSI. */
static void expected(const char *imsi, sp_sim_secrets *sec) {
  memset(sec, 0, sizeof *sec);
  unsigned char adm[8];
  derive("adm1", imsi, adm, 8);
  for (int i = 0; i < 8; i++) /* ADM1: 8 ASCII digits */
    sec->adm1[i] = (char)('0' + adm[i] % 10);
  derive("ki", imsi, sec->ki, 16);
  sec->has_opc = (imsi[14] - '0') % 3 != 0;
  if (sec->has_opc)
    derive("opc", imsi, sec->opc, 16);
  snprintf(sec->pin1, sizeof sec->pin1, "%.4s", imsi + 11);
  snprintf(sec->puk1, sizeof sec->puk1, "%.8s", imsi + 7);
  snprintf(sec->pin2, sizeof sec->pin2, "5678");
  snprintf(sec->puk2, sizeof sec->puk2, "87654321");
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
    char imsi[16], hex[2 * SP_SIMSEC_SEALED + 1];
    unsigned char pt[SP_SIMSEC_PLAIN], sealed[SP_SIMSEC_SEALED];
    size_t sl;
    sp_sim_secrets sec;
    snprintf(imsi, sizeof imsi, "%015lld", imsi0 + i);
    expected(imsi, &sec);
    if (sp_simsec_encode(&sec, pt) ||
        sp_keystore_seal(ks, kek, (const unsigned char *)imsi, 15, pt,
                         sizeof pt, sealed, &sl, err, sizeof err) != 0) {
      fprintf(stderr, "kek_rows seal: %s\n", err);
      return 1;
    }
    sp_wipe(pt, sizeof pt);
    sp_wipe(&sec, sizeof sec);
    sp_hex_encode(sealed, sl, hex);
    printf("%lld\t%s\t%s\t%s\t\\\\x%s\n", iccid0 + i, imsi, batch, kek, hex);
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
  PGresult *r = PQexec(c, "SELECT iccid, imsi, kek_id, "
                          "encode(secrets_enc, 'hex') FROM sims ORDER BY iccid");
  int rc = PQresultStatus(r) == PGRES_TUPLES_OK ? 0 : 1;
  if (rc)
    fprintf(stderr, "kek_rows verify: %s", PQerrorMessage(c));
  int n = rc ? 0 : PQntuples(r);
  char err[512];
  for (int i = 0; i < n && !rc; i++) {
    const char *iccid = PQgetvalue(r, i, 0), *imsi = PQgetvalue(r, i, 1);
    const char *kek = PQgetvalue(r, i, 2), *hex = PQgetvalue(r, i, 3);
    char other[16];
    /* Another SIM's IMSI: the last digit changed. */
    snprintf(other, sizeof other, "%.14s%c", imsi,
             imsi[14] == '9' ? '0' : imsi[14] + 1);
    if (expect && strcmp(kek, expect)) {
      fprintf(stderr, "kek_rows verify: sim %s under %s, not %s\n", iccid, kek,
              expect);
      rc = 1;
      break;
    }
    unsigned char in[256];
    size_t il = 0;
    sp_sim_secrets want, got;
    expected(imsi, &want);
    snprintf(err, sizeof err, "not hex");
    if (sp_hex_decode(hex, strlen(hex), in, sizeof in, &il) != 0 ||
        sp_simsec_open(ks, kek, imsi, in, il, &got, err, sizeof err) != 0) {
      fprintf(stderr, "kek_rows verify: sim %s: %s\n", iccid, err);
      rc = 1;
    } else if (memcmp(got.ki, want.ki, 16) || got.has_opc != want.has_opc ||
               memcmp(got.opc, want.opc, 16) || strcmp(got.adm1, want.adm1) ||
               strcmp(got.pin1, want.pin1) || strcmp(got.puk1, want.puk1) ||
               strcmp(got.pin2, want.pin2) || strcmp(got.puk2, want.puk2)) {
      fprintf(stderr, "kek_rows verify: sim %s: wrong plaintext\n", iccid);
      rc = 1;
    } else if (sp_simsec_open(ks, kek, other, in, il, &got, err,
                              sizeof err) == 0) {
      fprintf(stderr, "kek_rows verify: sim %s opens with IMSI %s\n", iccid,
              other);
      rc = 1;
    }
    sp_wipe(&got, sizeof got);
    sp_wipe(&want, sizeof want);
  }
  if (!rc)
    printf("verified %d sims\n", n);
  PQclear(r);
  PQfinish(c);
  return rc;
}

int main(int argc, char **argv) {
  if (argc >= 3 && !strcmp(argv[1], "ki")) {
    sp_sim_secrets sec;
    char hex[33];
    expected(argv[2], &sec);
    sp_hex_encode(sec.ki, 16, hex);
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
