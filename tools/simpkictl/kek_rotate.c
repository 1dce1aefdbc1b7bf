/* kek_rotate.c - `simpkictl kek rotate`: re-seal every stored SIM key under
 * the current KEK while the services keep running.
 *
 * Rows are taken in iccid order, N per transaction, with FOR UPDATE SKIP
 * LOCKED: nothing waits on the rotation, and a row a service holds is left
 * for a later pass. Each transaction commits on its own, so a crash or a
 * kill loses at most one batch, and a rerun simply starts again with the
 * rows still under an old key: the WHERE clause is the resume point, the
 * command keeps no state of its own. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "cmds.h"
#include "crypto.h"
#include "kek.h"

#define DEFAULT_BATCH 1000
#define MAX_BATCH 30000 /* 2 parameters a row; a statement takes 65535 */
#define MAX_PASSES 5
#define SEALED_MAX 1024 /* largest sealed value taken, in bytes */


typedef struct {
  sp_keystore *ks;
  const char *cur; /* the current KEK id */
  size_t nids;
  long batch;
  char after[64];    /* this pass's cursor: last iccid committed */
  unsigned char *pt; /* 2 * SEALED_MAX of locked memory: plaintext, check */
  /* Results of one attempt of the transaction (it may run again). */
  long rows;
  long *by_id; /* rows per old KEK, indexed like the keystore's ids */
  char last[64];
  int failed;
  char failure[1024];
} rotation;

static void usage_rotate(FILE *fp) {
  fprintf(fp,
          "Usage: simpkictl kek rotate [--batch N]\n\n"
          "Re-seals every SIM whose kek_id is not the current KEK (the first\n"
          "key of $SIMPKI_KEK_FILE): its sealed secrets (secrets_enc) are\n"
          "opened with their old KEK (the SIM's IMSI as associated data) and\n"
          "sealed again under the current one. N rows per transaction\n"
          "(default %d, at most %d), locked with FOR UPDATE SKIP LOCKED, so\n"
          "the services keep running. Safe to interrupt and to rerun: it\n"
          "resumes with the rows still under an old key.\n\n"
          "Progress goes to stderr; a JSON summary (rows re-sealed per old\n"
          "KEK id, rows remaining) to stdout. A row that does not open (its\n"
          "KEK missing from the file, altered data) stops the command with\n"
          "its ICCID and the reason; the rows done before it stay done.\n\n"
          "Exit status: 0 every SIM is under the current KEK, 1 stopped or\n"
          "rows remain (e.g. written meanwhile under an old key by a service\n"
          "not yet restarted: run again), 2 usage.\n\n"
          "Environment: SIMPKI_KEK_FILE, SIMPKI_DB_URL (both required).\n",
          DEFAULT_BATCH, MAX_BATCH);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static long id_index(const rotation *r, const char *id) {
  for (size_t i = 0; i < r->nids; i++)
    if (!strcmp(sp_keystore_id(r->ks, i), id))
      return (long)i;
  return -1;
}

/* One sealed value (hex, as encode() gives it) from old_id to the current
 * KEK; *out is the new value as a bytea literal. */
static int rewrap(rotation *r, const char *hex, const char *old_id,
                  const char *imsi, char **out, char *errstr, size_t errlen) {
  unsigned char in[SEALED_MAX], sealed[SEALED_MAX + SP_SEAL_OVERHEAD];
  unsigned char *pt = r->pt, *check = r->pt + SEALED_MAX;
  size_t inlen = 0, ptlen = 0, sl = 0, cl = 0, hl = strlen(hex);
  const unsigned char *aad = (const unsigned char *)imsi;
  int rc = -1;
  if (sp_hex_decode(hex, hl, in, sizeof in, &inlen) != 0) {
    snprintf(errstr, errlen, "sealed value is not hex or longer than %d bytes",
             SEALED_MAX);
    return -1;
  }
  if (sp_keystore_open(r->ks, old_id, aad, strlen(imsi), in, inlen, pt, &ptlen,
                       errstr, errlen) != 0 ||
      sp_keystore_seal(r->ks, r->cur, aad, strlen(imsi), pt, ptlen, sealed, &sl,
                       errstr, errlen) != 0)
    goto out;
  /* Read it back before the old value is overwritten: a value that does
   * not open would lose the SIM's key for good. */
  if (sp_keystore_open(r->ks, r->cur, aad, strlen(imsi), sealed, sl, check, &cl,
                       errstr, errlen) != 0 ||
      cl != ptlen || CRYPTO_memcmp(pt, check, ptlen) != 0) {
    snprintf(errstr, errlen, "the re-sealed value does not read back");
    goto out;
  }
  *out = malloc(2 * sl + 3);
  if (!*out) {
    snprintf(errstr, errlen, "out of memory");
    goto out;
  }
  memcpy(*out, "\\x", 2);
  sp_hex_encode(sealed, sl, *out + 2);
  rc = 0;
out:
  sp_wipe(pt, ptlen);
  sp_wipe(check, cl);
  return rc;
}

/* "UPDATE ... FROM (VALUES ($2,$3), ...)": one statement a batch. */
static char *update_sql(int rows) {
  static const char head[] =
      "UPDATE sims AS s SET kek_id = $1, secrets_enc = v.secrets FROM (VALUES ";
  static const char tail[] = ") AS v(iccid, secrets) WHERE s.iccid = v.iccid";
  size_t cap = sizeof head + sizeof tail + (size_t)rows * 64;
  char *sql = malloc(cap);
  if (!sql)
    return NULL;
  size_t n = (size_t)snprintf(sql, cap, "%s", head);
  for (int i = 0; i < rows; i++) {
    int p = 2 + 2 * i;
    n += (size_t)snprintf(sql + n, cap - n, "%s($%d, $%d::bytea)",
                          i ? ", " : "", p, p + 1);
  }
  snprintf(sql + n, cap - n, "%s", tail);
  return sql;
}

/* Re-seal the rows of one batch and store the ones that worked; a row that
 * does not open ends the batch there (failed is set, the rest commits). */
static int rotate_batch(PGconn *c, void *arg, char *errstr, size_t errlen) {
  rotation *r = arg;
  r->rows = 0;
  r->failed = 0;
  r->last[0] = '\0';
  memset(r->by_id, 0, r->nids * sizeof *r->by_id);
  char lim[24];
  snprintf(lim, sizeof lim, "%ld", r->batch);
  const char *sp[3] = {r->cur, r->after, lim};
  PGresult *res = sp_db_query(
      c,
      "SELECT iccid, imsi, kek_id, encode(secrets_enc, 'hex') FROM sims "
      "WHERE kek_id <> $1 AND iccid > $2 ORDER BY iccid LIMIT $3::int "
      "FOR UPDATE SKIP LOCKED",
      3, sp, errstr, errlen);
  if (!res)
    return SP_DB_ERROR;
  int n = PQntuples(res), good = 0, rc = SP_DB_OK;
  const char **params = calloc(1 + 2 * (size_t)n, sizeof *params);
  char **owned = calloc((size_t)n + 1, sizeof *owned);
  if (!params || !owned) {
    snprintf(errstr, errlen, "out of memory");
    rc = SP_DB_REJECT;
    goto out;
  }
  params[0] = r->cur;
  char why[512];
  for (int i = 0; i < n && !r->failed; i++) {
    const char *iccid = PQgetvalue(res, i, 0), *imsi = PQgetvalue(res, i, 1);
    const char *old = PQgetvalue(res, i, 2);
    long idx = id_index(r, old);
    if (idx < 0) {
      snprintf(r->failure, sizeof r->failure,
               "sim %s: sealed under KEK id %s, which the KEK file lacks",
               iccid, old);
      r->failed = 1;
      break;
    }
    if (rewrap(r, PQgetvalue(res, i, 3), old, imsi, &owned[good], why,
               sizeof why) != 0) {
      snprintf(r->failure, sizeof r->failure,
               "sim %s: secrets_enc under KEK id %s: %s", iccid, old, why);
      r->failed = 1;
      break;
    }
    params[1 + 2 * good] = iccid;
    params[2 + 2 * good] = owned[good];
    good++;
    r->by_id[idx]++;
    snprintf(r->last, sizeof r->last, "%s", iccid);
  }
  if (good > 0) {
    char *sql = update_sql(good);
    long done =
        sql ? sp_db_exec(c, sql, 1 + 2 * good, params, errstr, errlen) : -1;
    free(sql);
    if (!sql)
      snprintf(errstr, errlen, "out of memory");
    if (done < 0)
      rc = SP_DB_ERROR;
    else if (done != good) {
      snprintf(errstr, errlen, "stored %ld rows of %d", done, good);
      rc = SP_DB_REJECT;
    }
  }
  r->rows = good;
out:
  if (owned)
    for (int i = 0; i < n; i++)
      free(owned[i]);
  free(owned);
  free(params);
  PQclear(res);
  return rc;
}

static long long count_stale(sp_db *db, const char *cur, char *errstr,
                             size_t errlen) {
  if (sp_db_ensure(db, errstr, errlen) != 0)
    return -1;
  const char *p[1] = {cur};
  PGresult *r = sp_db_query(sp_db_conn(db),
                            "SELECT count(*) FROM sims WHERE kek_id <> $1", 1,
                            p, errstr, errlen);
  if (!r)
    return -1;
  long long n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
  PQclear(r);
  return n;
}

static void progress(long long done, long long total, double t0, int force) {
  static double last;
  double t = now_s();
  if (!force && t - last < 1.0)
    return;
  last = t;
  if (total < done)
    total = done;
  double rate = t > t0 ? (double)done / (t - t0) : 0;
  fprintf(stderr,
          "simpkictl kek rotate: %lld/%lld rows (%.0f%%), %.0f rows/s\n", done,
          total, total ? 100.0 * (double)done / (double)total : 100.0, rate);
}

static int parse_args(int argc, char **argv, long *batch) {
  static const struct option opts[] = {{"batch", required_argument, NULL, 'b'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  optind = 0;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
    switch (c) {
    case 'b':
      if (sp_cli_long(optarg, 1, MAX_BATCH, batch)) {
        fprintf(stderr, "simpkictl kek rotate: --batch must be 1 to %d\n",
                MAX_BATCH);
        return SP_EXIT_USAGE;
      }
      break;
    case 'h':
      usage_rotate(stdout);
      return SP_EXIT_OK;
    default:
      fprintf(stderr,
              "simpkictl kek rotate: bad option or missing value: %s\n\n",
              argv[optind - 1]);
      usage_rotate(stderr);
      return SP_EXIT_USAGE;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "simpkictl kek rotate: unexpected argument \"%s\"\n\n",
            argv[optind]);
    usage_rotate(stderr);
    return SP_EXIT_USAGE;
  }
  return -1; /* go on */
}

/* Passes over the table until one finds nothing to do (rows skipped while
 * locked get another chance). Returns 0, or -1 with err set. */
static int run_passes(sp_db *db, rotation *r, long long *done, long *totals,
                      long long total, char *err, size_t errlen) {
  double t0 = now_s();
  for (int pass = 0; pass < MAX_PASSES; pass++) {
    long long in_pass = 0;
    r->after[0] = '\0';
    for (;;) {
      if (sp_db_tx(db, rotate_batch, r, err, errlen) != SP_DB_OK)
        return -1;
      *done += r->rows;
      in_pass += r->rows;
      for (size_t i = 0; i < r->nids; i++)
        totals[i] += r->by_id[i];
      if (r->failed) {
        snprintf(err, errlen, "%s", r->failure);
        progress(*done, total, t0, 1);
        return -1;
      }
      progress(*done, total, t0, 0);
      if (r->rows == 0)
        break;
      snprintf(r->after, sizeof r->after, "%s", r->last);
    }
    if (in_pass == 0)
      break;
  }
  progress(*done, total, t0, 1);
  return 0;
}

int sp_kek_rotate(int argc, char **argv) {
  long batch = DEFAULT_BATCH;
  int prc = parse_args(argc, argv, &batch);
  if (prc >= 0)
    return prc;
  char err[1024];
  sp_keystore *ks = sp_keystore_open_env(err, sizeof err);
  if (!ks) {
    fprintf(stderr, "simpkictl kek rotate: %s\n", err);
    return SP_EXIT_FAIL;
  }
  sp_db *db = sp_cli_open_db("simpkictl kek rotate");
  if (!db) {
    sp_keystore_close(ks);
    return SP_EXIT_FAIL;
  }
  rotation r = {.ks = ks,
                .cur = sp_keystore_current_id(ks),
                .batch = batch,
                .nids = sp_keystore_count(ks)};
  r.pt = sp_secure_alloc(2 * SEALED_MAX);
  r.by_id = calloc(r.nids, sizeof *r.by_id);
  long *totals = calloc(r.nids, sizeof *totals);
  double t0 = now_s();
  long long done = 0, remaining = -1;
  int failed = 0;
  long long total = count_stale(db, r.cur, err, sizeof err);
  if (!r.pt || !r.by_id || !totals) {
    snprintf(err, sizeof err, "out of memory");
    failed = 1;
  } else if (total < 0) {
    failed = 1;
  } else {
    fprintf(stderr, "simpkictl kek rotate: %lld SIMs to re-seal under %s\n",
            total, r.cur);
    failed = run_passes(db, &r, &done, totals, total, err, sizeof err) != 0;
  }
  if (failed)
    fprintf(stderr, "simpkictl kek rotate: stopped: %s\n", err);
  char err2[512];
  if (!r.pt || !r.by_id || !totals ||
      (remaining = count_stale(db, r.cur, err2, sizeof err2)) < 0)
    remaining = -1;
  json_t *by = json_object();
  for (size_t i = 0; totals && i < r.nids; i++)
    if (totals[i])
      json_object_set_new(by, sp_keystore_id(ks, i), json_integer(totals[i]));
  json_t *j = json_pack("{s:s, s:I, s:o, s:I, s:f}", "kek_id", r.cur,
                        "rewrapped", (json_int_t)done, "by_old_kek", by,
                        "remaining", (json_int_t)remaining, "seconds",
                        now_s() - t0);
  if (failed)
    json_object_set_new(j, "error", json_string(err));
  char *s = json_dumps(j, JSON_SORT_KEYS | JSON_REAL_PRECISION(4));
  printf("%s\n", s);
  free(s);
  json_decref(j);
  if (!failed && remaining != 0)
    fprintf(stderr,
            "simpkictl kek rotate: %lld SIMs are still under an old KEK "
            "(locked, or written meanwhile by a service that still seals "
            "under an old key): run again\n",
            remaining);
  free(totals);
  free(r.by_id);
  sp_secure_free(r.pt, 2 * SEALED_MAX);
  sp_db_close(db);
  sp_keystore_close(ks);
  return failed || remaining != 0 ? SP_EXIT_FAIL : SP_EXIT_OK;
}
