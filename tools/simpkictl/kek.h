/* kek.h - the subcommands of `simpkictl kek` (cmd_kek.c, kek_rotate.c).
 * Each takes argv[0] = the subcommand name and returns the exit code. */
#ifndef SIMPKICTL_KEK_H
#define SIMPKICTL_KEK_H

int sp_kek_new(int argc, char **argv);
int sp_kek_rotate(int argc, char **argv);
int sp_kek_status(int argc, char **argv);

#endif
