/* main.c - simpkictl: the operator's command-line tool. Only dispatches;
 * each command group lives in its own cmd_*.c. */
#include <stdio.h>
#include <string.h>

#include "cmds.h"
#include "log.h"

static const struct {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
} commands[] = {
    {"db", sp_cmd_db, "database schema: migrate, status"},
    {"events", sp_cmd_events, "read event topics: dump"},
    {"watch", sp_cmd_watch, "the pipeline live: steps, SIMs, last events"},
    {"sig", sp_cmd_sig, "signed documents: verify"},
    {"order", sp_cmd_order, "BCYCP orders (B1): submit, show"},
    {"vendor", sp_cmd_vendor, "SIM vendors and pilots (B2): add, pilot-pass..."},
    {"registration", sp_cmd_registration,
     "Cục CTS notices (A4): import"},
    {"kek", sp_cmd_kek, "key-encryption keys of SIM keys: new, rotate, status"},
    {"numbering", sp_cmd_numbering,
     "IMSI/ICCID plan and batch ranges (B3): load, show, allocate"},
    {"batch", sp_cmd_batch, "a batch from B3 to B6, HLR loading live: show"},
    {"org", sp_cmd_org, "the CTKVs and their shops: load"},
    {"user", sp_cmd_user, "API users and their tokens: add, renew"},
    {"tariffs", sp_cmd_tariffs, "tariff packages shops sell (B10): load"},
    {"numbers", sp_cmd_numbers, "the pool of free phone numbers (B9): load"},
    {"report", sp_cmd_report, "reconciliation per order, batch, CTKV: reconcile"},
    {"account", sp_cmd_account, "signing accounts (VCSP): unlock"},
    {"sla", sp_cmd_sla, "A5 contact deadlines: deadline"},
    {"audit", sp_cmd_audit, "the topics proved whole, the rules kept: replay"},
};

int sp_is_help(const char *arg) {
  return arg && (!strcmp(arg, "--help") || !strcmp(arg, "-h"));
}

static void usage(FILE *fp) {
  fprintf(fp, "Usage: simpkictl [--help] COMMAND [ARGS...]\n\nCommands:\n");
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
    fprintf(fp, "  %-13s %s\n", commands[i].name, commands[i].summary);
  fprintf(fp, "\nRun 'simpkictl COMMAND --help' for a command's usage.\n");
}

int main(int argc, char **argv) {
  char err[256];
  if (sp_log_init("simpkictl", err, sizeof(err)) != 0) {
    fprintf(stderr, "simpkictl: %s\n", err);
    return SP_EXIT_USAGE;
  }
  if (argc < 2) {
    usage(stderr);
    return SP_EXIT_USAGE;
  }
  if (sp_is_help(argv[1])) {
    usage(stdout);
    return SP_EXIT_OK;
  }
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
    if (!strcmp(argv[1], commands[i].name))
      return commands[i].run(argc - 1, argv + 1);
  fprintf(stderr, "simpkictl: unknown command \"%s\"\n\n", argv[1]);
  usage(stderr);
  return SP_EXIT_USAGE;
}
