/* migrate.h - schema migrations: pure planning plus the database runner.
 *
 * Planning (migrate.c) has no I/O: it turns the names found in the schema
 * folder and the rows of schema_migrations into an ordered plan, so every
 * rule (file names, duplicates, changed files, ordering) is unit tested.
 * migrate_run.c does the directory, file and database work around it. */
#ifndef SIMPKICTL_MIGRATE_H
#define SIMPKICTL_MIGRATE_H

#include <stddef.h>

#define SP_MIG_SHA256_HEX 64

typedef struct sp_mig_file {
  long version;
  char *name;                        /* "0001_outbox_inbox.sql" (owned) */
  char sha256[SP_MIG_SHA256_HEX + 1]; /* filled by the caller */
  char *sql;                         /* file text (owned; may be NULL) */
} sp_mig_file;

/* One row of schema_migrations. */
typedef struct sp_mig_applied {
  long version;
  const char *name;
  const char *sha256;
} sp_mig_applied;

typedef enum {
  SP_MIG_PENDING = 0,
  SP_MIG_APPLIED = 1,
  SP_MIG_CHANGED = 2, /* applied, but the file's SHA-256 differs */
  SP_MIG_RENAMED = 3, /* applied under another file name */
  SP_MIG_MISSING = 4, /* applied, but no file has its version */
  SP_MIG_OUT_OF_ORDER = 5 /* pending, below the highest applied version */
} sp_mig_state;

/* One line of the plan: a file, an applied row, or both. */
typedef struct sp_mig_step {
  long version;
  const sp_mig_file *file;       /* NULL when SP_MIG_MISSING */
  const sp_mig_applied *applied; /* NULL when pending */
  sp_mig_state state;
} sp_mig_step;

typedef struct sp_mig_plan {
  sp_mig_step *steps; /* by version */
  size_t nsteps;
  size_t npending;
  long applied_version; /* highest applied version, 0 when none */
  int consistent;       /* no CHANGED / RENAMED / MISSING / OUT_OF_ORDER */
} sp_mig_plan;

/* Classify a folder entry: 1 = migration (version set), 0 = not a .sql
 * file (ignored), -1 = a .sql file with a bad name (errstr says why). */
int sp_mig_parse_name(const char *name, long *version, char *errstr,
                      size_t errlen);

/* From the names in a folder: the migrations, sorted by version. Fails,
 * naming the file, on a bad .sql name or a duplicate version. */
int sp_mig_collect(const char *const *names, size_t n, sp_mig_file **out,
                   size_t *nout, char *errstr, size_t errlen);
void sp_mig_files_free(sp_mig_file *files, size_t n);

/* Join files (sorted) with applied rows (any order). Always builds the
 * plan (status shows it); returns -1 with the first inconsistency in
 * errstr when it is not safe to apply anything. */
int sp_mig_plan_build(const sp_mig_file *files, size_t nfiles,
                      const sp_mig_applied *applied, size_t napplied,
                      sp_mig_plan *plan, char *errstr, size_t errlen);
void sp_mig_plan_free(sp_mig_plan *plan);

const char *sp_mig_state_name(sp_mig_state s);

/* Lower-case hex SHA-256 of buf. */
int sp_mig_sha256_hex(const void *buf, size_t len,
                      char out[SP_MIG_SHA256_HEX + 1]);

/* The database side (migrate_run.c). Both print progress as JSON logs on
 * stderr; return 0, or 1 with a message on stderr. */
int sp_mig_run(const char *dir, const char *conninfo, long wait_ms);
int sp_mig_status(const char *dir, const char *conninfo, long wait_ms);

#endif
