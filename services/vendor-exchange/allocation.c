/* allocation.c - numbering blocks and batch ranges over PostgreSQL. */
#include "allocation.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

/* Serializes allocators and plan loaders: under READ COMMITTED each
 * statement after the lock sees what the previous holder committed, so
 * they never pick the same gap. The exclusion constraints stay the
 * guarantee; the lock only spares the losers a rollback and a retry. */
#define LOCK_SQL "SELECT pg_advisory_xact_lock(hashtext('simpki.numbering'))"

/* Free gaps of one kind's blocks: each block's allocated ranges ordered
 * by number, framed by an empty range at each end of the block; a gap
 * runs from one range's upper bound to the next one's lower bound. */
#define GAPS_CTE                                                             \
  "WITH blk AS (SELECT block_id, first_number, last_number"                  \
  "  FROM numbering_blocks WHERE kind = $1),"                                \
  " used AS (SELECT imsi_block AS block_id, imsi_range AS r"                 \
  "  FROM batch_allocations WHERE $1 = 'imsi'"                               \
  "  UNION ALL SELECT iccid_block, iccid_range"                              \
  "  FROM batch_allocations WHERE $1 = 'iccid'),"                            \
  " edges AS (SELECT u.block_id, lower(u.r) AS lo, upper(u.r) AS hi"         \
  "  FROM used u JOIN blk USING (block_id)"                                  \
  "  UNION ALL SELECT block_id, first_number, first_number FROM blk"         \
  "  UNION ALL SELECT block_id, last_number + 1, last_number + 1 FROM blk)," \
  " gaps AS (SELECT block_id, lag(hi) OVER (PARTITION BY block_id"           \
  "  ORDER BY lo, hi) AS lo, lo AS hi FROM edges) "

__attribute__((format(printf, 3, 4))) static int
refuse(char *errstr, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(errstr, errlen, fmt, ap);
  va_end(ap);
  return 1;
}

static int run(PGconn *c, const char *sql, int np, const char *const *p,
               char *errstr, size_t errlen) {
  PGresult *r = sp_db_query(c, sql, np, p, errstr, errlen);
  if (!r)
    return -1;
  PQclear(r);
  return 0;
}

int vx_allocation_get(PGconn *c, const char *batch_id, vx_allocation *out,
                      char *errstr, size_t errlen) {
  memset(out, 0, sizeof *out);
  const char *p[] = {batch_id};
  PGresult *r = sp_db_query(
      c,
      "SELECT batch_id, quantity, imsi_block, iccid_block, lower(imsi_range),"
      " lower(iccid_range) FROM batch_allocations WHERE batch_id = $1",
      1, p, errstr, errlen);
  if (!r)
    return -1;
  int found = PQntuples(r) == 1;
  if (found) {
    snprintf(out->batch_id, sizeof out->batch_id, "%s", PQgetvalue(r, 0, 0));
    out->quantity = strtol(PQgetvalue(r, 0, 1), NULL, 10);
    snprintf(out->imsi_block, sizeof out->imsi_block, "%s",
             PQgetvalue(r, 0, 2));
    snprintf(out->iccid_block, sizeof out->iccid_block, "%s",
             PQgetvalue(r, 0, 3));
    out->imsi_first = strtoll(PQgetvalue(r, 0, 4), NULL, 10);
    out->iccid_first = strtoll(PQgetvalue(r, 0, 5), NULL, 10);
  }
  PQclear(r);
  return found ? 0 : 1;
}

/* An allocation found for batch_id: the same quantity is the answer, any
 * other is a conflict. */
static int found_existing(vx_allocation *out, long quantity, char *errstr,
                          size_t errlen) {
  if (out->quantity != quantity)
    return refuse(errstr, errlen,
                  "batch %s already has %ld numbers allocated, not %ld",
                  out->batch_id, out->quantity, quantity);
  out->existing = 1;
  return 0;
}

/* Lowest gap of at least quantity numbers; 0 found, 1 none, -1 error. */
static int lowest_gap(PGconn *c, const char *kind, const char *qty,
                      char block_id[33], long long *first, char *errstr,
                      size_t errlen) {
  const char *p[] = {kind, qty};
  PGresult *r = sp_db_query(c,
                            GAPS_CTE "SELECT block_id, lo FROM gaps"
                                     " WHERE hi - lo >= $2::bigint"
                                     " ORDER BY lo LIMIT 1",
                            2, p, errstr, errlen);
  if (!r)
    return -1;
  int found = PQntuples(r) == 1;
  if (found) {
    snprintf(block_id, 33, "%s", PQgetvalue(r, 0, 0));
    *first = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
  }
  PQclear(r);
  return found ? 0 : 1;
}

/* Append "; no IMSI block has N free numbers in a row: B has F free, the
 * largest gap G from X; ..." (or "; no IMSI block is loaded") to msg.
 * 0, or -1 on a database error. */
static int describe_free(PGconn *c, int is_iccid, long quantity, char *msg,
                         size_t msglen, char *errstr, size_t errlen) {
  vx_block_usage *u;
  size_t n;
  if (vx_numbering_usage(c, &u, &n, errstr, errlen))
    return -1;
  const char *kind = is_iccid ? "ICCID" : "IMSI";
  size_t at = strlen(msg), blocks = 0;
  for (size_t i = 0; i < n && at < msglen; i++) {
    if (u[i].block.is_iccid != is_iccid)
      continue;
    if (!blocks++)
      at += (size_t)snprintf(msg + at, msglen - at,
                             "; no %s block has %ld free numbers in a row:",
                             kind, quantity);
    if (at >= msglen)
      break;
    char from[21];
    const char *sep = blocks > 1 ? ";" : "";
    if (u[i].free == 0)
      at += (size_t)snprintf(msg + at, msglen - at, "%s %s is full", sep,
                             u[i].block.block_id);
    else if (vx_number_format(is_iccid, u[i].largest_gap_first, from) == 0)
      at += (size_t)snprintf(
          msg + at, msglen - at,
          "%s %s has %lld free, the largest gap %lld from %s", sep,
          u[i].block.block_id, u[i].free, u[i].largest_gap, from);
  }
  free(u);
  if (!blocks && at < msglen)
    snprintf(msg + at, msglen - at,
             "; no %s block is loaded (simpkictl numbering load)", kind);
  return 0;
}

static int exhausted(PGconn *c, const char *batch_id, long quantity,
                     int imsi_short, int iccid_short, char *errstr,
                     size_t errlen) {
  char msg[1024];
  snprintf(msg, sizeof msg, "cannot allocate %ld numbers for batch %s",
           quantity, batch_id);
  if ((imsi_short &&
       describe_free(c, 0, quantity, msg, sizeof msg, errstr, errlen)) ||
      (iccid_short &&
       describe_free(c, 1, quantity, msg, sizeof msg, errstr, errlen)))
    return -1;
  return refuse(errstr, errlen, "%s", msg);
}

int vx_allocate(PGconn *tx, const char *batch_id, long quantity,
                vx_allocation *out, char *errstr, size_t errlen) {
  memset(out, 0, sizeof *out);
  if (!batch_id || !*batch_id || strlen(batch_id) >= sizeof out->batch_id)
    return refuse(errstr, errlen, "batch id must have 1 to %zu characters",
                  sizeof out->batch_id - 1);
  if (quantity < 1 || quantity > INT_MAX)
    return refuse(errstr, errlen, "batch %s: quantity %ld is out of range",
                  batch_id, quantity);
  /* The common case of a retry: no lock needed to read an answer. */
  int g = vx_allocation_get(tx, batch_id, out, errstr, errlen);
  if (g <= 0)
    return g < 0 ? -1 : found_existing(out, quantity, errstr, errlen);
  if (run(tx, LOCK_SQL, 0, NULL, errstr, errlen))
    return -1;
  /* Whoever held the lock may have allocated this very batch. */
  g = vx_allocation_get(tx, batch_id, out, errstr, errlen);
  if (g <= 0)
    return g < 0 ? -1 : found_existing(out, quantity, errstr, errlen);

  const char *pb[] = {batch_id};
  PGresult *r = sp_db_query(tx, "SELECT 1 FROM batches WHERE batch_id = $1",
                            1, pb, errstr, errlen);
  if (!r)
    return -1;
  int known = PQntuples(r) == 1;
  PQclear(r);
  if (!known)
    return refuse(errstr, errlen, "batch %s does not exist", batch_id);

  char qty[24];
  snprintf(qty, sizeof qty, "%ld", quantity);
  int imsi = lowest_gap(tx, "imsi", qty, out->imsi_block, &out->imsi_first,
                        errstr, errlen);
  if (imsi < 0)
    return -1;
  int iccid = lowest_gap(tx, "iccid", qty, out->iccid_block,
                         &out->iccid_first, errstr, errlen);
  if (iccid < 0)
    return -1;
  if (imsi || iccid)
    return exhausted(tx, batch_id, quantity, imsi, iccid, errstr, errlen);

  char imsi_first[24], iccid_first[24];
  snprintf(imsi_first, sizeof imsi_first, "%lld", out->imsi_first);
  snprintf(iccid_first, sizeof iccid_first, "%lld", out->iccid_first);
  const char *pi[] = {batch_id,   out->imsi_block, out->iccid_block,
                      imsi_first, iccid_first,     qty};
  /* ON CONFLICT covers a same-batch insert the lock did not keep out: we
   * then read what the other transaction stored. */
  r = sp_db_query(tx,
                  "INSERT INTO batch_allocations (batch_id, imsi_block,"
                  " iccid_block, imsi_range, iccid_range, quantity)"
                  " VALUES ($1, $2, $3, int8range($4::bigint, $4::bigint +"
                  " $6::bigint), int8range($5::bigint, $5::bigint +"
                  " $6::bigint), $6::integer)"
                  " ON CONFLICT (batch_id) DO NOTHING RETURNING 1",
                  6, pi, errstr, errlen);
  if (!r)
    return -1;
  int inserted = PQntuples(r) == 1;
  PQclear(r);
  if (!inserted) {
    g = vx_allocation_get(tx, batch_id, out, errstr, errlen);
    if (g != 0)
      return g < 0 ? -1
                   : refuse(errstr, errlen, "batch %s: allocation vanished",
                            batch_id);
    return found_existing(out, quantity, errstr, errlen);
  }
  snprintf(out->batch_id, sizeof out->batch_id, "%s", batch_id);
  out->quantity = quantity;
  return 0;
}

/* ---- the plan ---- */

static void range_text(const vx_block *b, char *out, size_t outlen) {
  char a[21], z[21];
  vx_number_format(b->is_iccid, b->first, a);
  vx_number_format(b->is_iccid, b->last, z);
  snprintf(out, outlen, "%s %s-%s", b->is_iccid ? "iccid" : "imsi", a, z);
}

/* A stored block by id: 0 same definition, 1 refused, 2 not stored. */
static int stored_as(PGconn *tx, const vx_block *b, char *errstr,
                     size_t errlen) {
  const char *p[] = {b->block_id};
  PGresult *r = sp_db_query(tx,
                            "SELECT kind, prefix, digits, first_number,"
                            " last_number FROM numbering_blocks"
                            " WHERE block_id = $1",
                            1, p, errstr, errlen);
  if (!r)
    return -1;
  if (PQntuples(r) == 0) {
    PQclear(r);
    return 2;
  }
  vx_block s = {0};
  snprintf(s.block_id, sizeof s.block_id, "%s", b->block_id);
  s.is_iccid = !strcmp(PQgetvalue(r, 0, 0), "iccid");
  snprintf(s.prefix, sizeof s.prefix, "%s", PQgetvalue(r, 0, 1));
  s.digits = atoi(PQgetvalue(r, 0, 2));
  s.first = strtoll(PQgetvalue(r, 0, 3), NULL, 10);
  s.last = strtoll(PQgetvalue(r, 0, 4), NULL, 10);
  PQclear(r);
  if (s.is_iccid == b->is_iccid && !strcmp(s.prefix, b->prefix) &&
      s.digits == b->digits && s.first == b->first && s.last == b->last)
    return 0;
  char was[64], now[64];
  range_text(&s, was, sizeof was);
  range_text(b, now, sizeof now);
  return refuse(errstr, errlen,
                "block %s is already loaded as %s (prefix %s), not %s "
                "(prefix %s); a loaded block is never redefined",
                b->block_id, was, s.prefix, now, b->prefix);
}

/* A stored block whose numbers meet b's: 0 none, 1 refused. */
static int overlap_stored(PGconn *tx, const vx_block *b, char *errstr,
                          size_t errlen) {
  char first[24], last[24];
  snprintf(first, sizeof first, "%lld", b->first);
  snprintf(last, sizeof last, "%lld", b->last);
  const char *p[] = {first, last};
  PGresult *r = sp_db_query(tx,
                            "SELECT block_id, kind = 'iccid', first_number,"
                            " last_number FROM numbering_blocks WHERE"
                            " numbers && int8range($1::bigint, $2::bigint,"
                            " '[]') ORDER BY first_number LIMIT 1",
                            2, p, errstr, errlen);
  if (!r)
    return -1;
  if (PQntuples(r) == 0) {
    PQclear(r);
    return 0;
  }
  vx_block o = {0};
  snprintf(o.block_id, sizeof o.block_id, "%s", PQgetvalue(r, 0, 0));
  o.is_iccid = !strcmp(PQgetvalue(r, 0, 1), "t");
  o.first = strtoll(PQgetvalue(r, 0, 2), NULL, 10);
  o.last = strtoll(PQgetvalue(r, 0, 3), NULL, 10);
  PQclear(r);
  char mine[64], theirs[64];
  range_text(b, mine, sizeof mine);
  range_text(&o, theirs, sizeof theirs);
  return refuse(errstr, errlen,
                "block %s (%s) overlaps block %s (%s) already loaded",
                b->block_id, mine, o.block_id, theirs);
}

static int insert_block(PGconn *tx, const vx_block *b, char *errstr,
                        size_t errlen) {
  char digits[8], first[24], last[24];
  snprintf(digits, sizeof digits, "%d", b->digits);
  snprintf(first, sizeof first, "%lld", b->first);
  snprintf(last, sizeof last, "%lld", b->last);
  const char *p[] = {b->block_id, b->is_iccid ? "iccid" : "imsi", b->prefix,
                     digits,      first,                          last};
  return run(tx,
             "INSERT INTO numbering_blocks (block_id, kind, prefix, digits,"
             " first_number, last_number) VALUES ($1, $2, $3, $4::integer,"
             " $5::bigint, $6::bigint)",
             6, p, errstr, errlen);
}

int vx_numbering_store(PGconn *tx, const vx_block *blocks, size_t n,
                       char *errstr, size_t errlen) {
  if (!n)
    return refuse(errstr, errlen, "no blocks to load");
  /* Blocks may come from elsewhere than vx_numbering_parse. */
  for (size_t i = 0; i < n; i++) {
    if (vx_block_check(&blocks[i], errstr, errlen))
      return 1;
    for (size_t j = 0; j < i; j++) {
      if (!strcmp(blocks[i].block_id, blocks[j].block_id))
        return refuse(errstr, errlen, "block id %s is given twice",
                      blocks[i].block_id);
      if (blocks[i].first <= blocks[j].last &&
          blocks[j].first <= blocks[i].last)
        return refuse(errstr, errlen, "blocks %s and %s overlap",
                      blocks[j].block_id, blocks[i].block_id);
    }
  }
  if (run(tx, LOCK_SQL, 0, NULL, errstr, errlen))
    return -1;
  for (size_t i = 0; i < n; i++) {
    int s = stored_as(tx, &blocks[i], errstr, errlen);
    if (s == 0)
      continue; /* loaded before: loading a plan again changes nothing */
    if (s != 2)
      return s;
    int o = overlap_stored(tx, &blocks[i], errstr, errlen);
    if (o)
      return o;
    if (insert_block(tx, &blocks[i], errstr, errlen))
      return -1;
  }
  return 0;
}

/* Per block: allocated numbers, batches, and the largest gap (the lowest
 * one when several are as large), gaps found as in GAPS_CTE. */
#define USAGE_SQL                                                            \
  "WITH used AS (SELECT imsi_block AS block_id, lower(imsi_range) AS lo,"    \
  "  upper(imsi_range) AS hi FROM batch_allocations"                         \
  "  UNION ALL SELECT iccid_block, lower(iccid_range), upper(iccid_range)"   \
  "  FROM batch_allocations),"                                               \
  " edges AS (SELECT block_id, lo, hi FROM used"                             \
  "  UNION ALL SELECT block_id, first_number, first_number"                  \
  "  FROM numbering_blocks"                                                  \
  "  UNION ALL SELECT block_id, last_number + 1, last_number + 1"            \
  "  FROM numbering_blocks),"                                                \
  " gaps AS (SELECT block_id, hi - lo AS used_n, lo AS gap_hi,"              \
  "  lag(hi) OVER (PARTITION BY block_id ORDER BY lo, hi) AS gap_lo"         \
  "  FROM edges),"                                                           \
  " per AS (SELECT block_id, coalesce(sum(used_n), 0) AS allocated,"         \
  "  count(*) FILTER (WHERE used_n > 0) AS batches FROM gaps"                \
  "  GROUP BY block_id),"                                                    \
  " largest AS (SELECT DISTINCT ON (block_id) block_id, gap_lo,"             \
  "  gap_hi - gap_lo AS size FROM gaps WHERE gap_hi > gap_lo"                \
  "  ORDER BY block_id, gap_hi - gap_lo DESC, gap_lo)"                       \
  " SELECT b.block_id, b.kind = 'iccid', b.prefix, b.digits,"                \
  "  b.first_number, b.last_number, p.allocated, p.batches,"                 \
  "  coalesce(l.size, 0), coalesce(l.gap_lo, 0)"                             \
  " FROM numbering_blocks b JOIN per p USING (block_id)"                     \
  " LEFT JOIN largest l USING (block_id)"                                    \
  " ORDER BY b.kind = 'iccid', b.first_number"

int vx_numbering_usage(PGconn *c, vx_block_usage **usage, size_t *n,
                       char *errstr, size_t errlen) {
  *usage = NULL;
  *n = 0;
  PGresult *r = sp_db_query(c, USAGE_SQL, 0, NULL, errstr, errlen);
  if (!r)
    return -1;
  size_t rows = (size_t)PQntuples(r);
  vx_block_usage *u = calloc(rows ? rows : 1, sizeof *u);
  if (!u) {
    PQclear(r);
    snprintf(errstr, errlen, "out of memory");
    return -1;
  }
  for (size_t i = 0; i < rows; i++) {
    vx_block *b = &u[i].block;
    snprintf(b->block_id, sizeof b->block_id, "%s", PQgetvalue(r, i, 0));
    b->is_iccid = !strcmp(PQgetvalue(r, i, 1), "t");
    snprintf(b->prefix, sizeof b->prefix, "%s", PQgetvalue(r, i, 2));
    b->digits = atoi(PQgetvalue(r, i, 3));
    b->first = strtoll(PQgetvalue(r, i, 4), NULL, 10);
    b->last = strtoll(PQgetvalue(r, i, 5), NULL, 10);
    u[i].allocated = strtoll(PQgetvalue(r, i, 6), NULL, 10);
    u[i].batches = strtol(PQgetvalue(r, i, 7), NULL, 10);
    u[i].largest_gap = strtoll(PQgetvalue(r, i, 8), NULL, 10);
    u[i].largest_gap_first = strtoll(PQgetvalue(r, i, 9), NULL, 10);
    u[i].free = vx_block_size(b) - u[i].allocated;
  }
  PQclear(r);
  *usage = u;
  *n = rows;
  return 0;
}
