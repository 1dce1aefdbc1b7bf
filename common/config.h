/* config.h - typed configuration from environment variables.
 *
 * Every variable the project reads is named SIMPKI_* and listed in README.md.
 * Getters return 0 on success and -1 with errstr naming the variable when the
 * value is missing (and required) or malformed. */
#ifndef SIMPKI_CONFIG_H
#define SIMPKI_CONFIG_H

#include <stddef.h>

/* Pass as the default to make a variable required. */
#define SP_CONFIG_REQUIRED NULL

/* *out points into the environment (or at def); do not free. */
int sp_config_str(const char *name, const char *def, const char **out,
                  char *errstr, size_t errlen);

/* Integer in [min, max]; decimal only, no trailing garbage. required=1
 * makes a missing variable an error, otherwise def is used. */
int sp_config_long(const char *name, int required, long def, long min,
                   long max, long *out, char *errstr, size_t errlen);

/* true/false, yes/no, on/off, 1/0 (case-insensitive). */
int sp_config_bool(const char *name, int def, int *out, char *errstr,
                   size_t errlen);

#endif
