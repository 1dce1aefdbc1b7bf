/* provision.c - the loading loop: queue, groups, outages, reports. */
#include "provision.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "load.h"
#include "log.h"
#include "shutdown.h"
#include "store.h"

struct hp_provisioner {
  hp_provision_conf conf;
  sp_db *db;
  sp_keystore *ks;
  hp_hlr *hlr; /* NULL while the HLR cannot be reached */
  hp_sim *sims;
  sp_metric *m_loaded, *m_already, *m_failed, *m_batches, *m_stalls;
};

int hp_provision_conf_load(hp_provision_conf *c, char *errstr, size_t errlen) {
  memset(c, 0, sizeof *c);
  c->idle_ms = 500;
  return sp_config_str("SIMPKI_HLR_CTRL", SP_CONFIG_REQUIRED, &c->hlr_addr,
                       errstr, errlen) ||
                 sp_config_long("SIMPKI_HLR_WINDOW", 0, 32, 1, 1024,
                                &c->window, errstr, errlen) ||
                 sp_config_long("SIMPKI_HLR_TIMEOUT_MS", 0, 5000, 100, 600000,
                                &c->timeout_ms, errstr, errlen) ||
                 sp_config_long("SIMPKI_HLR_GROUP", 0, 1000, 1, 100000,
                                &c->group, errstr, errlen) ||
                 sp_config_long("SIMPKI_HLR_BACKOFF_MAX_MS", 0, 30000, 100,
                                3600000, &c->backoff_max_ms, errstr, errlen)
             ? -1
             : 0;
}

hp_provisioner *hp_provisioner_new(const hp_provision_conf *conf, sp_db *db,
                                   sp_keystore *ks, char *errstr,
                                   size_t errlen) {
  hp_provisioner *p = calloc(1, sizeof *p);
  if (!p || !(p->sims = calloc((size_t)conf->group, sizeof *p->sims))) {
    free(p);
    snprintf(errstr, errlen, "out of memory");
    return NULL;
  }
  p->conf = *conf;
  p->db = db;
  p->ks = ks;
  const char *h = "Subscribers loaded into the HLR";
  p->m_loaded = sp_metrics_counter("simpki_hlr_sims_total", h,
                                   "outcome=\"loaded\"");
  p->m_already = sp_metrics_counter("simpki_hlr_sims_total", h,
                                    "outcome=\"already_present\"");
  p->m_failed = sp_metrics_counter("simpki_hlr_sims_total", h,
                                   "outcome=\"failed\"");
  p->m_batches = sp_metrics_counter("simpki_hlr_batches_total",
                                    "Batches loaded and reported", NULL);
  p->m_stalls = sp_metrics_counter("simpki_hlr_stalls_total",
                                   "Times the HLR stopped a batch", NULL);
  return p;
}

int hp_provisioner_hlr_up(hp_provisioner *p) { return p->hlr != NULL; }

void hp_provisioner_free(hp_provisioner *p) {
  if (!p)
    return;
  hp_hlr_close(p->hlr);
  hp_load_wipe(p->sims, (size_t)p->conf.group);
  free(p->sims);
  free(p);
}

static int stopping(volatile int *stop) {
  return sp_shutdown_requested() || (stop && *stop);
}

/* Make sure there is a working HLR connection: 0, or -1 with why. */
static int hlr_ready(hp_provisioner *p, char *errstr, size_t errlen) {
  if (!p->hlr) {
    p->hlr = hp_hlr_osmo_open(p->conf.hlr_addr, (int)p->conf.window,
                              (int)p->conf.timeout_ms, errstr, errlen);
    if (p->hlr)
      sp_info("HLR connected", "hlr", p->conf.hlr_addr);
    return p->hlr ? 0 : -1;
  }
  return 0;
}

/* The HLR is away: say so on the batch, wait, reconnect. 1 to stop. */
static int ride_out(hp_provisioner *p, const hp_batch *b, const char *why,
                    long *backoff, volatile int *stop) {
  char err[512];
  sp_warn("HLR unavailable; batch stalled", "batch_id", b->batch_id, "reason",
          why);
  sp_metric_add(p->m_stalls, 1);
  if (hp_store_stalled(p->db, b, why, err, sizeof err))
    sp_error("cannot record the stall", "batch_id", b->batch_id, "error",
             err);
  for (;;) {
    if (sp_shutdown_sleep(*backoff, stop))
      return 1;
    *backoff = *backoff * 2 > p->conf.backoff_max_ms ? p->conf.backoff_max_ms
                                                     : *backoff * 2;
    if (p->hlr && hp_hlr_reconnect(p->hlr, err, sizeof err) == 0)
      return 0;
    if (!p->hlr && hlr_ready(p, err, sizeof err) == 0)
      return 0;
    sp_info("HLR still unavailable", "batch_id", b->batch_id, "reason", err);
  }
}

/* One batch to its end: 1 finished, 0 stopped before, -1 error. */
static int load_batch(hp_provisioner *p, const hp_batch *b,
                      volatile int *stop) {
  char err[512], after[21] = "";
  long backoff = 1000;
  sp_info("loading batch into the HLR", "batch_id", b->batch_id, "state",
          b->state);
  for (;;) {
    size_t n = 0;
    if (hp_store_fetch(p->db, p->ks, b, after, p->sims,
                       (size_t)p->conf.group, &n, err, sizeof err)) {
      sp_error("cannot read the batch's SIMs", "batch_id", b->batch_id,
               "error", err);
      return -1;
    }
    if (n == 0)
      break;
    for (;;) {
      int rc = -1;
      hp_load_stats st = {0};
      if (hlr_ready(p, err, sizeof err) == 0)
        rc = hp_load_run(p->hlr, p->sims, n, (int)p->conf.timeout_ms, &st,
                         err, sizeof err);
      else
        rc = 1;
      char rec_err[512];
      if (hp_store_record(p->db, b, p->sims, n, rec_err, sizeof rec_err)) {
        sp_error("cannot record progress", "batch_id", b->batch_id, "error",
                 rec_err);
        hp_load_wipe(p->sims, n);
        return -1;
      }
      sp_metric_add(p->m_loaded, (double)st.loaded);
      sp_metric_add(p->m_already, (double)st.already);
      sp_metric_add(p->m_failed, (double)st.failed);
      if (rc == 0) {
        backoff = 1000;
        break;
      }
      if (rc < 0 && p->hlr) {
        sp_error("loading failed", "batch_id", b->batch_id, "error", err);
        hp_load_wipe(p->sims, n);
        return -1;
      }
      if (ride_out(p, b, err, &backoff, stop)) {
        hp_load_wipe(p->sims, n);
        return 0;
      }
    }
    snprintf(after, sizeof after, "%s", p->sims[n - 1].iccid);
    hp_load_wipe(p->sims, n);
    if (stopping(stop))
      return 0;
  }
  int fin = hp_store_finish(p->db, b, err, sizeof err);
  if (fin < 0) {
    sp_error("cannot report the batch", "batch_id", b->batch_id, "error",
             err);
    return -1;
  }
  if (fin == 2) { /* SIMs appeared behind the cursor: go round again */
    sp_warn("batch still has SIMs to load", "batch_id", b->batch_id);
    return 0;
  }
  if (fin == 1) {
    sp_metric_add(p->m_batches, 1);
    sp_info("batch loaded and reported", "batch_id", b->batch_id);
  }
  return 1;
}

int hp_provisioner_drain(hp_provisioner *p, volatile int *stop) {
  int finished = 0;
  char err[512];
  while (!stopping(stop)) {
    hp_batch b;
    int found = hp_store_next(p->db, &b, err, sizeof err);
    if (found < 0) {
      sp_warn("cannot read the load queue", "error", err);
      return -1;
    }
    if (!found)
      break;
    int rc = load_batch(p, &b, stop);
    if (rc < 0)
      return -1;
    finished += rc;
  }
  return finished;
}

int hp_provisioner_run(hp_provisioner *p, volatile int *stop) {
  while (!stopping(stop)) {
    /* Database trouble: wait and go on; the queue is in the tables. */
    if (hp_provisioner_drain(p, stop) < 0 && sp_shutdown_sleep(2000, stop))
      break;
    if (sp_shutdown_sleep(p->conf.idle_ms, stop))
      break;
  }
  return 0;
}
