/* allocation.h - the numbering plan and each batch's number ranges in
 * PostgreSQL (B3).
 *
 * A batch gets one contiguous IMSI range and one contiguous ICCID range of
 * its quantity, the lowest free ones. The exclusion constraints of
 * batch_allocations are what guarantees that no two batches overlap; the
 * functions here only find the gaps. Two allocators are kept from picking
 * the same gap by a transaction-scoped advisory lock, and if one still
 * does (a caller in REPEATABLE READ, a writer that skips the lock) its
 * insert fails with 23P01, which sp_db_tx retries.
 *
 * Every function runs inside the caller's transaction and returns -1 on a
 * database error with the SQLSTATE kept by sp_db, so that the caller's
 * transaction function can return SP_DB_ERROR and let sp_db_tx decide. */
#ifndef VX_ALLOCATION_H
#define VX_ALLOCATION_H

#include <libpq-fe.h>
#include <stddef.h>

#include "numbering.h"

typedef struct vx_allocation {
  char batch_id[96];
  long quantity;
  char imsi_block[33], iccid_block[33];
  long long imsi_first, iccid_first; /* iccid without Luhn */
  int existing; /* 1: allocated before and returned as it was */
} vx_allocation;

/* Give batch_id (a row of batches) quantity IMSIs and ICCIDs: the lowest
 * free contiguous gap of that size in an IMSI block, and the same in an
 * ICCID block. Idempotent on batch_id: an existing allocation is returned
 * as is. Returns
 *    0 allocated (or found),
 *    1 refused, errstr says why: no block has quantity free numbers in a
 *      row (errstr names, per block of that kind, the largest free gap and
 *      the free numbers in all), the batch is not in batches, the batch
 *      already has an allocation of another quantity, a bad argument;
 *   -1 database error (SQLSTATE kept: 40001, 40P01, 23P01 are retried). */
int vx_allocate(PGconn *tx, const char *batch_id, long quantity,
                vx_allocation *out, char *errstr, size_t errlen);

/* 0 found, 1 not found, -1 database error. */
int vx_allocation_get(PGconn *c, const char *batch_id, vx_allocation *out,
                      char *errstr, size_t errlen);

/* Store parsed blocks, all or (with the caller's rollback) none: each is
 * checked again (vx_block_check, no overlap among them), a block already
 * stored with the same definition is left as it is, and a block whose id
 * is stored with another definition or whose numbers overlap a stored
 * block is refused with both named. 0 stored, 1 refused, -1 database
 * error. */
int vx_numbering_store(PGconn *tx, const vx_block *blocks, size_t n,
                       char *errstr, size_t errlen);

/* How full one block is. */
typedef struct vx_block_usage {
  vx_block block;
  long long allocated;   /* numbers given to batches */
  long long free;        /* size - allocated */
  long long largest_gap; /* most free numbers in a row */
  long long largest_gap_first;
  long batches;
} vx_block_usage;

/* Every stored block (IMSI blocks first, each kind by number), in
 * *usage (free() it). 0 or -1. */
int vx_numbering_usage(PGconn *c, vx_block_usage **usage, size_t *n,
                       char *errstr, size_t errlen);

#endif
