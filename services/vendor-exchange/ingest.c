/* ingest.c - judge a vendor output file and store its SIMs (B4). */
#include "ingest.h"

#include <errno.h>
#include <libgen.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "event.h"
#include "line_reader.h"
#include "log.h"
#include "numbering.h"
#include "outbox.h"
#include "sim_secrets.h"
#include "vendor_file.h"

#define COPY_FLUSH (256 * 1024)

/* ---- binary COPY rows ---- */

typedef struct copybuf {
  PGconn *c;
  unsigned char *p;
  size_t len, cap;
  int failed;
} copybuf;

static void cb_put(copybuf *b, const void *data, size_t n) {
  if (b->len + n > b->cap) {
    while (b->len + n > b->cap)
      b->cap = b->cap ? b->cap * 2 : COPY_FLUSH * 2;
    b->p = realloc(b->p, b->cap);
  }
  memcpy(b->p + b->len, data, n);
  b->len += n;
}

static void cb_i16(copybuf *b, int16_t v) {
  unsigned char x[2] = {(unsigned char)((uint16_t)v >> 8),
                        (unsigned char)((uint16_t)v & 0xff)};
  cb_put(b, x, 2);
}

static void cb_i32(copybuf *b, int32_t v) {
  uint32_t u = (uint32_t)v;
  unsigned char x[4] = {(unsigned char)(u >> 24), (unsigned char)(u >> 16),
                        (unsigned char)(u >> 8), (unsigned char)u};
  cb_put(b, x, 4);
}

static void cb_i64(copybuf *b, int64_t v) {
  unsigned char x[8];
  for (int i = 0; i < 8; i++)
    x[i] = (unsigned char)((uint64_t)v >> (56 - 8 * i));
  cb_put(b, x, 8);
}

static void cb_field(copybuf *b, const void *data, size_t n) {
  cb_i32(b, data ? (int32_t)n : -1);
  if (data)
    cb_put(b, data, n);
}

static void cb_text(copybuf *b, const char *s) { cb_field(b, s, strlen(s)); }

static int cb_flush(copybuf *b, int force) {
  if (b->failed || b->len == 0 || (!force && b->len < COPY_FLUSH))
    return b->failed ? -1 : 0;
  if (PQputCopyData(b->c, (const char *)b->p, (int)b->len) != 1)
    b->failed = 1;
  /* The buffer held sealed keys only, but wipe it all the same. */
  sp_wipe(b->p, b->len);
  b->len = 0;
  return b->failed ? -1 : 0;
}

/* ---- the checks ---- */

typedef struct batch_info {
  char order_id[64], vendor_id[33], profile[24], input_sha[65], tk_id[65];
  long quantity;
  long long imsi_first, iccid_first;
  int accepted;
} batch_info;

typedef struct ingest_tx {
  const vx_ingest_conf *conf;
  const char *path;
  vx_ingest_result *res;
  int rejected;      /* judged: reject */
  int judged_before; /* this very file has a verdict already */
} ingest_tx;

__attribute__((format(printf, 3, 4))) static int
reject(ingest_tx *t, long line, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(t->res->reason, sizeof t->res->reason, fmt, ap);
  va_end(ap);
  t->res->line_no = line;
  t->res->accepted = 0;
  t->rejected = 1;
  return SP_DB_REJECT;
}

static int load_batch(PGconn *c, const char *batch_id, batch_info *b,
                      char *errstr, size_t errlen) {
  const char *p[] = {batch_id};
  PGresult *r = sp_db_query(
      c,
      "SELECT f.input_sha256, f.transport_key_id, f.output_sha256 IS NOT "
      "NULL, a.quantity, lower(a.imsi_range), lower(a.iccid_range), "
      "b.order_id, b.vendor_id, b.profile FROM batch_files f JOIN "
      "batch_allocations a USING (batch_id) JOIN batches b USING (batch_id) "
      "WHERE f.batch_id = $1 FOR UPDATE OF f",
      1, p, errstr, errlen);
  if (!r)
    return -1;
  int found = PQntuples(r) == 1;
  if (found) {
    snprintf(b->input_sha, sizeof b->input_sha, "%s", PQgetvalue(r, 0, 0));
    snprintf(b->tk_id, sizeof b->tk_id, "%s", PQgetvalue(r, 0, 1));
    b->accepted = PQgetvalue(r, 0, 2)[0] == 't';
    b->quantity = atol(PQgetvalue(r, 0, 3));
    b->imsi_first = atoll(PQgetvalue(r, 0, 4));
    b->iccid_first = atoll(PQgetvalue(r, 0, 5));
    snprintf(b->order_id, sizeof b->order_id, "%s", PQgetvalue(r, 0, 6));
    snprintf(b->vendor_id, sizeof b->vendor_id, "%s", PQgetvalue(r, 0, 7));
    snprintf(b->profile, sizeof b->profile, "%s", PQgetvalue(r, 0, 8));
  }
  PQclear(r);
  return found ? 1 : 0;
}

/* End a COPY: commit its rows (reason NULL) or abort it; 0 when the
 * server took the rows. */
static int copy_end(PGconn *c, const char *abort_reason, char *errstr,
                    size_t errlen) {
  int ok = PQputCopyEnd(c, abort_reason) == 1;
  PGresult *r;
  while ((r = PQgetResult(c)) != NULL) {
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
      ok = 0;
      if (!abort_reason) {
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        snprintf(errstr, errlen, "%s", PQresultErrorMessage(r));
        sp_db_set_sqlstate(state ? state : "");
      }
    }
    PQclear(r);
  }
  return ok ? 0 : -1;
}

/* Seal one key under the KEK with the IMSI as associated data. */
/* ---- SIM lines: checked one by one, stored a group at a time ---- */

/* The syntax, the ranges and the pairing of one SIM line; 0, or -1 with the
 * reason in msg (line number included). Marks the SIM seen. */
static int sim_line_check(const char *line, size_t len, long ln,
                          const batch_info *b, int usim, unsigned char *seen,
                          vx_sim_line *s, long long *imsi_out, char *msg,
                          size_t msglen) {
  char why[256];
  if (vx_sim_line_parse(line, len, usim, s, why, sizeof why)) {
    snprintf(msg, msglen, "line %ld: %s", ln, why);
    return -1;
  }
  long long iccid, imsi;
  if (vx_iccid_parse(s->iccid, strlen(s->iccid), &iccid, why, sizeof why)) {
    snprintf(msg, msglen, "line %ld: ICCID %s: %s", ln, s->iccid, why);
    return -1;
  }
  if (vx_imsi_parse(s->imsi, strlen(s->imsi), &imsi, why, sizeof why)) {
    snprintf(msg, msglen, "line %ld: IMSI %s: %s", ln, s->imsi, why);
    return -1;
  }
  long long off = iccid - b->iccid_first;
  if (off < 0 || off >= b->quantity) {
    snprintf(msg, msglen, "line %ld: ICCID %s is outside the batch's range",
             ln, s->iccid);
    return -1;
  }
  if (imsi - b->imsi_first < 0 || imsi - b->imsi_first >= b->quantity) {
    snprintf(msg, msglen, "line %ld: IMSI %s is outside the batch's range",
             ln, s->imsi);
    return -1;
  }
  if (imsi - b->imsi_first != off) {
    snprintf(msg, msglen,
             "line %ld: ICCID %s is paired with IMSI %s; the allocation "
             "pairs it with another IMSI",
             ln, s->iccid, s->imsi);
    return -1;
  }
  if (seen[off / 8] & (1u << (off % 8))) {
    snprintf(msg, msglen, "line %ld: ICCID %s (and its IMSI) appears twice",
             ln, s->iccid);
    return -1;
  }
  seen[off / 8] |= (unsigned char)(1u << (off % 8));
  *imsi_out = imsi;
  return 0;
}

/* Checked lines waiting for their keys: unwrapping a group in one call lets
 * AES-NI work on hundreds of blocks at a time (see sp_unwrapper_run_many). */
#define GROUP (SP_UNWRAP_MANY / 2)
typedef struct sim_group {
  size_t n;
  long ln[GROUP];
  long long imsi[GROUP];
  vx_sim_line s[GROUP];
  unsigned char wrapped[2 * GROUP][VX_WRAPPED_KEY];
  unsigned char keys[2 * GROUP][VX_KEY];
  unsigned char ok[2 * GROUP];
} sim_group;

typedef struct store_ctx {
  PGconn *c;
  copybuf *cb;
  sp_unwrapper *unwrapper;
  sp_sealer *sealer;
  const char *kek_id, *batch_id, *tk_id;
  int usim;
} store_ctx;

/* Unwrap, seal and COPY the group's SIMs in file order, so that the first
 * bad line of the file is the one reported. 0 when all went in; -1 with *rc
 * saying how the transaction ends. The group is wiped either way. */
static int group_store(ingest_tx *t, const store_ctx *x, sim_group *g,
                       int *rc, char *errstr, size_t errlen) {
  size_t per = x->usim ? 2 : 1;
  int result = 0;
  for (size_t i = 0; i < g->n; i++) {
    memcpy(g->wrapped[i * per], g->s[i].ki_wrapped, VX_WRAPPED_KEY);
    if (x->usim)
      memcpy(g->wrapped[i * per + 1], g->s[i].opc_wrapped, VX_WRAPPED_KEY);
  }
  if (g->n && sp_unwrapper_run_many(x->unwrapper, &g->wrapped[0][0],
                                    g->n * per, &g->keys[0][0], g->ok, errstr,
                                    errlen) < 0) {
    *rc = SP_DB_ERROR;
    result = -1;
  }
  for (size_t i = 0; !result && i < g->n; i++) {
    const vx_sim_line *s = &g->s[i];
    int ki_ok = g->ok[i * per], opc_ok = !x->usim || g->ok[i * per + 1];
    if (!ki_ok || !opc_ok) {
      *rc = reject(t, g->ln[i],
                   "line %ld: %s does not unwrap with transport key %s (a "
                   "wrong key or altered bytes)",
                   g->ln[i], ki_ok ? "OPC" : "KI", x->tk_id);
      result = -1;
      break;
    }
    /* The clear record lives only in sec and plain, wiped at once. */
    sp_sim_secrets sec = {.has_opc = x->usim};
    unsigned char plain[SP_SIMSEC_PLAIN], sealed[SP_SIMSEC_SEALED];
    size_t sl = 0;
    memcpy(sec.ki, g->keys[i * per], VX_KEY);
    if (x->usim)
      memcpy(sec.opc, g->keys[i * per + 1], VX_KEY);
    memcpy(sec.adm1, s->adm1, sizeof sec.adm1);
    memcpy(sec.pin1, s->pin1, sizeof sec.pin1);
    memcpy(sec.puk1, s->puk1, sizeof sec.puk1);
    memcpy(sec.pin2, s->pin2, sizeof sec.pin2);
    memcpy(sec.puk2, s->puk2, sizeof sec.puk2);
    int bad = sp_simsec_encode(&sec, plain) ||
              sp_sealer_seal(x->sealer, (const unsigned char *)s->imsi,
                             strlen(s->imsi), plain, sizeof plain, sealed, &sl,
                             errstr, errlen);
    sp_wipe(plain, sizeof plain);
    sp_wipe(&sec, sizeof sec);
    if (bad) { /* the KEK failed us: not judged */
      *rc = SP_DB_ERROR;
      result = -1;
      break;
    }
    cb_i16(x->cb, 5);
    cb_text(x->cb, s->iccid);
    cb_i32(x->cb, 8);
    cb_i64(x->cb, g->imsi[i]);
    cb_text(x->cb, x->batch_id);
    cb_text(x->cb, x->kek_id);
    cb_field(x->cb, sealed, sl);
    if (cb_flush(x->cb, 0)) {
      snprintf(errstr, errlen, "COPY failed: %s", PQerrorMessage(x->c));
      *rc = SP_DB_ERROR;
      result = -1;
    }
  }
  sp_wipe(g->keys, sizeof g->keys);
  sp_wipe(g->s, g->n * sizeof g->s[0]);
  g->n = 0;
  return result;
}

static int ingest_fn(PGconn *c, void *arg, char *errstr, size_t errlen) {
  ingest_tx *t = arg;
  vx_ingest_result *res = t->res;
  memset(res, 0, sizeof *res);
  t->rejected = t->judged_before = 0;

  FILE *fp = fopen(t->path, "rb");
  if (!fp) {
    snprintf(errstr, errlen, "cannot open %s: %s", t->path, strerror(errno));
    return SP_DB_REJECT;
  }
  vx_line_reader lr;
  int rc = SP_DB_ERROR, copying = 0;
  if (vx_line_reader_init(&lr, fp, VX_MAX_LINE) ||
      vx_line_reader_digest(&lr)) {
    snprintf(errstr, errlen, "out of memory");
    vx_line_reader_free(&lr);
    fclose(fp);
    return SP_DB_ERROR;
  }
  unsigned char *seen = NULL;
  unsigned char tk[SP_AES256_KEY_BYTES];
  int have_tk = 0;
  sp_unwrapper *unwrapper = NULL;
  sp_sealer *sealer = NULL;
  copybuf cb = {.c = c};
  sim_group *group = NULL;
  const char *line;
  size_t len;
  char why[256];
  int got;

  /* The header. */
  vx_header_reader hr;
  vx_header_reader_init(&hr);
  int hdone = 0;
  while (!hdone && (got = vx_line_next(&lr, &line, &len, why, sizeof why)) == 1) {
    int h = vx_header_feed(&hr, line, len, why, sizeof why);
    if (h < 0) {
      rc = reject(t, lr.lineno, "line %ld: %s", lr.lineno, why);
      goto out;
    }
    hdone = h == 1;
  }
  if (!hdone) {
    rc = got == -2 ? SP_DB_ERROR
         : got < 0 ? reject(t, lr.lineno, "%s", why)
                   : reject(t, lr.lineno ? lr.lineno : 0,
                            lr.lineno ? "the file ends inside its header"
                                      : "the file is empty");
    if (got == -2)
      snprintf(errstr, errlen, "%s", why);
    goto out;
  }
  const vx_output_header *h = &hr.h;
  snprintf(res->batch_id, sizeof res->batch_id, "%s", h->batch_id);

  batch_info b;
  int found = load_batch(c, h->batch_id, &b, errstr, errlen);
  if (found < 0)
    goto out;
  if (!found) {
    res->batch_id[0] = '\0';
    rc = reject(t, 0, "unknown batch %.80s: no input file was issued for it",
                h->batch_id);
    goto out;
  }
  snprintf(res->vendor_id, sizeof res->vendor_id, "%s", b.vendor_id);
  if (b.accepted) {
    rc = reject(t, 0, "batch %s was already accepted from another file",
                h->batch_id);
    goto out;
  }
  if (strcmp(h->input_sha256, b.input_sha)) {
    rc = reject(t, 0,
                "the header answers input file %.12s..., but batch %s's "
                "input file is %.12s...",
                h->input_sha256, h->batch_id, b.input_sha);
    goto out;
  }
  if (h->quantity != b.quantity) {
    rc = reject(t, 0, "the header says %ld SIMs; batch %s has %ld",
                h->quantity, h->batch_id, b.quantity);
    goto out;
  }
  if (strcmp(h->transport_key_id, b.tk_id)) {
    rc = reject(t, 0,
                "the header names transport key %.64s; batch %s uses %s",
                h->transport_key_id, h->batch_id, b.tk_id);
    goto out;
  }
  int usim = !strcmp(b.profile, "usim_milenage");
  if (h->usim != usim) {
    rc = reject(t, 0, "VARIABLES do not fit the batch's %s profile",
                b.profile);
    goto out;
  }
  if (sp_transport_key_load(t->conf->transport_key_dir, b.tk_id, tk, errstr,
                            errlen))
    goto out; /* our configuration, not the vendor's fault: not judged */
  have_tk = 1;
  if (!(unwrapper = sp_unwrapper_new(tk, errstr, errlen)) ||
      !(sealer = sp_keystore_sealer(t->conf->keys, NULL, errstr, errlen)))
    goto out;

  seen = calloc((size_t)b.quantity / 8 + 1, 1);
  PGresult *r = PQexec(c, "COPY sims (iccid, imsi, batch_id, kek_id, "
                          "secrets_enc) FROM STDIN (FORMAT binary)");
  if (PQresultStatus(r) != PGRES_COPY_IN) {
    snprintf(errstr, errlen, "cannot start COPY: %s", PQresultErrorMessage(r));
    PQclear(r);
    goto out;
  }
  PQclear(r);
  copying = 1;
  static const unsigned char sig[] = "PGCOPY\n\377\r\n";
  cb_put(&cb, sig, 11);
  cb_i32(&cb, 0);
  cb_i32(&cb, 0);
  const char *kek_id = sp_sealer_kek_id(sealer);

  long count = 0;
  int ended = 0, blank_after_end = 0;
  store_ctx x = {c, &cb, unwrapper, sealer, kek_id, h->batch_id, b.tk_id,
                 usim};
  if (!(group = malloc(sizeof *group))) {
    snprintf(errstr, errlen, "out of memory");
    goto out;
  }
  group->n = 0;
  char msg[512];
  while ((got = vx_line_next(&lr, &line, &len, why, sizeof why)) == 1) {
    long ln = lr.lineno;
    if (ended) {
      if (len == 0 && !blank_after_end) {
        blank_after_end = 1;
        continue;
      }
      rc = reject(t, ln, "line %ld: text after *END", ln);
      goto out;
    }
    if (len == 4 && !memcmp(line, "*END", 4)) {
      ended = 1;
      if (group_store(t, &x, group, &rc, errstr, errlen))
        goto out;
      continue;
    }
    vx_sim_line *s = &group->s[group->n];
    if (++count > b.quantity) {
      snprintf(msg, sizeof msg,
               "line %ld: more SIM lines than the %ld of the batch", ln,
               b.quantity);
    } else if (!sim_line_check(line, len, ln, &b, usim, seen, s,
                               &group->imsi[group->n], msg, sizeof msg)) {
      group->ln[group->n++] = ln;
      if (group->n == GROUP && group_store(t, &x, group, &rc, errstr, errlen))
        goto out;
      if (count % 100000 == 0) { /* a million-SIM file takes seconds */
        char done[24], of[24];
        snprintf(done, sizeof done, "%ld", count);
        snprintf(of, sizeof of, "%ld", b.quantity);
        sp_info("ingest progress", "batch_id", h->batch_id, "sims_checked",
                done, "sims", of);
      }
      continue;
    }
    /* A bad line: the lines before it are judged first. */
    sp_wipe(s, sizeof *s);
    if (group_store(t, &x, group, &rc, errstr, errlen))
      goto out;
    rc = reject(t, ln, "%s", msg);
    goto out;
  }
  if (group_store(t, &x, group, &rc, errstr, errlen))
    goto out;
  if (got < 0) {
    if (got == -2) {
      snprintf(errstr, errlen, "%s", why);
      goto out;
    }
    rc = reject(t, lr.lineno, "%s", why);
    goto out;
  }
  if (!ended) {
    rc = reject(t, lr.lineno + 1, "the file ends without *END (cut short?)");
    goto out;
  }
  if (count != b.quantity) {
    rc = reject(t, 0, "%ld SIM lines; the batch has %ld", count, b.quantity);
    goto out;
  }
  cb_i16(&cb, -1);
  copying = 0;
  if (cb_flush(&cb, 1) || copy_end(c, NULL, errstr, errlen)) {
    /* Unique violation: a SIM of the file is stored already. */
    if (!strcmp(sp_db_last_sqlstate(), "23505"))
      rc = reject(t, 0, "an ICCID or IMSI of the file is already stored");
    goto out;
  }
  res->sims = count;

  char iccid_first[21], iccid_last[21], imsi_first[16], imsi_last[16];
  vx_iccid_format(b.iccid_first, iccid_first);
  vx_iccid_format(b.iccid_first + b.quantity - 1, iccid_last);
  vx_imsi_format(b.imsi_first, imsi_first);
  vx_imsi_format(b.imsi_first + b.quantity - 1, imsi_last);
  /* The file's hash, now that it is read: a file judged before (by an
   * earlier version that refused it, say) keeps its first verdict. */
  if (vx_line_reader_digest_final(&lr, res->sha256)) {
    snprintf(errstr, errlen, "cannot read %s", t->path);
    goto out;
  }
  const char *ps[] = {res->sha256};
  PGresult *seen_before = sp_db_query(
      c, "SELECT 1 FROM vendor_output_files WHERE sha256 = $1", 1, ps, errstr,
      errlen);
  if (!seen_before)
    goto out;
  t->judged_before = PQntuples(seen_before) > 0;
  PQclear(seen_before);
  if (t->judged_before) {
    rc = SP_DB_REJECT;
    goto out;
  }
  const char *pu[] = {h->batch_id, res->sha256};
  if (sp_db_exec(c,
                 "UPDATE batch_files SET output_sha256 = $2, "
                 "output_accepted_at = now() WHERE batch_id = $1",
                 2, pu, errstr, errlen) != 1 ||
      sp_db_exec(c,
                 "INSERT INTO vendor_output_files (sha256, batch_id, verdict) "
                 "VALUES ($2, $1, 'accepted')",
                 2, pu, errstr, errlen) != 1)
    goto out;
  char subject[128];
  snprintf(subject, sizeof subject, "batch/%s", h->batch_id);
  json_t *data = json_pack(
      "{s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
      "batch_id", h->batch_id, "order_id", b.order_id, "vendor_id",
      b.vendor_id, "sims", (json_int_t)count, "profile", b.profile,
      "iccid_first", iccid_first, "iccid_last", iccid_last, "imsi_first",
      imsi_first, "imsi_last", imsi_last, "output_sha256", res->sha256,
      "input_sha256", b.input_sha, "kek_id", kek_id);
  if (sp_outbox_publish(c, VX_PRODUCER, VX_SOURCE, VX_TOPIC_BATCHES,
                        "batch.output_accepted", subject, b.order_id, data,
                        errstr, errlen))
    goto out;
  res->accepted = 1;
  rc = SP_DB_OK;
out:
  if (copying)
    copy_end(c, "the file was refused", why, sizeof why);
  /* A verdict needs the file's hash: read the rest of it. */
  if (t->rejected && lr.md && vx_line_reader_digest_final(&lr, res->sha256)) {
    snprintf(errstr, errlen, "cannot read %s", t->path);
    t->rejected = 0;
    rc = SP_DB_ERROR;
  }
  if (have_tk)
    sp_wipe(tk, sizeof tk);
  sp_unwrapper_free(unwrapper);
  sp_sealer_free(sealer);
  if (cb.p) {
    sp_wipe(cb.p, cb.cap);
    free(cb.p);
  }
  if (group) {
    sp_wipe(group, sizeof *group);
    free(group);
  }
  free(seen);
  vx_line_reader_free(&lr);
  fclose(fp);
  return rc;
}

/* ---- the verdict of a refused file ---- */

typedef struct verdict_tx {
  vx_ingest_result *res;
} verdict_tx;

static int verdict_fn(PGconn *c, void *arg, char *errstr, size_t errlen) {
  vx_ingest_result *res = ((verdict_tx *)arg)->res;
  char line[24];
  snprintf(line, sizeof line, "%ld", res->line_no);
  const char *pv[] = {res->sha256, res->batch_id, res->reason, line};
  /* The order the batch belongs to, when the header named a real one. */
  PGresult *r = sp_db_query(
      c,
      "WITH v AS (INSERT INTO vendor_output_files (sha256, batch_id, "
      "verdict, reason, line_no) VALUES ($1, nullif($2, ''), 'rejected', $3, "
      "nullif($4, '0')::integer) ON CONFLICT (sha256) DO NOTHING RETURNING "
      "1) SELECT (SELECT count(*) FROM v), (SELECT order_id FROM batches "
      "WHERE batch_id = $2)",
      4, pv, errstr, errlen);
  if (!r)
    return SP_DB_ERROR;
  int inserted = atoi(PQgetvalue(r, 0, 0)) == 1;
  char order_id[64];
  snprintf(order_id, sizeof order_id, "%s",
           PQgetisnull(r, 0, 1) ? "" : PQgetvalue(r, 0, 1));
  PQclear(r);
  if (!inserted)
    return SP_DB_OK; /* judged already by someone else */
  char subject[128];
  if (order_id[0])
    snprintf(subject, sizeof subject, "batch/%s", res->batch_id);
  else
    snprintf(subject, sizeof subject, "vendorfile/%.64s", res->sha256);
  json_t *data = json_pack("{s:s, s:s, s:I, s:s}", "output_sha256",
                           res->sha256, "reason", res->reason, "line",
                           (json_int_t)res->line_no, "vendor_id",
                           res->vendor_id);
  if (order_id[0])
    json_object_set_new(data, "batch_id", json_string(res->batch_id));
  return sp_outbox_publish(c, VX_PRODUCER, VX_SOURCE, VX_TOPIC_BATCHES,
                           "batch.output_rejected", subject,
                           order_id[0] ? order_id : subject, data, errstr,
                           errlen)
             ? SP_DB_ERROR
             : SP_DB_OK;
}

static int earlier_verdict(sp_db *db, vx_ingest_result *res, char *errstr,
                           size_t errlen) {
  const char *p[] = {res->sha256};
  PGresult *r = sp_db_query(sp_db_conn(db),
                            "SELECT coalesce(batch_id, ''), verdict, "
                            "coalesce(reason, ''), coalesce(line_no, 0) FROM "
                            "vendor_output_files WHERE sha256 = $1",
                            1, p, errstr, errlen);
  if (!r)
    return -1;
  int found = PQntuples(r) == 1;
  if (found) {
    res->already = 1;
    snprintf(res->batch_id, sizeof res->batch_id, "%s", PQgetvalue(r, 0, 0));
    res->accepted = !strcmp(PQgetvalue(r, 0, 1), "accepted");
    snprintf(res->reason, sizeof res->reason, "%s", PQgetvalue(r, 0, 2));
    res->line_no = atol(PQgetvalue(r, 0, 3));
  }
  PQclear(r);
  return found;
}

int vx_ingest_file(sp_db *db, const vx_ingest_conf *conf, const char *path,
                   vx_ingest_result *res, char *errstr, size_t errlen) {
  memset(res, 0, sizeof *res);
  if (sp_db_ensure(db, errstr, errlen))
    return -1;
  /* The file is read once: parsed, stored and hashed in one pass. Whether
   * it was judged before is known from its hash at the end, which costs a
   * rolled-back COPY in that rare case rather than a second read always. */
  ingest_tx t = {conf, path, res, 0, 0};
  int rc = sp_db_tx(db, ingest_fn, &t, errstr, errlen);
  if (rc != SP_DB_OK && (t.rejected || t.judged_before)) {
    int before = earlier_verdict(db, res, errstr, errlen);
    if (before < 0)
      return -1;
    if (before) {
      sp_info("vendor file judged before; nothing changed", "file", path,
              "sha256", res->sha256, "batch_id", res->batch_id);
      return 0;
    }
    if (t.judged_before) { /* its verdict went away meanwhile: odd */
      snprintf(errstr, errlen, "the verdict on %s changed meanwhile; retry",
               path);
      return -1;
    }
  }
  if (rc == SP_DB_OK) {
    char n[24];
    snprintf(n, sizeof n, "%ld", res->sims);
    sp_info("vendor file accepted", "file", path, "batch_id", res->batch_id,
            "sims", n, "sha256", res->sha256);
    return 0;
  }
  if (!t.rejected)
    return -1;
  char line[24];
  snprintf(line, sizeof line, "%ld", res->line_no);
  sp_warn("vendor file rejected", "file", path, "batch_id", res->batch_id,
          "line", line, "reason", res->reason);
  verdict_tx v = {res};
  if (sp_db_tx(db, verdict_fn, &v, errstr, errlen) != SP_DB_OK)
    return -1;
  return 0;
}

/* ---- filing ---- */

static int ensure_dir(const char *dir, char *errstr, size_t errlen) {
  if (mkdir(dir, 0750) == 0 || errno == EEXIST)
    return 0;
  snprintf(errstr, errlen, "cannot create %s: %s", dir, strerror(errno));
  return -1;
}

int vx_ingest_file_away(const char *path, const char *dir,
                        const vx_ingest_result *res, char *errstr,
                        size_t errlen) {
  char copy[4096], target_dir[4096], target[4096 + 256];
  snprintf(copy, sizeof copy, "%s", path);
  const char *name = basename(copy);
  snprintf(target_dir, sizeof target_dir, "%s/%s", dir,
           res->accepted ? "processed" : "rejected");
  if (ensure_dir(dir, errstr, errlen) ||
      ensure_dir(target_dir, errstr, errlen))
    return -1;
  snprintf(target, sizeof target, "%s/%s", target_dir, name);
  if (!res->accepted) {
    char reason_path[4096 + 300];
    snprintf(reason_path, sizeof reason_path, "%s.reason", target);
    FILE *fp = fopen(reason_path, "w");
    if (!fp) {
      snprintf(errstr, errlen, "cannot write %s: %s", reason_path,
               strerror(errno));
      return -1;
    }
    if (res->line_no)
      fprintf(fp, "line %ld\n", res->line_no);
    fprintf(fp, "%s\nsha256 %s\n", res->reason, res->sha256);
    fclose(fp);
  }
  if (rename(path, target)) {
    snprintf(errstr, errlen, "cannot move %s to %s: %s", path, target,
             strerror(errno));
    return -1;
  }
  return 0;
}
