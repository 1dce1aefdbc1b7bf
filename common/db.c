/* db.c - PostgreSQL access over libpq: connect with backoff, parameterized
 * queries, and transactions retried on transient failures.
 *
 * The conninfo may carry a password, so it is never copied into an error
 * or a log line: the target is named host:port/dbname from libpq's own
 * accessors, and libpq's messages about an unparsable conninfo (which may
 * quote fragments of it) are replaced by a fixed text. */
#include "db.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "log.h"

#define SP_DB_BACKOFF_FIRST_MS 100
#define SP_DB_BACKOFF_MAX_MS 2000
#define SP_DB_DEFAULT_RETRY_MS 60000
#define SP_DB_SQLSTATE_CONN_LOST "08006"

struct sp_db {
  char *conninfo; /* secret-bearing: never logged or printed */
  PGconn *conn;
  long retry_ms;
};

/* Per thread, because each thread owns its own sp_db. */
static _Thread_local char last_sqlstate[6] = "00000";

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms) {
  if (ms <= 0)
    return;
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
    ;
}

static void set_sqlstate(const char *s) {
  snprintf(last_sqlstate, sizeof(last_sqlstate), "%s",
           s && *s ? s : "XX000");
}

const char *sp_db_last_sqlstate(void) { return last_sqlstate; }
void sp_db_set_sqlstate(const char *state) { set_sqlstate(state); }

/* Copy the first line of msg (libpq messages end in '\n' and may carry
 * DETAIL/HINT lines). */
static void first_line(char *dst, size_t dstlen, const char *msg) {
  if (!dstlen)
    return;
  if (!msg)
    msg = "";
  size_t n = strcspn(msg, "\r\n");
  if (n >= dstlen)
    n = dstlen - 1;
  memcpy(dst, msg, n);
  dst[n] = '\0';
}

/* libpq prints NOTICE/WARNING to stderr by default, which would break the
 * one-JSON-object-per-line log format. */
static void notice_to_log(void *arg, const char *message) {
  (void)arg;
  char line[512];
  first_line(line, sizeof(line), message);
  sp_debug("postgres notice", "message", line);
}

static void describe_target(PGconn *c, char *out, size_t outlen) {
  const char *host = c ? PQhost(c) : NULL;
  const char *port = c ? PQport(c) : NULL;
  const char *db = c ? PQdb(c) : NULL;
  snprintf(out, outlen, "%s:%s/%s", host && *host ? host : "?",
           port && *port ? port : "?", db && *db ? db : "?");
}

/* One connection attempt. connect_timeout bounds a single try against an
 * unreachable host; a connect_timeout in the conninfo itself wins because
 * later keywords override earlier ones. */
static PGconn *connect_once(const char *conninfo, long budget_ms) {
  char tmo[16];
  long s = budget_ms / 1000;
  if (s < 2)
    s = 2;
  if (s > 10)
    s = 10;
  snprintf(tmo, sizeof(tmo), "%ld", s);
  const char *const keys[] = {"connect_timeout", "dbname", NULL};
  const char *const vals[] = {tmo, conninfo, NULL};
  PGconn *c = PQconnectdbParams(keys, vals, 1);
  if (c && PQstatus(c) == CONNECTION_OK)
    PQsetNoticeProcessor(c, notice_to_log, NULL);
  return c;
}

static int conninfo_valid(const char *conninfo) {
  char *err = NULL;
  PQconninfoOption *opts = PQconninfoParse(conninfo, &err);
  /* err may quote part of the conninfo (a password): drop it unread. */
  PQfreemem(err);
  if (!opts)
    return 0;
  PQconninfoFree(opts);
  return 1;
}

sp_db *sp_db_open(const char *conninfo, long wait_ms, char *errstr,
                  size_t errlen) {
  if (!conninfo) {
    snprintf(errstr, errlen, "no database connection string given");
    return NULL;
  }
  if (!conninfo_valid(conninfo)) {
    snprintf(errstr, errlen,
             "malformed database connection string (not shown: it may "
             "hold a password)");
    return NULL;
  }
  long retry_ms;
  if (sp_config_long("SIMPKI_DB_RETRY_MS", 0, SP_DB_DEFAULT_RETRY_MS, 0,
                     LONG_MAX / 4, &retry_ms, errstr, errlen) != 0)
    return NULL;

  long deadline = now_ms() + (wait_ms > 0 ? wait_ms : 0);
  long delay = SP_DB_BACKOFF_FIRST_MS;
  int attempts = 0;
  for (;;) {
    attempts++;
    PGconn *c = connect_once(conninfo, deadline - now_ms());
    if (c && PQstatus(c) == CONNECTION_OK) {
      sp_db *db = calloc(1, sizeof(*db));
      if (!db || !(db->conninfo = strdup(conninfo))) {
        free(db);
        PQfinish(c);
        snprintf(errstr, errlen, "out of memory");
        return NULL;
      }
      db->conn = c;
      db->retry_ms = retry_ms;
      return db;
    }
    long left = deadline - now_ms();
    if (left <= 0) {
      char target[256], why[256];
      describe_target(c, target, sizeof(target));
      first_line(why, sizeof(why),
                 c ? PQerrorMessage(c) : "out of memory");
      snprintf(errstr, errlen,
               "cannot connect to PostgreSQL at %s after %d attempt(s) in "
               "%ld ms: %s",
               target, attempts, wait_ms > 0 ? wait_ms : 0, why);
      PQfinish(c);
      return NULL;
    }
    PQfinish(c);
    sleep_ms(delay < left ? delay : left);
    delay *= 2;
    if (delay > SP_DB_BACKOFF_MAX_MS)
      delay = SP_DB_BACKOFF_MAX_MS;
  }
}

void sp_db_close(sp_db *db) {
  if (!db)
    return;
  PQfinish(db->conn);
  if (db->conninfo) {
    /* Do not leave the password lying around in freed memory. */
    volatile char *p = db->conninfo;
    while (*p)
      *p++ = '\0';
    free(db->conninfo);
  }
  free(db);
}

PGconn *sp_db_conn(sp_db *db) { return db ? db->conn : NULL; }

void sp_db_set_retry_ms(sp_db *db, long ms) {
  if (db)
    db->retry_ms = ms < 0 ? 0 : ms;
}

int sp_db_ensure(sp_db *db, char *errstr, size_t errlen) {
  if (!db) {
    snprintf(errstr, errlen, "no database handle");
    return -1;
  }
  if (db->conn && PQstatus(db->conn) == CONNECTION_OK)
    return 0;
  PGconn *c = connect_once(db->conninfo, 0);
  if (c && PQstatus(c) == CONNECTION_OK) {
    PQfinish(db->conn);
    db->conn = c;
    return 0;
  }
  char target[256], why[256];
  describe_target(c, target, sizeof(target));
  first_line(why, sizeof(why), c ? PQerrorMessage(c) : "out of memory");
  snprintf(errstr, errlen, "cannot reconnect to PostgreSQL at %s: %s",
           target, why);
  PQfinish(c);
  return -1;
}

PGconn *sp_db_ready(sp_db *db) {
  char err[512];
  if (!db)
    return NULL;
  if (PQstatus(db->conn) != CONNECTION_OK &&
      sp_db_ensure(db, err, sizeof err) != 0)
    sp_debug("database still unreachable", "error", err);
  return db->conn;
}

/* Fill errstr and the thread's SQLSTATE from a failed (or NULL) result. A
 * broken connection always reads as 08006, whatever the server said last
 * (pg_terminate_backend, for one, sends 57P01 just before hanging up). */
static void record_failure(PGconn *c, const PGresult *res, char *errstr,
                           size_t errlen) {
  const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
  const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
                        : NULL;
  if (!msg || !*msg)
    msg = res ? PQresultErrorMessage(res) : NULL;
  if (!msg || !*msg)
    msg = c ? PQerrorMessage(c) : "no connection";
  if (!c || PQstatus(c) != CONNECTION_OK)
    state = SP_DB_SQLSTATE_CONN_LOST;
  else if (res && PQresultStatus(res) != PGRES_FATAL_ERROR &&
           PQresultStatus(res) != PGRES_NONFATAL_ERROR && !state)
    state = "XX000"; /* e.g. COPY mode: the query was not a plain one */
  set_sqlstate(state);
  char line[512];
  first_line(line, sizeof(line), msg);
  snprintf(errstr, errlen, "%s: %s", last_sqlstate,
           *line ? line : "unknown error");
}

PGresult *sp_db_query(PGconn *c, const char *sql, int nparams,
                      const char *const *params, char *errstr,
                      size_t errlen) {
  if (!c) {
    set_sqlstate(SP_DB_SQLSTATE_CONN_LOST);
    snprintf(errstr, errlen, "%s: no connection", last_sqlstate);
    return NULL;
  }
  PGresult *res = PQexecParams(c, sql, nparams, NULL, params, NULL, NULL, 0);
  ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
    set_sqlstate("00000");
    return res;
  }
  record_failure(c, res, errstr, errlen);
  PQclear(res);
  return NULL;
}

long sp_db_exec(PGconn *c, const char *sql, int nparams,
                const char *const *params, char *errstr, size_t errlen) {
  PGresult *res = sp_db_query(c, sql, nparams, params, errstr, errlen);
  if (!res)
    return -1;
  long n = strtol(PQcmdTuples(res), NULL, 10);
  PQclear(res);
  return n;
}

/* 23P01, an exclusion violation, is what a concurrent writer's commit
 * causes when two transactions claim overlapping ranges (number allocation,
 * vendor-exchange): the next attempt sees the winner's rows and picks
 * others. Code that can cause one on its own input must check for the
 * overlap first and refuse, or it would be retried until the budget ends. */
static int sqlstate_transient(const char *s) {
  return strcmp(s, "40001") == 0 || strcmp(s, "40P01") == 0 ||
         strcmp(s, "23P01") == 0 || strncmp(s, "08", 2) == 0;
}

/* Leave no transaction open on a live connection. */
static void rollback_if_open(PGconn *c) {
  if (!c || PQstatus(c) != CONNECTION_OK)
    return;
  PGTransactionStatusType ts = PQtransactionStatus(c);
  if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR) {
    PGresult *r = PQexec(c, "ROLLBACK");
    PQclear(r);
  }
}

/* One attempt. Returns SP_DB_OK, SP_DB_REJECT, or SP_DB_ERROR with the
 * SQLSTATE that decides whether to retry copied into state. */
static int tx_attempt(sp_db *db, sp_db_tx_fn fn, void *arg, char *state,
                      char *errstr, size_t errlen) {
  snprintf(state, 6, "00000");
  set_sqlstate("00000");
  if (sp_db_ensure(db, errstr, errlen) != 0) {
    snprintf(state, 6, SP_DB_SQLSTATE_CONN_LOST);
    return SP_DB_ERROR;
  }
  PGconn *c = db->conn;
  PGresult *r = sp_db_query(c, "BEGIN", 0, NULL, errstr, errlen);
  if (!r) {
    snprintf(state, 6, "%s", last_sqlstate);
    rollback_if_open(c);
    return SP_DB_ERROR;
  }
  PQclear(r);

  int rc = fn(c, arg, errstr, errlen);
  if (rc == SP_DB_REJECT) {
    rollback_if_open(c);
    return SP_DB_REJECT;
  }
  if (rc != SP_DB_OK) {
    /* Read before ROLLBACK resets it. A lost connection wins over
     * whatever fn last saw. */
    snprintf(state, 6, "%s",
             PQstatus(c) != CONNECTION_OK ? SP_DB_SQLSTATE_CONN_LOST
                                          : last_sqlstate);
    rollback_if_open(c);
    return SP_DB_ERROR;
  }
  r = sp_db_query(c, "COMMIT", 0, NULL, errstr, errlen);
  if (!r) {
    snprintf(state, 6, "%s", last_sqlstate);
    rollback_if_open(c);
    return SP_DB_ERROR;
  }
  /* COMMIT of a transaction already in error answers "ROLLBACK": fn
   * ignored a failed statement, so nothing was stored. */
  int committed = strcmp(PQcmdStatus(r), "COMMIT") == 0;
  PQclear(r);
  if (!committed) {
    snprintf(state, 6, "25P02");
    set_sqlstate(state);
    snprintf(errstr, errlen,
             "25P02: transaction was aborted by an earlier error and "
             "rolled back at COMMIT");
    return SP_DB_ERROR;
  }
  return SP_DB_OK;
}

int sp_db_tx(sp_db *db, sp_db_tx_fn fn, void *arg, char *errstr,
             size_t errlen) {
  if (!db || !fn) {
    snprintf(errstr, errlen, "sp_db_tx: no database handle or function");
    return SP_DB_ERROR;
  }
  long start = now_ms();
  long delay = SP_DB_BACKOFF_FIRST_MS;
  for (int attempt = 1;; attempt++) {
    char state[6];
    int rc = tx_attempt(db, fn, arg, state, errstr, errlen);
    if (rc == SP_DB_OK || rc == SP_DB_REJECT)
      return rc;
    if (!sqlstate_transient(state))
      return SP_DB_ERROR;
    long spent = now_ms() - start;
    if (spent + delay > db->retry_ms) {
      /* Keep the cause, and say why we stopped. */
      char cause[384];
      snprintf(cause, sizeof(cause), "%s", errstr);
      snprintf(errstr, errlen,
               "transaction gave up after %d attempt(s) in %ld ms: %s",
               attempt, spent, cause);
      set_sqlstate(state);
      return SP_DB_ERROR;
    }
    char n[16];
    snprintf(n, sizeof(n), "%d", attempt);
    sp_warn("db transaction retried", "sqlstate", state, "attempt", n);
    sleep_ms(delay);
    delay *= 2;
    if (delay > SP_DB_BACKOFF_MAX_MS)
      delay = SP_DB_BACKOFF_MAX_MS;
  }
}
