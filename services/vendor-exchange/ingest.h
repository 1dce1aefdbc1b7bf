/* ingest.h - take a vendor's output file (B4) into the database.
 *
 * The file is read once, line by line, in constant memory. Every check runs
 * before anything is visible: the whole file is one transaction that COPYs
 * the SIMs (keys re-encrypted under the KEK as they stream) and writes
 * batch.output_accepted to the outbox, or it is rolled back and only the
 * verdict (vendor_output_files) and batch.output_rejected are written. The
 * same file again (by SHA-256) is recognised and changes nothing. */
#ifndef VX_INGEST_H
#define VX_INGEST_H

#include <stddef.h>

#include "crypto.h"
#include "db.h"

#define VX_PRODUCER "vendor-exchange"
#define VX_SOURCE "/simpki/vendor-exchange"
#define VX_TOPIC_BATCHES "batches"

typedef struct vx_ingest_conf {
  sp_keystore *keys;             /* the KEK */
  const char *transport_key_dir; /* vendors' transport keys */
} vx_ingest_conf;

typedef struct vx_ingest_result {
  int accepted;      /* 1 accepted, 0 rejected */
  int already;       /* judged before (same SHA-256): nothing changed */
  char batch_id[96]; /* "" when the header did not name a known batch */
  char vendor_id[33];
  long sims;         /* SIMs stored */
  long line_no;      /* first failing line; 0 for the file as a whole */
  char reason[512];
  char sha256[65];
} vx_ingest_result;

/* Judge one file. 0 when judged (see res), -1 when it could not be (I/O
 * or database trouble, errstr says; nothing changed, try again). */
int vx_ingest_file(sp_db *db, const vx_ingest_conf *conf, const char *path,
                   vx_ingest_result *res, char *errstr, size_t errlen);

/* Move a judged file into DIR/processed/ or DIR/rejected/ (created when
 * missing), with NAME.reason beside a rejected one. */
int vx_ingest_file_away(const char *path, const char *dir,
                        const vx_ingest_result *res, char *errstr,
                        size_t errlen);

#endif
