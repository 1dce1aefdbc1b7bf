/* issue.h - B3: give a released batch its numbers and the vendor its input
 * file. */
#ifndef VX_ISSUE_H
#define VX_ISSUE_H

#include <stddef.h>

#include "db.h"

typedef struct vx_issue_conf {
  const char *vendor_root; /* <root>/<VENDOR>/outgoing/ gets input files */
  const char *graphic_ref; /* the card artwork reference */
} vx_issue_conf;

/* Read SIMPKI_VENDOR_DIR and SIMPKI_VENDOR_GRAPHIC_REF. */
int vx_issue_conf_load(vx_issue_conf *conf, char *errstr, size_t errlen);

typedef struct vx_issue_result {
  char path[4096];      /* where the file was written */
  char sha256[65];
  long quantity;
  char first_iccid[21], first_imsi[16];
  int existing;         /* issued before: the same file written again */
} vx_issue_result;

/* Inside the caller's transaction: allocate the batch's ranges
 * (idempotent), render its input file and write it atomically to out_path
 * (NULL: the vendor's outgoing folder). The first time, record it in
 * batch_files and emit batch.input_issued. The file is a function of the
 * batch alone, so a retry writes the same bytes. Returns 0 ok, 1 refused
 * (errstr says why: unknown or unreleased batch, numbers exhausted), -1 on
 * a database or file error. */
int vx_issue_input(PGconn *tx, const vx_issue_conf *conf, const char *batch_id,
                   const char *out_path, vx_issue_result *res, char *errstr,
                   size_t errlen);

#endif
