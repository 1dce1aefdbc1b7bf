/* sims_check.c - test helper: do the stored SIMs of a batch open to the keys
 * the vendor simulator made?
 *
 *   sims_check BATCH KEYS_FILE
 *
 * KEYS_FILE is what `simpkictl vendor simulate --reveal-keys` wrote: one
 * "ICCID KI_HEX OPC_HEX|-" line per SIM. Every SIM of BATCH in sims
 * ($SIMPKI_DB_URL) is opened with the KEKs of $SIMPKI_KEK_FILE and its Ki
 * and OPc compared with the file's; each line of the file must match a
 * stored SIM. Prints "checked N sims"; exits 1 at the first difference. */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "sim_secrets.h"

typedef struct want {
  char iccid[21];
  unsigned char ki[16], opc[16];
  int has_opc, found;
} want;

static int load(const char *path, want **out, size_t *n) {
  FILE *fp = fopen(path, "r");
  if (!fp)
    return -1;
  char line[256], ic[32], kh[64], oh[64];
  size_t cap = 0;
  *n = 0;
  while (fgets(line, sizeof line, fp)) {
    if (sscanf(line, "%31s %63s %63s", ic, kh, oh) != 3)
      continue;
    if (*n == cap) {
      cap = cap ? 2 * cap : 1024;
      *out = realloc(*out, cap * sizeof **out);
    }
    want *w = &(*out)[(*n)++];
    memset(w, 0, sizeof *w);
    snprintf(w->iccid, sizeof w->iccid, "%.20s", ic);
    w->has_opc = strcmp(oh, "-") != 0;
    if (sp_hex_decode(kh, strlen(kh), w->ki, 16, NULL) ||
        (w->has_opc && sp_hex_decode(oh, strlen(oh), w->opc, 16, NULL))) {
      fclose(fp);
      return -1;
    }
  }
  fclose(fp);
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: sims_check BATCH KEYS_FILE\n");
    return 2;
  }
  want *w = NULL;
  size_t nw = 0;
  if (load(argv[2], &w, &nw)) {
    fprintf(stderr, "sims_check: cannot read %s\n", argv[2]);
    return 1;
  }
  char err[512];
  sp_keystore *ks = sp_keystore_open_env(err, sizeof err);
  if (!ks) {
    fprintf(stderr, "sims_check: %s\n", err);
    return 1;
  }
  PGconn *c =
      PQconnectdb(getenv("SIMPKI_DB_URL") ? getenv("SIMPKI_DB_URL") : "");
  const char *p[] = {argv[1]};
  PGresult *r = PQexecParams(c,
                             "SELECT iccid, imsi, kek_id, secrets_enc FROM "
                             "sims WHERE batch_id = $1 ORDER BY iccid",
                             1, NULL, p, NULL, NULL, 1);
  int rc = PQresultStatus(r) == PGRES_TUPLES_OK ? 0 : 1;
  if (rc)
    fprintf(stderr, "sims_check: %s", PQerrorMessage(c));
  int n = rc ? 0 : PQntuples(r);
  for (int i = 0; i < n && !rc; i++) {
    const char *iccid = PQgetvalue(r, i, 0);
    /* binary results: text columns as they are, imsi as int8 */
    const unsigned char *ib = (const unsigned char *)PQgetvalue(r, i, 1);
    unsigned long long imsi = 0;
    for (int k = 0; k < 8; k++)
      imsi = imsi << 8 | ib[k];
    char imsi_s[24];
    snprintf(imsi_s, sizeof imsi_s, "%llu", imsi);
    want *m = NULL;
    for (size_t k = 0; k < nw && !m; k++)
      if (!strcmp(w[k].iccid, iccid))
        m = &w[k];
    sp_sim_secrets got;
    if (!m) {
      fprintf(stderr, "sims_check: sim %s is not in %s\n", iccid, argv[2]);
      rc = 1;
    } else if (sp_simsec_open(ks, PQgetvalue(r, i, 2), imsi_s,
                              (const unsigned char *)PQgetvalue(r, i, 3),
                              (size_t)PQgetlength(r, i, 3), &got, err,
                              sizeof err)) {
      fprintf(stderr, "sims_check: sim %s: %s\n", iccid, err);
      rc = 1;
    } else if (memcmp(got.ki, m->ki, 16) || got.has_opc != m->has_opc ||
               (m->has_opc && memcmp(got.opc, m->opc, 16)) ||
               strlen(got.adm1) != 8 || strlen(got.puk1) != 8 ||
               strlen(got.pin1) < 4) {
      fprintf(stderr, "sims_check: sim %s: stored secrets differ\n", iccid);
      rc = 1;
    } else {
      m->found = 1;
    }
    sp_wipe(&got, sizeof got);
  }
  for (size_t k = 0; k < nw && !rc; k++)
    if (!w[k].found) {
      fprintf(stderr, "sims_check: sim %s of the file is not stored\n",
              w[k].iccid);
      rc = 1;
    }
  if (!rc)
    printf("checked %d sims\n", n);
  sp_wipe(w, nw * sizeof *w);
  free(w);
  PQclear(r);
  PQfinish(c);
  sp_keystore_close(ks);
  return rc;
}
