/* cmds.h - the command groups of simpkictl. Each takes argv[0] = the group
 * name and returns the process exit code: 0 ok, 1 failed, 2 usage. */
#ifndef SIMPKICTL_CMDS_H
#define SIMPKICTL_CMDS_H

#define SP_EXIT_OK 0
#define SP_EXIT_FAIL 1
#define SP_EXIT_USAGE 2

int sp_cmd_db(int argc, char **argv);
int sp_cmd_events(int argc, char **argv);
/* watch: a live view of the topics (cmd_watch.c). */
int sp_cmd_watch(int argc, char **argv);
/* sig exits 0 passed, 1 failed, 2 indeterminate, 64 usage (cmd_sig.c). */
int sp_cmd_sig(int argc, char **argv);
int sp_cmd_order(int argc, char **argv);
int sp_cmd_vendor(int argc, char **argv);
/* vendor input|ingest|simulate (cmd_vendor_files.c). */
int sp_cmd_vendor_files(int argc, char **argv);
int sp_is_vendor_files_command(const char *sub);
int sp_cmd_registration(int argc, char **argv);
int sp_cmd_kek(int argc, char **argv);
int sp_cmd_numbering(int argc, char **argv);
int sp_cmd_batch(int argc, char **argv);
int sp_cmd_org(int argc, char **argv);
int sp_cmd_user(int argc, char **argv);
int sp_cmd_tariffs(int argc, char **argv);
int sp_cmd_numbers(int argc, char **argv);
int sp_cmd_report(int argc, char **argv);
int sp_cmd_account(int argc, char **argv);
/* sla list / contacted (cmd_sla_cases.c). */
int sp_cmd_sla_list(int argc, char **argv);
int sp_cmd_sla_contacted(int argc, char **argv);
int sp_cmd_sla(int argc, char **argv);
/* audit replay: exits 0 clean, 1 findings, 2 usage, 3 topics unreadable
 * (cmd_audit.c). */
int sp_cmd_audit(int argc, char **argv);

/* True for "--help" / "-h". */
int sp_is_help(const char *arg);

#endif
