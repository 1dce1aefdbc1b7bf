/* hlr.h - the HLR as hlr-provisioner sees it: a small adapter interface,
 * so another vendor's HLR can sit behind the same calls. hlr_osmo.c is
 * the OsmoHLR implementation (CTRL protocol).
 *
 * Operations are one subscriber each: create, set 2G auth (COMP128 Ki),
 * set 3G auth (MILENAGE K + OPc), set or clear the MSISDN, read the auth
 * data back, read the MSISDN, find the IMSI of an MSISDN, delete.
 *
 * Asynchronous form, for loading whole batches fast: hp_hlr_submit queues
 * an operation (up to the adapter's window of them in flight) and
 * hp_hlr_poll returns completed ones with the caller's tag. Every accepted
 * operation completes exactly once, in any order. A typical loader keeps
 * the window full across many SIMs and chains each SIM's steps:
 *
 *   CREATE ok        -> SET_AUD3G (or SET_AUD2G)
 *   CREATE exists    -> READ_AUD, then hp_aud_compare with the intended
 *                       keys: equal means already loaded (a retry), not
 *                       equal is a conflict to report. Never set the auth
 *                       data of a subscriber you did not create: that
 *                       would overwrite another SIM's keys.
 *   HP_HLR_UNAVAILABLE -> poll until hp_hlr_outstanding is 0, hp_hlr_
 *                       reconnect, repeat the step (the HLR may or may not
 *                       have applied it: CREATE then answers "exists").
 *
 * Synchronous form, for single changes (a SIM swap's MSISDN moves, an
 * operator's check): hp_hlr_call / hp_hlr_run, with nothing else in
 * flight.
 *
 * Keys travel in hp_hlr_op.aud and come back in hp_hlr_result.aud (READ_AUD):
 * wipe both (hp_aud_wipe) when done. No detail text ever holds key
 * material, so details may be logged as they are. */
#ifndef HP_HLR_H
#define HP_HLR_H

#include <stddef.h>

#include "aud.h"

#define HP_HLR_IMSI_MAX 15   /* digits */
#define HP_HLR_MSISDN_MAX 15 /* digits, international form without + */
#define HP_HLR_DETAIL_MAX 256

typedef enum {
  HP_HLR_OK = 0,
  HP_HLR_NOT_FOUND,    /* no such subscriber (or no subscriber has that
                          MSISDN, for FIND_MSISDN) */
  HP_HLR_EXISTS,       /* CREATE: the IMSI is already there */
  HP_HLR_MSISDN_TAKEN, /* SET_MSISDN: another subscriber has it */
  HP_HLR_UNAVAILABLE,  /* unreachable, timed out, connection lost:
                          retryable after hp_hlr_reconnect; the outcome
                          of the operation is unknown */
  HP_HLR_FAILED        /* anything else: a value the HLR refused, an
                          invalid operation, a reply we cannot read */
} hp_hlr_status;

typedef enum {
  HP_HLR_CREATE,       /* imsi */
  HP_HLR_SET_AUD2G,    /* imsi, aud (its 2G part) */
  HP_HLR_SET_AUD3G,    /* imsi, aud (its 3G part) */
  HP_HLR_SET_MSISDN,   /* imsi, msisdn */
  HP_HLR_CLEAR_MSISDN, /* imsi */
  HP_HLR_READ_AUD,     /* imsi -> result aud, msisdn */
  HP_HLR_READ_MSISDN,  /* imsi -> result msisdn ("" when none) */
  HP_HLR_FIND_MSISDN,  /* msisdn -> result imsi */
  HP_HLR_DELETE        /* imsi */
} hp_hlr_op_kind;

typedef struct hp_hlr_op {
  hp_hlr_op_kind kind;
  char imsi[HP_HLR_IMSI_MAX + 1];
  char msisdn[HP_HLR_MSISDN_MAX + 1];
  hp_aud aud; /* key material: wipe after submit */
  void *tag;  /* returned with the result */
} hp_hlr_op;

typedef struct hp_hlr_result {
  void *tag;
  hp_hlr_op_kind kind;
  hp_hlr_status status;
  char imsi[HP_HLR_IMSI_MAX + 1];     /* the op's, or FIND_MSISDN's answer */
  char msisdn[HP_HLR_MSISDN_MAX + 1]; /* the op's, or READ_*'s answer */
  long long id;                       /* CREATE: the HLR's subscriber id */
  hp_aud aud;                         /* READ_AUD: key material */
  char detail[HP_HLR_DETAIL_MAX];     /* why, when not OK; never a key */
} hp_hlr_result;

/* What an implementation provides; impl is its own state. */
typedef struct hp_hlr_ops {
  const char *name; /* "osmo" */
  /* 0 accepted; 1 busy (window full: poll first); -1 unavailable (drain
   * with poll, then reconnect), errstr says why. An invalid op is
   * accepted and completes as HP_HLR_FAILED. */
  int (*submit)(void *impl, const hp_hlr_op *op, char *errstr, size_t errlen);
  /* 1 with *out, 0 when nothing completed within timeout_ms. */
  int (*poll)(void *impl, int timeout_ms, hp_hlr_result *out);
  int (*outstanding)(void *impl);
  /* Only with nothing outstanding. 0, or -1 (still unavailable). */
  int (*reconnect)(void *impl, char *errstr, size_t errlen);
  void (*close)(void *impl);
} hp_hlr_ops;

typedef struct hp_hlr {
  const hp_hlr_ops *ops;
  void *impl;
} hp_hlr;

/* The OsmoHLR adapter on CTRL address addr ("127.0.0.2:4259"): window
 * operations in flight (1..1024), each given timeout_ms for its reply.
 * NULL with the reason when the HLR cannot be reached. */
hp_hlr *hp_hlr_osmo_open(const char *addr, int window, int timeout_ms,
                         char *errstr, size_t errlen);

/* The generic calls (hlr.c). */
int hp_hlr_submit(hp_hlr *h, const hp_hlr_op *op, char *errstr, size_t errlen);
int hp_hlr_poll(hp_hlr *h, int timeout_ms, hp_hlr_result *out);
int hp_hlr_outstanding(hp_hlr *h);
int hp_hlr_reconnect(hp_hlr *h, char *errstr, size_t errlen);
void hp_hlr_close(hp_hlr *h);

const char *hp_hlr_status_name(hp_hlr_status s);
const char *hp_hlr_op_name(hp_hlr_op_kind k);
/* 1 for HP_HLR_UNAVAILABLE: the same operation may succeed later. */
int hp_hlr_retryable(hp_hlr_status s);

/* Fill op (cleared first); imsi, msisdn and aud may be NULL when the kind
 * does not use them. -1 when a string is too long for the op (then the
 * op is not usable). */
int hp_hlr_op_init(hp_hlr_op *op, hp_hlr_op_kind kind, const char *imsi,
                   const char *msisdn, const hp_aud *aud, void *tag);

/* Synchronous: submit, wait for the result, return its status. Only with
 * nothing in flight (else HP_HLR_FAILED). */
hp_hlr_status hp_hlr_run(hp_hlr *h, const hp_hlr_op *op, hp_hlr_result *res);
/* The same from the parts; wipes its copy of aud. */
hp_hlr_status hp_hlr_call(hp_hlr *h, hp_hlr_op_kind kind, const char *imsi,
                          const char *msisdn, const hp_aud *aud,
                          hp_hlr_result *res);

#endif
