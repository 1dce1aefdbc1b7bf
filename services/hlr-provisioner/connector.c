/* connector.c - the B9 saga runner: queue, HLR outages, answers. */
#include "connector.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "connect.h"
#include "connect_store.h"
#include "failpoint.h"
#include "log.h"
#include "shutdown.h"

struct hp_connector {
  hp_provision_conf conf;
  sp_db *db;
  hp_hlr *hlr;
  int save_failed;
};

hp_connector *hp_connector_new(const hp_provision_conf *conf, sp_db *db,
                               char *errstr, size_t errlen) {
  hp_connector *k = calloc(1, sizeof *k);
  if (!k) {
    snprintf(errstr, errlen, "out of memory");
    return NULL;
  }
  k->conf = *conf;
  k->db = db;
  return k;
}

void hp_connector_free(hp_connector *k) {
  if (!k)
    return;
  hp_hlr_close(k->hlr);
  free(k);
}

static int stopping(volatile int *stop) {
  return sp_shutdown_requested() || (stop && *stop);
}

static int save(void *arg, const hp_conn *c) {
  hp_connector *k = arg;
  char err[512];
  if (hp_cstore_save(k->db, c, err, sizeof err)) {
    sp_error("cannot save the connection's step", "request_id",
             c->request_id, "step", hp_conn_step_name(c->step), "error", err);
    return -1;
  }
  /* Tests stop here to prove a crash mid-swap resumes. */
  if (c->step == HP_CONN_SET_NEW && c->swap)
    sp_failpoint("connect.after_clear_old");
  return 0;
}

/* 0 ran to its end, 1 the HLR is away (retry later), -1 database. */
static int run_one(hp_connector *k, hp_conn *c) {
  char err[512];
  if (!k->hlr) {
    /* One request at a time: a window of one is all the saga needs. */
    k->hlr = hp_hlr_osmo_open(k->conf.hlr_addr, 1, (int)k->conf.timeout_ms,
                              err, sizeof err);
    if (!k->hlr) {
      sp_warn("HLR unavailable; connection waits", "request_id",
              c->request_id, "reason", err);
      return 1;
    }
  }
  const char *from = hp_conn_step_name(c->step);
  int rc = hp_connect_run(k->hlr, c, save, k);
  if (rc == 1) {
    sp_warn("HLR unavailable; connection waits", "request_id", c->request_id,
            "step", hp_conn_step_name(c->step));
    hp_hlr_close(k->hlr);
    k->hlr = NULL; /* reconnect next time */
    return 1;
  }
  if (rc < 0)
    return -1;
  if (c->step == HP_CONN_DONE)
    sp_info("number connected in the HLR", "request_id", c->request_id,
            "iccid", c->iccid, "swap", c->swap ? "true" : "false", "from",
            from);
  else
    sp_warn("connection failed", "request_id", c->request_id, "reason",
            c->reason, "restored", c->restored ? "true" : "false");
  return 0;
}

int hp_connector_run(hp_connector *k, volatile int *stop) {
  long backoff = 500;
  char err[512];
  while (!stopping(stop)) {
    hp_conn c;
    int found = hp_cstore_next(k->db, &c, err, sizeof err);
    if (found < 0) {
      sp_warn("cannot read the connection queue", "error", err);
      if (sp_shutdown_sleep(2000, stop))
        break;
      continue;
    }
    if (!found) {
      if (sp_shutdown_sleep(k->conf.idle_ms < 200 ? k->conf.idle_ms : 200, stop))
        break;
      continue;
    }
    int rc = run_one(k, &c);
    if (rc == 0) {
      backoff = 500;
      continue;
    }
    if (sp_shutdown_sleep(backoff, stop))
      break;
    backoff = backoff * 2 > k->conf.backoff_max_ms ? k->conf.backoff_max_ms
                                                   : backoff * 2;
  }
  return 0;
}
