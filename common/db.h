/* db.h - PostgreSQL access over libpq.
 *
 * Parameterized queries only. sp_db_tx() runs a function inside a
 * transaction and retries it on serialization failures, deadlocks,
 * exclusion violations (two writers claiming overlapping ranges) and
 * dropped connections (reconnecting with backoff), so the function must only
 * touch the database: whatever it does may run more than once, and only the
 * committed run counts. */
#ifndef SIMPKI_DB_H
#define SIMPKI_DB_H

#include <libpq-fe.h>
#include <stddef.h>

typedef struct sp_db sp_db;

/* Connect, retrying with exponential backoff (100 ms doubling, at most 2 s
 * apart) for up to wait_ms. The conninfo may hold a password: it never
 * appears in errstr or a log line. */
sp_db *sp_db_open(const char *conninfo, long wait_ms, char *errstr,
                  size_t errlen);
void sp_db_close(sp_db *db);
PGconn *sp_db_conn(sp_db *db);
/* Reconnect when the connection is broken; 0 when usable. */
int sp_db_ensure(sp_db *db, char *errstr, size_t errlen);
/* The connection for a statement run outside sp_db_tx (a request's token
 * check, a read): one found broken is reconnected first, so a service
 * answers again as soon as PostgreSQL is back (a restart breaks every
 * connection). Still away: the old connection, whose statement fails. */
PGconn *sp_db_ready(sp_db *db);
/* How long sp_db_tx keeps retrying (default SIMPKI_DB_RETRY_MS or 60 s). */
void sp_db_set_retry_ms(sp_db *db, long ms);

/* Run a query with text parameters. Returns the result (caller PQclear()s)
 * for PGRES_COMMAND_OK / PGRES_TUPLES_OK, or NULL with errstr set and the
 * SQLSTATE remembered for sp_db_last_sqlstate() (per thread). */
PGresult *sp_db_query(PGconn *c, const char *sql, int nparams,
                      const char *const *params, char *errstr, size_t errlen);
/* Like sp_db_query for statements: returns affected rows, or -1. */
long sp_db_exec(PGconn *c, const char *sql, int nparams,
                const char *const *params, char *errstr, size_t errlen);
const char *sp_db_last_sqlstate(void);
/* Mark the failure a transaction function detected itself (e.g. "40001"
 * for a conflict it found) so that sp_db_tx treats it like the server's. */
void sp_db_set_sqlstate(const char *state);

/* Return codes of a transaction function and of sp_db_tx. */
#define SP_DB_OK 0
#define SP_DB_ERROR (-1)  /* rolled back; retried when transient */
#define SP_DB_REJECT (-2) /* rolled back on purpose; never retried */

typedef int (*sp_db_tx_fn)(PGconn *c, void *arg, char *errstr, size_t errlen);

/* BEGIN; fn; COMMIT. Returns SP_DB_OK once committed, SP_DB_REJECT when fn
 * rejected, SP_DB_ERROR when a permanent error or the retry budget ran out. */
int sp_db_tx(sp_db *db, sp_db_tx_fn fn, void *arg, char *errstr,
             size_t errlen);

#endif
