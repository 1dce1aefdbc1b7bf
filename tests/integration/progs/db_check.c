/* db_check.c - common/db.c against a real PostgreSQL (SIMPKI_DB_URL):
 * connecting with backoff (a refused port, a server that comes up late),
 * parameterized queries, and sp_db_tx commit / reject / retry on
 * serialization failures, deadlocks and a dropped connection. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "log.h"

#define SECRET "Sekr1t-pw-do-not-print"

static const char *url;
static char errbuf[1024];
static char table[64]; /* per test, so reruns and other tests never clash */

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static PGconn *side_conn(void) {
  PGconn *c = PQconnectdb(url);
  ck_assert_msg(PQstatus(c) == CONNECTION_OK, "side connection: %s",
                PQerrorMessage(c));
  return c;
}

static void side_exec(PGconn *c, const char *sql) {
  PGresult *r = PQexec(c, sql);
  ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK ||
                    PQresultStatus(r) == PGRES_TUPLES_OK,
                "%s: %s", sql, PQerrorMessage(c));
  PQclear(r);
}

static long side_long(PGconn *c, const char *sql) {
  PGresult *r = PQexec(c, sql);
  ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s: %s", sql,
                PQerrorMessage(c));
  long v = strtol(PQgetvalue(r, 0, 0), NULL, 10);
  PQclear(r);
  return v;
}

static long count_rows(PGconn *c) {
  char sql[128];
  snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
  return side_long(c, sql);
}

/* A fresh table "<name>_<pid>" (id int primary key, v text). */
static void make_table(const char *name) {
  snprintf(table, sizeof(table), "dbc_%s_%d", name, (int)getpid());
  PGconn *c = side_conn();
  char sql[256];
  snprintf(sql, sizeof(sql),
           "SET client_min_messages = warning; DROP TABLE IF EXISTS %s; "
           "CREATE TABLE %s (id int PRIMARY KEY, "
           "v text)",
           table, table);
  side_exec(c, sql);
  PQfinish(c);
}

static sp_db *open_db(void) {
  sp_db *db = sp_db_open(url, 5000, errbuf, sizeof(errbuf));
  ck_assert_msg(db != NULL, "sp_db_open: %s", errbuf);
  return db;
}

/* Log lines go to a temporary file so tests can check the retry warning. */
static FILE *capture_log(void) {
  FILE *fp = tmpfile();
  ck_assert_ptr_nonnull(fp);
  sp_log_set_stream(fp);
  return fp;
}

static char *captured(FILE *fp) {
  static char buf[16384];
  fflush(fp);
  rewind(fp);
  size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
  buf[n] = '\0';
  return buf;
}

/* --- connecting --------------------------------------------------------- */

START_TEST(test_open_refused_port_waits_then_fails) {
  const char *ci = "host=127.0.0.1 port=1 dbname=nodb user=nobody "
                   "password=" SECRET;
  long t0 = now_ms();
  sp_db *db = sp_db_open(ci, 900, errbuf, sizeof(errbuf));
  long took = now_ms() - t0;
  ck_assert_ptr_null(db);
  ck_assert_msg(took >= 850 && took < 5000, "gave up after %ld ms", took);
  ck_assert_msg(strstr(errbuf, "127.0.0.1:1/nodb") != NULL, "%s", errbuf);
  ck_assert_msg(strstr(errbuf, "refused") != NULL, "%s", errbuf);
  /* 100+200+400 ms of backoff fit in 900 ms: several tries, not one. */
  ck_assert_msg(strstr(errbuf, "after 1 attempt") == NULL, "%s", errbuf);
  ck_assert_msg(strstr(errbuf, SECRET) == NULL, "password leaked: %s",
                errbuf);

  /* URI form, no waiting: one try, still no password. */
  t0 = now_ms();
  db = sp_db_open("postgresql://nobody:" SECRET "@127.0.0.1:1/nodb", 0,
                  errbuf, sizeof(errbuf));
  ck_assert_ptr_null(db);
  ck_assert_msg(now_ms() - t0 < 2000, "wait 0 should not wait");
  ck_assert_msg(strstr(errbuf, "127.0.0.1:1/nodb") != NULL, "%s", errbuf);
  ck_assert_msg(strstr(errbuf, SECRET) == NULL, "password leaked: %s",
                errbuf);
}
END_TEST

START_TEST(test_open_malformed_conninfo_hides_it) {
  /* libpq's own parse error would quote the fragment after password. */
  const char *bad[] = {"host=127.0.0.1 password " SECRET " dbname=x",
                       "host=127.0.0.1 password='" SECRET,
                       "postgresql://u:" SECRET "@127.0.0.1:5432/db?bogus="
                       "1"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    errbuf[0] = '\0';
    sp_db *db = sp_db_open(bad[i], 0, errbuf, sizeof(errbuf));
    ck_assert_ptr_null(db);
    ck_assert_msg(errbuf[0] != '\0', "no error for case %zu", i);
    ck_assert_msg(strstr(errbuf, SECRET) == NULL, "password leaked: %s",
                  errbuf);
  }
  ck_assert_ptr_null(sp_db_open(NULL, 0, errbuf, sizeof(errbuf)));
}
END_TEST

START_TEST(test_open_bad_retry_env) {
  setenv("SIMPKI_DB_RETRY_MS", "soon", 1);
  sp_db *db = sp_db_open(url, 1000, errbuf, sizeof(errbuf));
  unsetenv("SIMPKI_DB_RETRY_MS");
  ck_assert_ptr_null(db);
  ck_assert_msg(strstr(errbuf, "SIMPKI_DB_RETRY_MS") != NULL, "%s", errbuf);
}
END_TEST

/* A TCP forwarder that starts listening only after delay_ms: a database
 * server that comes up late. Relays to the real server behind url. */
static void relay(int a, int b) {
  struct pollfd p[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
  char buf[16384];
  for (;;) {
    if (poll(p, 2, -1) < 0 && errno != EINTR)
      return;
    for (int i = 0; i < 2; i++) {
      if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      ssize_t n = read(p[i].fd, buf, sizeof(buf));
      if (n <= 0)
        return;
      if (write(p[1 - i].fd, buf, (size_t)n) != n)
        return;
    }
  }
}

static int connect_target(const char *host, const char *port) {
  if (host[0] == '/') {
    struct sockaddr_un su = {.sun_family = AF_UNIX};
    snprintf(su.sun_path, sizeof(su.sun_path), "%.80s/.s.PGSQL.%.10s", host,
             port);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (connect(fd, (struct sockaddr *)&su, sizeof(su)) != 0)
      return -1;
    return fd;
  }
  struct sockaddr_in si = {.sin_family = AF_INET,
                           .sin_port = htons((uint16_t)atoi(port))};
  if (inet_pton(AF_INET, strcmp(host, "localhost") ? host : "127.0.0.1",
                &si.sin_addr) != 1)
    return -1;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(fd, (struct sockaddr *)&si, sizeof(si)) != 0)
    return -1;
  return fd;
}

static pid_t start_late_forwarder(int port, long delay_ms, const char *host,
                                  const char *tport) {
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid > 0)
    return pid;
  usleep((useconds_t)delay_ms * 1000);
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  struct sockaddr_in si = {.sin_family = AF_INET,
                           .sin_port = htons((uint16_t)port),
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (bind(ls, (struct sockaddr *)&si, sizeof(si)) != 0 || listen(ls, 8))
    _exit(3);
  signal(SIGCHLD, SIG_IGN);
  for (;;) {
    int c = accept(ls, NULL, NULL);
    if (c < 0)
      continue;
    if (fork() == 0) {
      close(ls);
      int t = connect_target(host, tport);
      if (t >= 0)
        relay(c, t);
      _exit(0);
    }
    close(c);
  }
}

static int free_port(void) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in si = {.sin_family = AF_INET,
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof(si);
  ck_assert_int_eq(bind(s, (struct sockaddr *)&si, sizeof(si)), 0);
  ck_assert_int_eq(getsockname(s, (struct sockaddr *)&si, &len), 0);
  close(s);
  return ntohs(si.sin_port);
}

START_TEST(test_open_server_comes_up_late) {
  PGconn *side = side_conn();
  char host[256], tport[16], ci[1024];
  snprintf(host, sizeof(host), "%s", PQhost(side));
  snprintf(tport, sizeof(tport), "%s", PQport(side));
  int port = free_port();
  int n = snprintf(ci, sizeof(ci),
                   "host=127.0.0.1 port=%d dbname='%s' user='%s'", port,
                   PQdb(side), PQuser(side));
  if (PQpass(side) && *PQpass(side))
    snprintf(ci + n, sizeof(ci) - (size_t)n, " password='%s'", PQpass(side));
  PQfinish(side);

  pid_t fwd = start_late_forwarder(port, 1200, host, tport);
  long t0 = now_ms();
  sp_db *db = sp_db_open(ci, 10000, errbuf, sizeof(errbuf));
  long took = now_ms() - t0;
  kill(fwd, SIGKILL);
  waitpid(fwd, NULL, 0);
  ck_assert_msg(db != NULL, "late server: %s", errbuf);
  ck_assert_msg(took >= 1100 && took < 6000, "connected after %ld ms", took);
  PGresult *r = sp_db_query(sp_db_conn(db), "SELECT 41 + 1", 0, NULL, errbuf,
                            sizeof(errbuf));
  ck_assert_ptr_nonnull(r);
  ck_assert_str_eq(PQgetvalue(r, 0, 0), "42");
  PQclear(r);
  sp_db_close(db);
}
END_TEST

/* --- queries ------------------------------------------------------------ */

START_TEST(test_query_params_stay_literal) {
  make_table("q");
  sp_db *db = open_db();
  PGconn *c = sp_db_conn(db);
  char ins[128], sel[128];
  snprintf(ins, sizeof(ins), "INSERT INTO %s (id, v) VALUES ($1, $2)", table);
  snprintf(sel, sizeof(sel), "SELECT v FROM %s WHERE v = $1", table);
  const char *evil = "x'); DROP TABLE students; --";
  const char *p1[] = {"1", evil};
  ck_assert_int_eq(sp_db_exec(c, ins, 2, p1, errbuf, sizeof(errbuf)), 1);
  const char *p2[] = {"2", "'; DELETE FROM pg_class; --"};
  ck_assert_int_eq(sp_db_exec(c, ins, 2, p2, errbuf, sizeof(errbuf)), 1);

  const char *q1[] = {evil};
  PGresult *r = sp_db_query(c, sel, 1, q1, errbuf, sizeof(errbuf));
  ck_assert_ptr_nonnull(r);
  ck_assert_int_eq(PQntuples(r), 1);
  ck_assert_str_eq(PQgetvalue(r, 0, 0), evil);
  PQclear(r);
  const char *q2[] = {"' OR '1'='1"};
  r = sp_db_query(c, sel, 1, q2, errbuf, sizeof(errbuf));
  ck_assert_ptr_nonnull(r);
  ck_assert_int_eq(PQntuples(r), 0);
  PQclear(r);

  /* NULL parameter is SQL NULL; affected-row count of an UPDATE. */
  const char *pn[] = {NULL};
  r = sp_db_query(c, "SELECT $1::text IS NULL", 1, pn, errbuf,
                  sizeof(errbuf));
  ck_assert_ptr_nonnull(r);
  ck_assert_str_eq(PQgetvalue(r, 0, 0), "t");
  PQclear(r);
  char upd[128];
  snprintf(upd, sizeof(upd), "UPDATE %s SET v = v || $1", table);
  const char *pu[] = {"!"};
  ck_assert_int_eq(sp_db_exec(c, upd, 1, pu, errbuf, sizeof(errbuf)), 2);

  PGconn *side = side_conn();
  ck_assert_int_eq(count_rows(side), 2);
  PQfinish(side);
  sp_db_close(db);
}
END_TEST

START_TEST(test_query_errors_carry_sqlstate) {
  sp_db *db = open_db();
  PGconn *c = sp_db_conn(db);
  PGresult *r = sp_db_query(c, "SELECT * FROM no_such_table_here", 0, NULL,
                            errbuf, sizeof(errbuf));
  ck_assert_ptr_null(r);
  ck_assert_str_eq(sp_db_last_sqlstate(), "42P01");
  ck_assert_msg(strncmp(errbuf, "42P01: ", 7) == 0, "%s", errbuf);
  ck_assert_msg(strstr(errbuf, "no_such_table_here") != NULL, "%s", errbuf);
  ck_assert_msg(strchr(errbuf, '\n') == NULL, "one line: %s", errbuf);

  ck_assert_int_eq(sp_db_exec(c, "SELEC 1", 0, NULL, errbuf, sizeof(errbuf)),
                   -1);
  ck_assert_str_eq(sp_db_last_sqlstate(), "42601");

  const char *p[] = {"not a number"};
  ck_assert_ptr_null(
      sp_db_query(c, "SELECT $1::int", 1, p, errbuf, sizeof(errbuf)));
  ck_assert_str_eq(sp_db_last_sqlstate(), "22P02");

  /* Several statements are refused by the extended protocol. */
  ck_assert_ptr_null(sp_db_query(c, "SELECT 1; SELECT 2", 0, NULL, errbuf,
                                 sizeof(errbuf)));
  ck_assert_str_eq(sp_db_last_sqlstate(), "42601");

  r = sp_db_query(c, "SELECT 1", 0, NULL, errbuf, sizeof(errbuf));
  ck_assert_ptr_nonnull(r);
  PQclear(r);
  ck_assert_str_eq(sp_db_last_sqlstate(), "00000");
  sp_db_close(db);
}
END_TEST

/* --- transactions ------------------------------------------------------- */

struct txa {
  int calls;
  int id;
  int pids[8];
  PGconn *side;
};

static int insert_row(PGconn *c, int id, const char *v, char *errstr,
                      size_t errlen) {
  char sql[128], ids[16];
  snprintf(sql, sizeof(sql), "INSERT INTO %s (id, v) VALUES ($1, $2)", table);
  snprintf(ids, sizeof(ids), "%d", id);
  const char *p[] = {ids, v};
  return sp_db_exec(c, sql, 2, p, errstr, errlen) == 1 ? SP_DB_OK
                                                       : SP_DB_ERROR;
}

static int fn_commit(PGconn *c, void *arg, char *errstr, size_t errlen) {
  struct txa *a = arg;
  a->calls++;
  if (insert_row(c, 1, "one", errstr, errlen) != SP_DB_OK)
    return SP_DB_ERROR;
  return insert_row(c, 2, "two", errstr, errlen);
}

START_TEST(test_tx_commit) {
  make_table("commit");
  sp_db *db = open_db();
  struct txa a = {0};
  ck_assert_int_eq(sp_db_tx(db, fn_commit, &a, errbuf, sizeof(errbuf)),
                   SP_DB_OK);
  ck_assert_int_eq(a.calls, 1);
  ck_assert_int_eq(PQtransactionStatus(sp_db_conn(db)), PQTRANS_IDLE);
  PGconn *side = side_conn();
  ck_assert_int_eq(count_rows(side), 2);
  PQfinish(side);
  sp_db_close(db);
}
END_TEST

static int fn_reject(PGconn *c, void *arg, char *errstr, size_t errlen) {
  struct txa *a = arg;
  a->calls++;
  if (insert_row(c, 1, "one", errstr, errlen) != SP_DB_OK)
    return SP_DB_ERROR;
  snprintf(errstr, errlen, "order refused: range overlaps");
  return SP_DB_REJECT;
}

START_TEST(test_tx_reject_rolls_back) {
  make_table("reject");
  sp_db *db = open_db();
  FILE *log = capture_log();
  struct txa a = {0};
  ck_assert_int_eq(sp_db_tx(db, fn_reject, &a, errbuf, sizeof(errbuf)),
                   SP_DB_REJECT);
  ck_assert_int_eq(a.calls, 1);
  ck_assert_str_eq(errbuf, "order refused: range overlaps");
  ck_assert_int_eq(PQtransactionStatus(sp_db_conn(db)), PQTRANS_IDLE);
  ck_assert_ptr_null(strstr(captured(log), "retried"));
  PGconn *side = side_conn();
  ck_assert_int_eq(count_rows(side), 0);
  PQfinish(side);
  sp_db_close(db);
}
END_TEST

static int raise_state(PGconn *c, const char *state, char *errstr,
                       size_t errlen) {
  char sql[160];
  snprintf(sql, sizeof(sql),
           "DO $$ BEGIN RAISE EXCEPTION 'injected failure' USING ERRCODE = "
           "'%s'; END $$",
           state);
  PGresult *r = sp_db_query(c, sql, 0, NULL, errstr, errlen);
  ck_assert_ptr_null(r);
  return SP_DB_ERROR;
}

static int fn_40001_once(PGconn *c, void *arg, char *errstr, size_t errlen) {
  struct txa *a = arg;
  a->calls++;
  if (insert_row(c, 1, a->calls == 1 ? "first" : "second", errstr, errlen))
    return SP_DB_ERROR;
  if (a->calls == 1)
    return raise_state(c, "40001", errstr, errlen);
  return SP_DB_OK;
}

START_TEST(test_tx_retries_raised_serialization_failure) {
  make_table("raise");
  sp_db *db = open_db();
  FILE *log = capture_log();
  struct txa a = {0};
  ck_assert_int_eq(sp_db_tx(db, fn_40001_once, &a, errbuf, sizeof(errbuf)),
                   SP_DB_OK);
  ck_assert_int_eq(a.calls, 2);
  const char *l = captured(log);
  ck_assert_msg(strstr(l, "\"msg\":\"db transaction retried\"") &&
                    strstr(l, "\"sqlstate\":\"40001\"") &&
                    strstr(l, "\"attempt\":\"1\""),
                "log: %s", l);
  PGconn *side = side_conn();
  ck_assert_int_eq(count_rows(side), 1);
  char sql[128];
  snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s WHERE v = 'second'",
           table);
  ck_assert_int_eq(side_long(side, sql), 1);
  PQfinish(side);
  sp_db_close(db);
}
END_TEST

static int fn_40P01_once(PGconn *c, void *arg, char *errstr, size_t errlen) {
  struct txa *a = arg;
  a->calls++;
  if (insert_row(c, 1, "x", errstr, errlen))
    return SP_DB_ERROR;
  return a->calls == 1 ? raise_state(c, "40P01", errstr, errlen) : SP_DB_OK;
}

START_TEST(test_tx_retries_deadlock) {
  make_table("deadlock");
  sp_db *db = open_db();
  FILE *log = capture_log();
  struct txa a = {0};
  ck_assert_int_eq(sp_db_tx(db, fn_40P01_once, &a, errbuf, sizeof(errbuf)),
                   SP_DB_OK);
  ck_assert_int_eq(a.calls, 2);
  ck_assert_ptr_nonnull(strstr(captured(log), "\"sqlstate\":\"40P01\""));
  PGconn *side = side_conn();
  ck_assert_int_eq(count_rows(side), 1);
  PQfinish(side);
  sp_db_close(db);
}
END_TEST

/* A real conflict: read under SERIALIZABLE, another session updates and
 * commits, then our update cannot be serialized. */
static int fn_real_conflict(PGconn *c, void *arg, char *errstr,
                            size_t errlen) {
  struct txa *a = arg;
  a->calls++;
  char sql[160];
  PGresult *r = sp_db_query(c, "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE",
                            0, NULL, errstr, errlen);
  if (!r)
    return SP_DB_ERROR;
  PQclear(r);
  snprintf(sql, sizeof(sql), "SELECT v FROM %s WHERE id = 1", table);
  if (!(r = sp_db_query(c, sql, 0, NULL, errstr, errlen)))
    return SP_DB_ERROR;
  PQclear(r);
  if (a->calls == 1) {
    snprintf(sql, sizeof(sql),
             "UPDATE %s SET v = (v::int + 100)::text WHERE id = 1", table);
    side_exec(a->side, sql);
  }
  snprintf(sql, sizeof(sql),
           "UPDATE %s SET v = (v::int + 1)::text WHERE id = 1", table);
  return sp_db_exec(c, sql, 0, NULL, errstr, errlen) == 1 ? SP_DB_OK
                                                           : SP_DB_ERROR;
}

START_TEST(test_tx_retries_real_serialization_conflict) {
  make_table("conflict");
  sp_db *db = open_db();
  FILE *log = capture_log();
  struct txa a = {0};
  a.side = side_conn();
  char sql[128];
  snprintf(sql, sizeof(sql), "INSERT INTO %s VALUES (1, '0')", table);
  side_exec(a.side, sql);
  ck_assert_int_eq(sp_db_tx(db, fn_real_conflict, &a, errbuf, sizeof(errbuf)),
                   SP_DB_OK);
  ck_assert_int_eq(a.calls, 2);
  ck_assert_ptr_nonnull(strstr(captured(log), "\"sqlstate\":\"40001\""));
  snprintf(sql, sizeof(sql), "SELECT v::int FROM %s WHERE id = 1", table);
  ck_assert_int_eq(side_long(a.side, sql), 101); /* both updates, once */
  PQfinish(a.side);
  sp_db_close(db);
}
END_TEST

/* First attempt: the server drops our connection just before COMMIT. */
static int fn_dropped(PGconn *c, void *arg, char *errstr, size_t errlen) {
  struct txa *a = arg;
  int pid = PQbackendPID(c);
  a->pids[a->calls++] = pid;
  if (insert_row(c, 7, a->calls == 1 ? "lost" : "kept", errstr, errlen))
    return SP_DB_ERROR;
  if (a->calls == 1) {
    char sql[160];
    snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%d)", pid);
    side_exec(a->side, sql);
    /* Wait until the backend is really gone. */
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM pg_stat_activity WHERE pid = %d", pid);
    long t0 = now_ms();
    while (side_long(a->side, sql) > 0 && now_ms() - t0 < 10000)
      usleep(20000);
  }
  return SP_DB_OK;
}

START_TEST(test_tx_reconnects_after_dropped_connection) {
  make_table("dropped");
  sp_db *db = open_db();
  FILE *log = capture_log();
  struct txa a = {0};
  a.side = side_conn();
  ck_assert_int_eq(sp_db_tx(db, fn_dropped, &a, errbuf, sizeof(errbuf)),
                   SP_DB_OK);
  ck_assert_int_eq(a.calls, 2);
  ck_assert_int_ne(a.pids[0], a.pids[1]);
  ck_assert_ptr_nonnull(strstr(captured(log), "\"sqlstate\":\"08006\""));
  ck_assert_int_eq(count_rows(a.side), 1);
  char sql[128];
  snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s WHERE v = 'kept'",
           table);
  ck_assert_int_eq(side_long(a.side, sql), 1);
  /* The handle now holds the new, working connection. */
  ck_assert_int_eq(PQbackendPID(sp_db_conn(db)), a.pids[1]);
  ck_assert_int_eq(sp_db_ensure(db, errbuf, sizeof(errbuf)), 0);
  PQfinish(a.side);
  sp_db_close(db);
}
END_TEST

static int fn_duplicate(PGconn *c, void *arg, char *errstr, size_t errlen) {
  struct txa *a = arg;
  a->calls++;
  if (insert_row(c, 1, "a", errstr, errlen))
    return SP_DB_ERROR;
  return insert_row(c, 1, "b", errstr, errlen);
}

START_TEST(test_tx_permanent_error_not_retried) {
  make_table("perm");
  sp_db *db = open_db();
  FILE *log = capture_log();
  struct txa a = {0};
  ck_assert_int_eq(sp_db_tx(db, fn_duplicate, &a, errbuf, sizeof(errbuf)),
                   SP_DB_ERROR);
  ck_assert_int_eq(a.calls, 1);
  ck_assert_msg(strncmp(errbuf, "23505: ", 7) == 0, "%s", errbuf);
  ck_assert_ptr_null(strstr(captured(log), "retried"));
  ck_assert_int_eq(PQtransactionStatus(sp_db_conn(db)), PQTRANS_IDLE);
  PGconn *side = side_conn();
  ck_assert_int_eq(count_rows(side), 0);
  PQfinish(side);
  sp_db_close(db);
}
END_TEST

/* fn swallowed an error and says OK: COMMIT rolls back, report it. */
static int fn_ignores_error(PGconn *c, void *arg, char *errstr,
                            size_t errlen) {
  struct txa *a = arg;
  a->calls++;
  if (insert_row(c, 1, "a", errstr, errlen))
    return SP_DB_ERROR;
  PGresult *r = sp_db_query(c, "SELECT 1/0", 0, NULL, errstr, errlen);
  ck_assert_ptr_null(r);
  return SP_DB_OK;
}

START_TEST(test_tx_commit_of_failed_tx_is_error) {
  make_table("aborted");
  sp_db *db = open_db();
  struct txa a = {0};
  ck_assert_int_eq(sp_db_tx(db, fn_ignores_error, &a, errbuf, sizeof(errbuf)),
                   SP_DB_ERROR);
  ck_assert_int_eq(a.calls, 1);
  ck_assert_msg(strncmp(errbuf, "25P02: ", 7) == 0, "%s", errbuf);
  PGconn *side = side_conn();
  ck_assert_int_eq(count_rows(side), 0);
  PQfinish(side);
  sp_db_close(db);
}
END_TEST

static int fn_always_40001(PGconn *c, void *arg, char *errstr,
                           size_t errlen) {
  struct txa *a = arg;
  a->calls++;
  if (insert_row(c, a->calls, "x", errstr, errlen))
    return SP_DB_ERROR;
  return raise_state(c, "40001", errstr, errlen);
}

START_TEST(test_tx_gives_up_when_budget_spent) {
  make_table("budget");
  sp_db *db = open_db();
  FILE *log = capture_log();
  sp_db_set_retry_ms(db, 500);
  struct txa a = {0};
  long t0 = now_ms();
  ck_assert_int_eq(sp_db_tx(db, fn_always_40001, &a, errbuf, sizeof(errbuf)),
                   SP_DB_ERROR);
  long took = now_ms() - t0;
  /* 100 + 200 ms of backoff fit in 500 ms, the next 400 does not. */
  ck_assert_int_eq(a.calls, 3);
  ck_assert_msg(took >= 300 && took < 3000, "took %ld ms", took);
  ck_assert_msg(strstr(errbuf, "gave up after 3 attempt(s)") &&
                    strstr(errbuf, "40001: injected failure"),
                "%s", errbuf);
  ck_assert_str_eq(sp_db_last_sqlstate(), "40001");
  ck_assert_ptr_nonnull(strstr(captured(log), "\"attempt\":\"2\""));
  PGconn *side = side_conn();
  ck_assert_int_eq(count_rows(side), 0);
  PQfinish(side);
  sp_db_close(db);
}
END_TEST

START_TEST(test_tx_retry_budget_from_env) {
  make_table("envbudget");
  setenv("SIMPKI_DB_RETRY_MS", "0", 1);
  sp_db *db = open_db();
  unsetenv("SIMPKI_DB_RETRY_MS");
  capture_log();
  struct txa a = {0};
  ck_assert_int_eq(sp_db_tx(db, fn_40001_once, &a, errbuf, sizeof(errbuf)),
                   SP_DB_ERROR);
  ck_assert_int_eq(a.calls, 1);
  PGconn *side = side_conn();
  ck_assert_int_eq(count_rows(side), 0);
  PQfinish(side);
  sp_db_close(db);
}
END_TEST

int main(void) {
  url = getenv("SIMPKI_DB_URL");
  if (!url || !*url) {
    fprintf(stderr, "db_check: SIMPKI_DB_URL is not set\n");
    return 2;
  }
  Suite *s = suite_create("db");
  TCase *conn = tcase_create("connect");
  tcase_set_timeout(conn, 60);
  tcase_add_test(conn, test_open_refused_port_waits_then_fails);
  tcase_add_test(conn, test_open_malformed_conninfo_hides_it);
  tcase_add_test(conn, test_open_bad_retry_env);
  tcase_add_test(conn, test_open_server_comes_up_late);
  suite_add_tcase(s, conn);
  TCase *q = tcase_create("query");
  tcase_add_test(q, test_query_params_stay_literal);
  tcase_add_test(q, test_query_errors_carry_sqlstate);
  suite_add_tcase(s, q);
  TCase *tx = tcase_create("tx");
  tcase_set_timeout(tx, 60);
  tcase_add_test(tx, test_tx_commit);
  tcase_add_test(tx, test_tx_reject_rolls_back);
  tcase_add_test(tx, test_tx_retries_raised_serialization_failure);
  tcase_add_test(tx, test_tx_retries_deadlock);
  tcase_add_test(tx, test_tx_retries_real_serialization_conflict);
  tcase_add_test(tx, test_tx_reconnects_after_dropped_connection);
  tcase_add_test(tx, test_tx_permanent_error_not_retried);
  tcase_add_test(tx, test_tx_commit_of_failed_tx_is_error);
  tcase_add_test(tx, test_tx_gives_up_when_budget_spent);
  tcase_add_test(tx, test_tx_retry_budget_from_env);
  suite_add_tcase(s, tx);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
