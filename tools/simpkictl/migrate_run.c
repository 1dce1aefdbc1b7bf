/* migrate_run.c - the I/O around migration planning: read the schema
 * folder, talk to PostgreSQL, apply pending files one transaction each. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db.h"
#include "log.h"
#include "migrate.h"

/* pg_advisory_lock key held for a whole migrate run ("simpki" in ASCII). */
#define SP_MIG_LOCK_KEY "126896644844393"

static const char create_table_sql[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version int PRIMARY KEY,"
    " name text NOT NULL,"
    " sha256 char(64) NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now())";

static char *read_file(const char *path, size_t *len, char *errstr,
                       size_t errlen) {
  FILE *fp = fopen(path, "rb");
  if (!fp) {
    snprintf(errstr, errlen, "cannot read %.600s: %s", path, strerror(errno));
    return NULL;
  }
  size_t cap = 8192, n = 0;
  char *buf = malloc(cap);
  while (buf) {
    if (n + 1 >= cap) {
      char *nb = realloc(buf, cap * 2);
      if (!nb) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = nb;
      cap *= 2;
    }
    size_t r = fread(buf + n, 1, cap - n - 1, fp);
    n += r;
    if (r == 0)
      break;
  }
  int bad = ferror(fp);
  fclose(fp);
  if (!buf || bad) {
    snprintf(errstr, errlen, "cannot read %.600s: %s", path,
             buf ? "read error" : "out of memory");
    free(buf);
    return NULL;
  }
  buf[n] = '\0';
  if (strlen(buf) != n) {
    snprintf(errstr, errlen, "cannot use %.600s: it contains a NUL byte", path);
    free(buf);
    return NULL;
  }
  *len = n;
  return buf;
}

/* Every migration in dir, sorted, with its text and SHA-256. */
static int load_dir(const char *dir, sp_mig_file **files, size_t *nfiles,
                    char *errstr, size_t errlen) {
  DIR *d = opendir(dir);
  if (!d) {
    snprintf(errstr, errlen, "cannot open schema folder %s: %s", dir,
             strerror(errno));
    return -1;
  }
  char **names = NULL;
  size_t n = 0, cap = 0;
  int rc = -1;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
      continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 32;
      char **nn = realloc(names, cap * sizeof(*names));
      if (!nn)
        goto out;
      names = nn;
    }
    if (!(names[n] = strdup(e->d_name)))
      goto out;
    n++;
  }
  if (sp_mig_collect((const char *const *)names, n, files, nfiles, errstr,
                     errlen) != 0)
    goto out_msg;
  for (size_t i = 0; i < *nfiles; i++) {
    sp_mig_file *f = &(*files)[i];
    char path[4096];
    size_t len = 0;
    snprintf(path, sizeof(path), "%s/%s", dir, f->name);
    if (!(f->sql = read_file(path, &len, errstr, errlen)) ||
        sp_mig_sha256_hex(f->sql, len, f->sha256) != 0) {
      if (f->sql)
        snprintf(errstr, errlen, "cannot hash %.600s", path);
      sp_mig_files_free(*files, *nfiles);
      *files = NULL;
      *nfiles = 0;
      goto out_msg;
    }
  }
  rc = 0;
  goto out_msg;
out:
  snprintf(errstr, errlen, "out of memory");
out_msg:
  for (size_t i = 0; i < n; i++)
    free(names[i]);
  free(names);
  closedir(d);
  return rc;
}

/* Rows of schema_migrations; the strings point into *res. */
static int load_applied(PGconn *c, PGresult **res, sp_mig_applied **rows,
                        size_t *nrows, char *errstr, size_t errlen) {
  *rows = NULL;
  *nrows = 0;
  *res = sp_db_query(c,
                     "SELECT version, name, sha256, "
                     " to_char(applied_at AT TIME ZONE 'UTC', "
                     " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
                     "FROM schema_migrations ORDER BY version",
                     0, NULL, errstr, errlen);
  if (!*res)
    return -1;
  int n = PQntuples(*res);
  *rows = calloc(n ? (size_t)n : 1, sizeof(**rows));
  if (!*rows) {
    snprintf(errstr, errlen, "out of memory");
    return -1;
  }
  for (int i = 0; i < n; i++) {
    (*rows)[i].version = strtol(PQgetvalue(*res, i, 0), NULL, 10);
    (*rows)[i].name = PQgetvalue(*res, i, 1);
    (*rows)[i].sha256 = PQgetvalue(*res, i, 2);
  }
  *nrows = (size_t)n;
  return 0;
}

static long schema_version(PGconn *c, char *errstr, size_t errlen) {
  PGresult *r = sp_db_query(
      c, "SELECT coalesce(max(version), 0) FROM schema_migrations", 0, NULL,
      errstr, errlen);
  if (!r)
    return -1;
  long v = strtol(PQgetvalue(r, 0, 0), NULL, 10);
  PQclear(r);
  return v;
}

struct apply_arg {
  const sp_mig_file *file;
  int skipped; /* another migrator applied it first */
};

/* One migration and its schema_migrations row, in one transaction. */
static int apply_one(PGconn *c, void *argp, char *errstr, size_t errlen) {
  struct apply_arg *a = argp;
  const sp_mig_file *f = a->file;
  char ver[24];
  snprintf(ver, sizeof(ver), "%ld", f->version);
  a->skipped = 0;

  /* Re-entrant with the session lock we hold; after a reconnect (which
   * drops that lock) it still keeps two migrators apart. */
  const char *key[] = {SP_MIG_LOCK_KEY};
  PGresult *r = sp_db_query(c, "SELECT pg_advisory_xact_lock($1::bigint)", 1,
                            key, errstr, errlen);
  if (!r)
    return SP_DB_ERROR;
  PQclear(r);
  const char *p1[] = {ver};
  r = sp_db_query(c, "SELECT sha256 FROM schema_migrations WHERE version = $1",
                  1, p1, errstr, errlen);
  if (!r)
    return SP_DB_ERROR;
  if (PQntuples(r) > 0) {
    int same = strcasecmp(PQgetvalue(r, 0, 0), f->sha256) == 0;
    PQclear(r);
    if (!same) {
      snprintf(errstr, errlen, "migration %s was changed after it was applied",
               f->name);
      return SP_DB_REJECT;
    }
    a->skipped = 1;
    return SP_DB_OK;
  }
  PQclear(r);

  /* The file may hold several statements, so PQexec (simple protocol);
   * it is trusted content from the repository, not input. */
  r = PQexec(c, f->sql);
  ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK &&
      st != PGRES_EMPTY_QUERY) {
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY)
                        : NULL;
    snprintf(errstr, errlen, "migration %s failed: %s: %.300s", f->name,
             state ? state : "08006",
             msg ? msg : "connection lost");
    PQclear(r);
    /* A lost connection is retried by sp_db_tx; an SQL error in the file
     * will not go away by running it again. */
    return PQstatus(c) == CONNECTION_OK ? SP_DB_REJECT : SP_DB_ERROR;
  }
  PQclear(r);
  if (PQtransactionStatus(c) != PQTRANS_INTRANS) {
    snprintf(errstr, errlen,
             "migration %s ended the transaction itself; remove its "
             "BEGIN/COMMIT/ROLLBACK",
             f->name);
    return SP_DB_REJECT;
  }
  const char *p3[] = {ver, f->name, f->sha256};
  if (sp_db_exec(c,
                 "INSERT INTO schema_migrations (version, name, sha256) "
                 "VALUES ($1, $2, $3)",
                 3, p3, errstr, errlen) != 1)
    return SP_DB_ERROR;
  return SP_DB_OK;
}

static void unlock_close(sp_db *db) {
  char err[256];
  const char *key[] = {SP_MIG_LOCK_KEY};
  PGresult *r = sp_db_query(sp_db_conn(db),
                            "SELECT pg_advisory_unlock($1::bigint)", 1, key,
                            err, sizeof(err));
  PQclear(r);
  sp_db_close(db);
}

/* Both commands start alike: read the folder, then reach the database. */
static sp_db *open_with_files(const char *what, const char *dir,
                              const char *conninfo, long wait_ms,
                              sp_mig_file **files, size_t *nfiles) {
  char err[1024];
  *files = NULL;
  *nfiles = 0;
  if (load_dir(dir, files, nfiles, err, sizeof(err)) != 0) {
    sp_error(what, "error", err, "dir", dir);
    return NULL;
  }
  sp_db *db = sp_db_open(conninfo, wait_ms, err, sizeof(err));
  if (!db) {
    sp_error(what, "error", err);
    sp_mig_files_free(*files, *nfiles);
  }
  return db;
}

int sp_mig_run(const char *dir, const char *conninfo, long wait_ms) {
  char err[1024];
  sp_mig_file *files;
  size_t nfiles;
  sp_db *db = open_with_files("migrate failed", dir, conninfo, wait_ms,
                              &files, &nfiles);
  if (!db)
    return 1;
  int rc = 1;
  PGresult *applied_res = NULL;
  sp_mig_applied *applied = NULL;
  size_t napplied = 0;
  sp_mig_plan plan = {0};
  PGconn *c = sp_db_conn(db);
  const char *key[] = {SP_MIG_LOCK_KEY};
  sp_info("waiting for the migration lock", "dir", dir);
  PGresult *r = sp_db_query(c, "SELECT pg_advisory_lock($1::bigint)", 1, key,
                            err, sizeof(err));
  if (!r)
    goto db_fail;
  PQclear(r);
  if (sp_db_exec(c, create_table_sql, 0, NULL, err, sizeof(err)) < 0)
    goto db_fail;
  if (load_applied(c, &applied_res, &applied, &napplied, err, sizeof(err)))
    goto db_fail;
  if (sp_mig_plan_build(files, nfiles, applied, napplied, &plan, err,
                        sizeof(err)) != 0) {
    sp_error("migrate refused", "error", err);
    goto out;
  }
  char num[24];
  snprintf(num, sizeof(num), "%zu", plan.npending);
  sp_info("migration plan", "pending", num, "dir", dir);

  size_t done = 0;
  for (size_t i = 0; i < plan.nsteps; i++) {
    const sp_mig_step *s = &plan.steps[i];
    if (s->state != SP_MIG_PENDING)
      continue;
    struct apply_arg a = {s->file, 0};
    sp_info("applying migration", "file", s->file->name);
    int t = sp_db_tx(db, apply_one, &a, err, sizeof(err));
    if (t != SP_DB_OK) {
      sp_error("migration failed", "file", s->file->name, "error", err);
      goto out;
    }
    if (a.skipped) {
      sp_info("migration already applied by another run", "file",
              s->file->name);
    } else {
      sp_info("migration applied", "file", s->file->name);
      done++;
    }
  }
  long v = schema_version(sp_db_conn(db), err, sizeof(err));
  if (v < 0)
    goto db_fail;
  printf("applied %zu migration(s), schema at version %ld\n", done, v);
  fflush(stdout);
  rc = 0;
  goto out;
db_fail:
  sp_error("migrate failed", "error", err);
out:
  sp_mig_plan_free(&plan);
  free(applied);
  PQclear(applied_res);
  sp_mig_files_free(files, nfiles);
  unlock_close(db);
  return rc;
}

int sp_mig_status(const char *dir, const char *conninfo, long wait_ms) {
  char err[1024];
  sp_mig_file *files;
  size_t nfiles;
  sp_db *db = open_with_files("status failed", dir, conninfo, wait_ms,
                              &files, &nfiles);
  if (!db)
    return 1;
  int rc = 1;
  PGresult *applied_res = NULL;
  sp_mig_applied *applied = NULL;
  size_t napplied = 0;
  sp_mig_plan plan = {0};
  PGconn *c = sp_db_conn(db);
  /* Read only: a database never migrated simply has everything pending. */
  PGresult *r = sp_db_query(
      c, "SELECT to_regclass('schema_migrations') IS NOT NULL", 0, NULL, err,
      sizeof(err));
  if (!r)
    goto db_fail;
  int exists = PQgetvalue(r, 0, 0)[0] == 't';
  PQclear(r);
  if (exists &&
      load_applied(c, &applied_res, &applied, &napplied, err, sizeof(err)))
    goto db_fail;
  char why[1024] = "";
  int consistent = sp_mig_plan_build(files, nfiles, applied, napplied, &plan,
                                     why, sizeof(why)) == 0;
  if (!plan.steps) {
    snprintf(err, sizeof(err), "%s", why);
    goto db_fail;
  }
  printf("%-8s %-12s %-20s %s\n", "VERSION", "STATE", "APPLIED_AT", "FILE");
  for (size_t i = 0; i < plan.nsteps; i++) {
    const sp_mig_step *s = &plan.steps[i];
    const char *at = "-";
    if (s->applied)
      at = PQgetvalue(applied_res, (int)(s->applied - applied), 3);
    const char *name = s->file ? s->file->name
                               : (s->applied->name ? s->applied->name : "?");
    printf("%-8ld %-12s %-20s %s\n", s->version, sp_mig_state_name(s->state),
           at, name);
  }
  printf("schema at version %ld, %zu pending\n", plan.applied_version,
         plan.npending);
  fflush(stdout);
  if (!consistent) {
    sp_error("schema is inconsistent with the migration files", "error",
             why);
    goto out;
  }
  rc = 0;
  goto out;
db_fail:
  sp_error("status failed", "error", err);
out:
  sp_mig_plan_free(&plan);
  free(applied);
  PQclear(applied_res);
  sp_mig_files_free(files, nfiles);
  sp_db_close(db);
  return rc;
}
