/* cmd_batch.c - `simpkictl batch show`: where a batch is, B3 to B6, and
 * its HLR loading live (a bar with counts and rate while it runs). */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cmds.h"
#include "shutdown.h"

static void usage(FILE *fp) {
  fprintf(fp,
          "Usage: simpkictl batch show BATCH_ID [--watch] [--interval S]\n\n"
          "The batch's order, vendor and size; its input and output files\n"
          "(B3, B4); its loading into the HLR (B5): state, SIMs loaded,\n"
          "already present, failed and left, the rate, and the first\n"
          "failures with their reasons.\n\n"
          "  --watch        redraw every S seconds (default 1) until the\n"
          "                 loading is done or Ctrl-C (waiting for the batch\n"
          "                 to be queued first); on a terminal one\n"
          "                 line is redrawn, elsewhere a line per interval\n"
          "  --interval S   seconds between redraws (0.2 to 60)\n\n"
          "Exit status: 0 shown, 1 no such batch or the database failed,\n"
          "2 usage.\n\n"
          "Environment: SIMPKI_DB_URL (required).\n");
}

typedef struct load_view {
  int found, has_load;
  char state[16], reason[512];
  long sims, loaded, already, failed;
  double elapsed; /* since loading started; 0 before */
} load_view;

static int read_load(PGconn *c, const char *batch, load_view *v,
                     char *errstr, size_t errlen) {
  const char *p[] = {batch};
  PGresult *r = sp_db_query(
      c,
      "SELECT state, coalesce(reason, ''), sims, loaded, already, failed, "
      "coalesce(extract(epoch FROM coalesce(finished_at, now()) - "
      "started_at), 0) FROM hlr_loads WHERE batch_id = $1",
      1, p, errstr, errlen);
  if (!r)
    return -1;
  memset(v, 0, sizeof *v);
  v->has_load = PQntuples(r) == 1;
  if (v->has_load) {
    snprintf(v->state, sizeof v->state, "%s", PQgetvalue(r, 0, 0));
    snprintf(v->reason, sizeof v->reason, "%s", PQgetvalue(r, 0, 1));
    v->sims = atol(PQgetvalue(r, 0, 2));
    v->loaded = atol(PQgetvalue(r, 0, 3));
    v->already = atol(PQgetvalue(r, 0, 4));
    v->failed = atol(PQgetvalue(r, 0, 5));
    v->elapsed = atof(PQgetvalue(r, 0, 6));
  }
  PQclear(r);
  return 0;
}

/* "[########------------]  40%  2000/5000  loaded 1990 · already 0 ·
 *  failed 10 · 1,612 SIMs/s · 2s left" */
static void render_bar(const load_view *v, char *out, size_t len) {
  long done = v->loaded + v->already + v->failed;
  double frac = v->sims > 0 ? (double)done / (double)v->sims : 0;
  char bar[33];
  int fill = (int)lround(frac * 30);
  bar[0] = '[';
  for (int i = 0; i < 30; i++)
    bar[1 + i] = i < fill ? '#' : '-';
  bar[31] = ']';
  bar[32] = '\0';
  double rate = v->elapsed > 0.05 ? (double)done / v->elapsed : 0;
  char tail[64] = "";
  if (!strcmp(v->state, "done"))
    snprintf(tail, sizeof tail, "done in %.1fs", v->elapsed);
  else if (rate > 0)
    snprintf(tail, sizeof tail, "%.0fs left",
             (double)(v->sims - done) / rate);
  snprintf(out, len,
           "%s %3.0f%%  %ld/%ld  loaded %ld, already %ld, failed %ld  "
           "%.0f SIMs/s  %s%s%s",
           bar, frac * 100, done, v->sims, v->loaded, v->already, v->failed,
           rate, v->state, tail[0] ? ", " : "", tail);
}

static int show_static(PGconn *c, const char *batch) {
  char err[512];
  const char *p[] = {batch};
  PGresult *r = sp_db_query(
      c,
      "SELECT b.order_id, b.vendor_id, b.kind, b.quantity, b.profile, "
      "b.state, coalesce(f.input_sha256, ''), coalesce(f.output_sha256, ''), "
      "coalesce(to_char(f.output_accepted_at AT TIME ZONE "
      "'Asia/Ho_Chi_Minh', 'YYYY-MM-DD HH24:MI:SS'), '') FROM batches b "
      "LEFT JOIN batch_files f USING (batch_id) WHERE b.batch_id = $1",
      1, p, err, sizeof err);
  if (!r) {
    fprintf(stderr, "simpkictl batch show: %s\n", err);
    return -1;
  }
  if (PQntuples(r) != 1) {
    PQclear(r);
    fprintf(stderr, "simpkictl batch show: no batch %s\n", batch);
    return 1;
  }
  printf("batch      %s (%s, %s SIMs, %s)\n", batch, PQgetvalue(r, 0, 2),
         PQgetvalue(r, 0, 3), PQgetvalue(r, 0, 4));
  printf("order      %s, vendor %s, batch state %s\n", PQgetvalue(r, 0, 0),
         PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 5));
  const char *in = PQgetvalue(r, 0, 6), *out = PQgetvalue(r, 0, 7);
  printf("input      %s\n", *in ? in : "not issued yet");
  if (*out)
    printf("output     %s (accepted %s)\n", out, PQgetvalue(r, 0, 8));
  else
    printf("output     not accepted yet\n");
  PQclear(r);
  return 0;
}

static void show_failures(PGconn *c, const char *batch) {
  char err[512];
  const char *p[] = {batch};
  PGresult *r = sp_db_query(c,
                            "SELECT iccid, reason FROM hlr_failures WHERE "
                            "batch_id = $1 ORDER BY iccid LIMIT 10",
                            1, p, err, sizeof err);
  if (!r)
    return;
  for (int i = 0; i < PQntuples(r); i++)
    printf("  failed   %s  %s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
  PQclear(r);
}

int sp_cmd_batch(int argc, char **argv) {
  const char *prog = "simpkictl batch";
  if (argc < 2 || sp_is_help(argv[1])) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? SP_EXIT_USAGE : SP_EXIT_OK;
  }
  if (strcmp(argv[1], "show") != 0) {
    fprintf(stderr, "%s: unknown subcommand \"%s\"\n\n", prog, argv[1]);
    usage(stderr);
    return SP_EXIT_USAGE;
  }
  int watch = 0;
  double interval = 1.0;
  static const struct option opts[] = {{"watch", no_argument, NULL, 'w'},
                                       {"interval", required_argument, NULL,
                                        'i'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  optind = 1;
  int o;
  char *end;
  while ((o = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
    switch (o) {
    case 'w':
      watch = 1;
      break;
    case 'i':
      interval = strtod(optarg, &end);
      if (end == optarg || *end || interval < 0.2 || interval > 60) {
        fprintf(stderr, "%s: --interval must be 0.2 to 60 seconds\n", prog);
        return SP_EXIT_USAGE;
      }
      break;
    case 'h':
      usage(stdout);
      return SP_EXIT_OK;
    default:
      usage(stderr);
      return SP_EXIT_USAGE;
    }
  }
  if (optind + 1 != argc - 1) {
    fprintf(stderr, "%s show: one BATCH_ID\n", prog);
    return SP_EXIT_USAGE;
  }
  const char *batch = argv[optind + 1];
  sp_db *db = sp_cli_open_db(prog);
  if (!db)
    return SP_EXIT_FAIL;
  PGconn *c = sp_db_conn(db);
  int rc = show_static(c, batch);
  if (rc != 0) {
    sp_db_close(db);
    return SP_EXIT_FAIL;
  }
  sp_shutdown_install();
  int tty = isatty(STDOUT_FILENO);
  char err[512], line[256];
  load_view v;
  int said_waiting = 0;
  for (;;) {
    if (read_load(c, batch, &v, err, sizeof err)) {
      fprintf(stderr, "%s show: %s\n", prog, err);
      sp_db_close(db);
      return SP_EXIT_FAIL;
    }
    int last;
    if (!v.has_load) {
      /* Watching waits for the queue: the output file may be in flight. */
      if (!said_waiting)
        printf("HLR        not queued yet (waits for the accepted output "
               "file)\n");
      said_waiting = 1;
      fflush(stdout);
      if (!watch || sp_shutdown_requested())
        break;
      nanosleep(&(struct timespec){(time_t)interval,
                                   (long)((interval - (long)interval) * 1e9)},
                NULL);
      continue;
    }
    render_bar(&v, line, sizeof line);
    last = !watch || !strcmp(v.state, "done") || sp_shutdown_requested();
    if (watch && tty)
      printf("\r\033[KHLR        %s", line);
    else
      printf("HLR        %s\n", line);
    if (v.reason[0] && !strcmp(v.state, "stalled"))
      printf("%s           stalled: %s\n", tty && watch ? "\n" : "",
             v.reason);
    fflush(stdout);
    if (last)
      break;
    nanosleep(&(struct timespec){(time_t)interval,
                                 (long)((interval - (long)interval) * 1e9)},
              NULL);
  }
  if (watch && tty && v.has_load)
    printf("\n");
  if (v.has_load && v.failed > 0)
    show_failures(c, batch);
  sp_db_close(db);
  return SP_EXIT_OK;
}
