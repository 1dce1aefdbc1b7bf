/* cli.h - what several simpkictl commands share. */
#ifndef SIMPKICTL_CLI_H
#define SIMPKICTL_CLI_H

#include <stddef.h>

#include "db.h"

/* Connect to $SIMPKI_DB_URL; prints the reason and returns NULL. */
sp_db *sp_cli_open_db(const char *prog);
/* Read a whole file (max_bytes at most); NULL with errstr. */
char *sp_cli_read_file(const char *path, size_t max_bytes, size_t *len,
                       char *errstr, size_t errlen);
/* Who is acting: $SIMPKI_OPERATOR, else $USER, else "operator". */
const char *sp_cli_actor(void);
/* A whole decimal number between min and max (an option's value): 0 with
 * *out, or -1 (*out untouched) for anything else: "12x", "", " 5", "+5",
 * one past the range of a long. */
int sp_cli_long(const char *text, long min, long max, long *out);

#endif
