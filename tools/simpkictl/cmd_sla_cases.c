/* cmd_sla_cases.c - `simpkictl sla list` and `simpkictl sla contacted`:
 * the A5 connection cases the notifier tracks (services/notifier/sla.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "cli.h"
#include "cmds.h"
#include "outbox.h"

static void usage_list(FILE *fp) {
  fprintf(fp,
          "Usage: simpkictl sla list [--due-before DATETIME] [--breached] "
          "[--all]\n\n"
          "The connection cases whose contact deadline (3 working days from\n"
          "the notice, A5) still runs, soonest first: case, agency, person,\n"
          "deadline (+07:00) and state (open, reminded, breached). --breached\n"
          "shows only those past their deadline; --due-before only those due\n"
          "before DATETIME (YYYY-MM-DDTHH:MM local, or ISO 8601 with an\n"
          "offset); --all adds the closed ones (connected or contacted).\n\n"
          "Exit status: 0 listed, 1 failed, 2 usage.\n\n"
          "Environment: SIMPKI_DB_URL (required).\n");
}

int sp_cmd_sla_list(int argc, char **argv) {
  static const struct option opts[] = {
      {"due-before", required_argument, NULL, 'd'},
      {"breached", no_argument, NULL, 'b'},
      {"all", no_argument, NULL, 'a'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *before = NULL;
  int breached = 0, all = 0, o;
  optind = 1;
  while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (o) {
    case 'd': before = optarg; break;
    case 'b': breached = 1; break;
    case 'a': all = 1; break;
    case 'h': usage_list(stdout); return SP_EXIT_OK;
    default: usage_list(stderr); return SP_EXIT_USAGE;
    }
  }
  char err[512], iso[SP_CAL_TIME_LEN + 1] = "";
  if (optind != argc) {
    usage_list(stderr);
    return SP_EXIT_USAGE;
  }
  if (before) {
    time_t t;
    if (sp_cal_parse_time(before, &t, err, sizeof err)) {
      fprintf(stderr, "simpkictl sla list: --due-before: %s\n", err);
      return SP_EXIT_USAGE;
    }
    sp_cal_format_time(t, iso);
  }
  sp_db *db = sp_cli_open_db("simpkictl sla list");
  if (!db)
    return SP_EXIT_FAIL;
  const char *p[] = {iso, breached ? "t" : "f", all ? "t" : "f"};
  PGresult *r = sp_db_query(
      sp_db_conn(db),
      "SELECT case_id, agency, full_name, to_char(deadline AT TIME ZONE "
      "'Asia/Ho_Chi_Minh', 'YYYY-MM-DD\"T\"HH24:MI:SS\"+07:00\"'), CASE WHEN "
      "closed_at IS NOT NULL THEN closed_by WHEN breached_at IS NOT NULL "
      "THEN 'breached' WHEN reminded_at IS NOT NULL THEN 'reminded' ELSE "
      "'open' END FROM sla_cases WHERE ($3::boolean OR closed_at IS NULL) "
      "AND (NOT $2::boolean OR breached_at IS NOT NULL) AND ($1 = '' OR "
      "deadline < $1::timestamptz) ORDER BY deadline, case_id",
      3, p, err, sizeof err);
  sp_db_close(db);
  if (!r) {
    fprintf(stderr, "simpkictl sla list: %s\n", err);
    return SP_EXIT_FAIL;
  }
  printf("%-16s %-25s %-10s %s\n", "case", "deadline", "state",
         "agency / person");
  for (int i = 0; i < PQntuples(r); i++)
    printf("%-16s %-25s %-10s %s / %s\n", PQgetvalue(r, i, 0),
           PQgetvalue(r, i, 3), PQgetvalue(r, i, 4), PQgetvalue(r, i, 1),
           PQgetvalue(r, i, 2));
  fprintf(stderr, "%d case(s)\n", PQntuples(r));
  PQclear(r);
  return SP_EXIT_OK;
}

static void usage_contacted(FILE *fp) {
  fprintf(fp,
          "Usage: simpkictl sla contacted CASE_ID --note TEXT\n\n"
          "Records that the person of a connection case was contacted (A5):\n"
          "the deadline stops running and the event case.contacted is\n"
          "written (the notifier's relay publishes it). Who: $SIMPKI_OPERATOR.\n\n"
          "Exit status: 0 recorded (or recorded before), 1 no such open case\n"
          "or failed, 2 usage.\n\n"
          "Environment: SIMPKI_DB_URL (required), SIMPKI_OPERATOR.\n");
}

typedef struct contacted_tx {
  const char *case_id, *note;
  int found;
} contacted_tx;

static int contacted_fn(PGconn *c, void *arg, char *errstr, size_t errlen) {
  contacted_tx *t = arg;
  const char *p[] = {t->case_id, "contacted"};
  PGresult *r = sp_db_query(
      c,
      "UPDATE sla_cases SET closed_at = now(), closed_by = $2 WHERE case_id "
      "= $1 AND closed_at IS NULL RETURNING notice_id",
      2, p, errstr, errlen);
  if (!r)
    return SP_DB_ERROR;
  t->found = PQntuples(r) == 1;
  char notice[64] = "";
  if (t->found)
    snprintf(notice, sizeof notice, "%s", PQgetvalue(r, 0, 0));
  PQclear(r);
  if (!t->found)
    return SP_DB_REJECT;
  char subject[64];
  snprintf(subject, sizeof subject, "case/%s", t->case_id);
  return sp_outbox_publish(c, "notifier", "/simpki/notifier", "registrations",
                           "case.contacted", subject, notice,
                           json_pack("{s:s, s:s, s:s}", "case_id", t->case_id,
                                     "by", sp_cli_actor(), "note", t->note),
                           errstr, errlen)
             ? SP_DB_ERROR
             : SP_DB_OK;
}

int sp_cmd_sla_contacted(int argc, char **argv) {
  static const struct option opts[] = {{"note", required_argument, NULL, 'n'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  const char *note = NULL;
  int o;
  optind = 1;
  while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (o) {
    case 'n': note = optarg; break;
    case 'h': usage_contacted(stdout); return SP_EXIT_OK;
    default: usage_contacted(stderr); return SP_EXIT_USAGE;
    }
  }
  if (optind + 1 != argc || !note || !*note || strlen(note) > 500) {
    usage_contacted(stderr);
    return SP_EXIT_USAGE;
  }
  sp_db *db = sp_cli_open_db("simpkictl sla contacted");
  if (!db)
    return SP_EXIT_FAIL;
  contacted_tx t = {argv[optind], note, 0};
  char err[512];
  int rc = sp_db_tx(db, contacted_fn, &t, err, sizeof err);
  sp_db_close(db);
  if (rc != SP_DB_OK) {
    fprintf(stderr, "simpkictl sla contacted: %s\n",
            t.found ? err : "no open connection case by that id");
    return SP_EXIT_FAIL;
  }
  printf("case %s: contact recorded\n", t.case_id);
  return SP_EXIT_OK;
}
