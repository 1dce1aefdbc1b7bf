/* issue.c - allocate, render and hand out the input file of a batch. */
#include "issue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allocation.h"
#include "config.h"
#include "event.h"
#include "fileio.h"
#include "ingest.h"
#include "numbering.h"
#include "outbox.h"
#include "vendor_file.h"

int vx_issue_conf_load(vx_issue_conf *conf, char *errstr, size_t errlen) {
  return sp_config_str("SIMPKI_VENDOR_DIR", SP_CONFIG_REQUIRED,
                       &conf->vendor_root, errstr, errlen) ||
                 sp_config_str("SIMPKI_VENDOR_GRAPHIC_REF", "BCYCP-SIMPKI",
                               &conf->graphic_ref, errstr, errlen)
             ? -1
             : 0;
}

int vx_issue_input(PGconn *tx, const vx_issue_conf *conf, const char *batch_id,
                   const char *out_path, vx_issue_result *res, char *errstr,
                   size_t errlen) {
  memset(res, 0, sizeof *res);
  const char *p[] = {batch_id};
  PGresult *r = sp_db_query(
      tx,
      "SELECT b.state, b.quantity, b.profile, b.vendor_id, o.bcycp_ref, "
      "b.order_id, to_char(b.released_at AT TIME ZONE 'UTC', "
      "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM batches b JOIN orders o USING "
      "(order_id) WHERE b.batch_id = $1",
      1, p, errstr, errlen);
  if (!r)
    return -1;
  if (PQntuples(r) == 0 || strcmp(PQgetvalue(r, 0, 0), "held") == 0) {
    snprintf(errstr, errlen, "batch %s %s", batch_id,
             PQntuples(r) ? "is held until its vendor's pilot passes"
                          : "does not exist");
    PQclear(r);
    return 1;
  }
  vx_input in = {0};
  snprintf(in.operator_name, sizeof in.operator_name, "MobiFone");
  snprintf(in.batch_id, sizeof in.batch_id, "%s", batch_id);
  in.quantity = atol(PQgetvalue(r, 0, 1));
  in.usim = !strcmp(PQgetvalue(r, 0, 2), "usim_milenage");
  snprintf(in.vendor_id, sizeof in.vendor_id, "%s", PQgetvalue(r, 0, 3));
  snprintf(in.order_ref, sizeof in.order_ref, "%s", PQgetvalue(r, 0, 4));
  char order_id[64];
  snprintf(order_id, sizeof order_id, "%s", PQgetvalue(r, 0, 5));
  snprintf(in.issued_at, sizeof in.issued_at, "%s", PQgetvalue(r, 0, 6));
  PQclear(r);
  /* One transport key per vendor, named after it (docs/vendor-files.md). */
  snprintf(in.transport_key_id, sizeof in.transport_key_id, "%s",
           in.vendor_id);
  snprintf(in.graphic_ref, sizeof in.graphic_ref, "%s", conf->graphic_ref);

  vx_allocation a;
  int ar = vx_allocate(tx, batch_id, in.quantity, &a, errstr, errlen);
  if (ar != 0)
    return ar;
  if (vx_iccid_format(a.iccid_first, in.first_iccid) ||
      vx_imsi_format(a.imsi_first, in.first_imsi)) {
    snprintf(errstr, errlen, "batch %s: allocated numbers do not format",
             batch_id);
    return -1;
  }
  size_t len;
  char *text = vx_input_render(&in, &len);
  if (!text) {
    snprintf(errstr, errlen, "out of memory");
    return -1;
  }
  sp_sha256_hex(text, len, res->sha256);
  res->quantity = in.quantity;
  memcpy(res->first_iccid, in.first_iccid, sizeof res->first_iccid);
  memcpy(res->first_imsi, in.first_imsi, sizeof res->first_imsi);
  if (out_path) {
    snprintf(res->path, sizeof res->path, "%s", out_path);
  } else {
    char dir[3800];
    snprintf(dir, sizeof dir, "%s/%s/outgoing", conf->vendor_root,
             in.vendor_id);
    if (sp_mkdirs(dir, 0750, errstr, errlen)) {
      free(text);
      return -1;
    }
    if (snprintf(res->path, sizeof res->path, "%s/%s.inp", dir, batch_id) >=
        (int)sizeof res->path) {
      free(text);
      snprintf(errstr, errlen, "the input file's path is too long");
      return -1;
    }
  }
  int wrote = sp_write_atomic(res->path, text, len, 0640, errstr, errlen);
  free(text);
  if (wrote)
    return -1;

  const char *pf[] = {batch_id, in.transport_key_id, res->sha256, res->path};
  r = sp_db_query(tx,
                  "INSERT INTO batch_files (batch_id, transport_key_id, "
                  "input_sha256, input_path) VALUES ($1, $2, $3, $4) ON "
                  "CONFLICT (batch_id) DO NOTHING RETURNING 1",
                  4, pf, errstr, errlen);
  if (!r)
    return -1;
  res->existing = PQntuples(r) == 0;
  PQclear(r);
  if (res->existing)
    return 0;
  char subject[128], iccid_last[21], imsi_last[16];
  vx_iccid_format(a.iccid_first + in.quantity - 1, iccid_last);
  vx_imsi_format(a.imsi_first + in.quantity - 1, imsi_last);
  snprintf(subject, sizeof subject, "batch/%s", batch_id);
  json_t *data = json_pack(
      "{s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "batch_id",
      batch_id, "order_id", order_id, "vendor_id", in.vendor_id, "quantity",
      (json_int_t)in.quantity, "profile", in.usim ? "usim_milenage" : "2g_comp128",
      "iccid_first", in.first_iccid, "iccid_last", iccid_last, "imsi_first",
      in.first_imsi, "imsi_last", imsi_last, "input_sha256", res->sha256,
      "transport_key_id", in.transport_key_id);
  return sp_outbox_publish(tx, VX_PRODUCER, VX_SOURCE, VX_TOPIC_BATCHES,
                           "batch.input_issued", subject, order_id, data,
                           errstr, errlen)
             ? -1
             : 0;
}
