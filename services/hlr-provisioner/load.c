/* load.c - the per-SIM loading state machine, pipelined over hp_hlr. */
#include "load.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"

enum { ST_CREATE, ST_SET, ST_VERIFY, ST_READ_EXISTING };

typedef struct run {
  hp_hlr *h;
  hp_sim *sims;
  size_t n, next;
  size_t *ready; /* SIMs whose next request waits for a free slot */
  size_t nready;
  int stopped;
  hp_load_stats st;
  char *errstr;
  size_t errlen;
} run;

/* A reason longer than the field is cut: it is for people to read. */
__attribute__((format(printf, 3, 4))) static void
fail(run *r, hp_sim *s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(s->reason, sizeof s->reason, fmt, ap);
  va_end(ap);
  s->outcome = HP_SIM_FAILED;
  r->st.failed++;
}

static void done(run *r, hp_sim *s, hp_sim_outcome o) {
  s->outcome = o;
  if (o == HP_SIM_LOADED)
    r->st.loaded++;
  else
    r->st.already++;
}

/* 0 sent, 1 window full, -1 the HLR is unavailable (run stopped). */
static int send_step(run *r, hp_sim *s) {
  hp_hlr_op op;
  hp_hlr_op_kind kind = s->step == ST_CREATE ? HP_HLR_CREATE
                        : s->step == ST_SET  ? (s->want.has_3g ? HP_HLR_SET_AUD3G
                                                               : HP_HLR_SET_AUD2G)
                                             : HP_HLR_READ_AUD;
  if (hp_hlr_op_init(&op, kind, s->imsi, NULL,
                     s->step == ST_SET ? &s->want : NULL, s)) {
    fail(r, s, "IMSI %s is too long for the HLR", s->imsi);
    return 0;
  }
  int rc = hp_hlr_submit(r->h, &op, r->errstr, r->errlen);
  sp_wipe(&op, sizeof op);
  if (rc == 0)
    r->st.requests++;
  else if (rc < 0 && !r->stopped) {
    char why[256];
    snprintf(why, sizeof why, "%s", r->errstr);
    snprintf(r->errstr, r->errlen, "HLR unavailable: %s", why);
    r->stopped = 1;
  }
  return rc;
}

/* The answer to a SIM's request: its next step, or its outcome. */
static void advance(run *r, hp_sim *s, hp_hlr_result *res) {
  char why[160];
  if (res->status == HP_HLR_UNAVAILABLE) {
    /* The request may or may not have been applied: start the SIM over,
     * in a later run, from CREATE (which then says "exists"). */
    if (!r->stopped)
      snprintf(r->errstr, r->errlen, "HLR unavailable: %s", res->detail);
    r->stopped = 1;
    s->step = ST_CREATE;
    return;
  }
  int next = -1;
  switch (s->step) {
  case ST_CREATE:
    if (res->status == HP_HLR_OK)
      next = ST_SET;
    else if (res->status == HP_HLR_EXISTS)
      next = ST_READ_EXISTING;
    else
      fail(r, s, "the HLR refused to create the subscriber: %s",
           res->detail);
    break;
  case ST_SET:
    if (res->status == HP_HLR_OK)
      next = ST_VERIFY;
    else
      fail(r, s, "the HLR refused the %s auth data: %s",
           s->want.has_3g ? "3G" : "2G", res->detail);
    break;
  case ST_VERIFY:
    if (res->status != HP_HLR_OK)
      fail(r, s, "reading the auth data back failed: %s", res->detail);
    else if (hp_aud_compare(&res->aud, &s->want, why, sizeof why) ==
             HP_AUD_MATCH)
      done(r, s, HP_SIM_LOADED);
    else
      fail(r, s, "the auth data read back differs from what was sent (%s)",
           why);
    break;
  case ST_READ_EXISTING:
    if (res->status == HP_HLR_NOT_FOUND) {
      next = ST_CREATE; /* deleted meanwhile: create it after all */
    } else if (res->status != HP_HLR_OK) {
      fail(r, s, "reading the existing subscriber failed: %s", res->detail);
    } else if (!res->aud.has_2g && !res->aud.has_3g) {
      next = ST_SET;
    } else if (hp_aud_compare(&res->aud, &s->want, why, sizeof why) ==
               HP_AUD_MATCH) {
      done(r, s, HP_SIM_ALREADY);
    } else {
      fail(r, s,
           "already in the HLR with other auth data (%s); left as it is, "
           "not overwritten",
           why);
    }
    break;
  }
  if (next >= 0) {
    s->step = next;
    r->ready[r->nready++] = (size_t)(s - r->sims);
  }
}

int hp_load_run(hp_hlr *h, hp_sim *sims, size_t n, int poll_ms,
                hp_load_stats *stats, char *errstr, size_t errlen) {
  run r = {.h = h, .sims = sims, .n = n, .errstr = errstr, .errlen = errlen};
  r.ready = malloc((n ? n : 1) * sizeof *r.ready);
  if (!r.ready) {
    snprintf(errstr, errlen, "out of memory");
    return -1;
  }
  for (size_t i = 0; i < n; i++)
    if (sims[i].outcome == HP_SIM_PENDING)
      sims[i].step = ST_CREATE;
  for (;;) {
    /* Fill the window: follow-up steps first, so SIMs finish early and
     * their keys can be wiped, then new SIMs. */
    int busy = 0;
    while (!r.stopped && !busy && r.nready > 0) {
      hp_sim *s = &sims[r.ready[r.nready - 1]];
      busy = send_step(&r, s) == 1;
      if (!busy)
        r.nready--;
    }
    while (!r.stopped && !busy && r.next < n) {
      hp_sim *s = &sims[r.next];
      if (s->outcome != HP_SIM_PENDING) {
        r.next++;
        continue;
      }
      busy = send_step(&r, s) == 1;
      if (!busy)
        r.next++;
    }
    if (hp_hlr_outstanding(h) == 0) {
      if (r.stopped || (r.nready == 0 && r.next >= n))
        break;
      if (busy) { /* nothing in flight yet busy: the adapter is confused */
        snprintf(errstr, errlen, "the HLR adapter refuses requests with "
                                 "none in flight");
        r.stopped = 1;
        break;
      }
      continue;
    }
    hp_hlr_result res;
    if (hp_hlr_poll(h, poll_ms, &res) == 1) {
      advance(&r, (hp_sim *)res.tag, &res);
      hp_aud_wipe(&res.aud);
    }
  }
  free(r.ready);
  r.st.pending = 0;
  for (size_t i = 0; i < n; i++)
    r.st.pending += sims[i].outcome == HP_SIM_PENDING;
  if (stats)
    *stats = r.st;
  return r.stopped ? 1 : 0;
}

void hp_load_wipe(hp_sim *sims, size_t n) {
  for (size_t i = 0; i < n; i++)
    hp_aud_wipe(&sims[i].want);
}
