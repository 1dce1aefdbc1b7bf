/* audit_db.h - `simpkictl audit replay --against-db`: reads the rows of
 * sims, orders, batches and connection_cases in one read-only snapshot
 * (cursors, 10,000 rows at a time) and hands each one to
 * audit_state_check_row, then audit_state_finish. */
#ifndef SIMPKICTL_AUDIT_DB_H
#define SIMPKICTL_AUDIT_DB_H

#include <stddef.h>

#include "audit_state.h"

/* 0 when compared (drift findings appended to out), -1 with errstr when
 * the database could not be read, -2 when out of memory. */
int audit_db_compare(const char *db_url, audit_state *s, audit_findings *out,
                     char *errstr, size_t errlen);

#endif
