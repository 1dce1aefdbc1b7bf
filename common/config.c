/* config.c - typed getters over environment variables. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

/* An empty variable counts as unset: "export X=" is how people clear one. */
static const char *env_value(const char *name) {
  const char *v = getenv(name);
  return (v && *v) ? v : NULL;
}

int sp_config_str(const char *name, const char *def, const char **out,
                  char *errstr, size_t errlen) {
  const char *v = env_value(name);
  if (!v && !def) {
    snprintf(errstr, errlen, "%s is not set (required)", name);
    return -1;
  }
  *out = v ? v : def;
  return 0;
}

int sp_config_long(const char *name, int required, long def, long min,
                   long max, long *out, char *errstr, size_t errlen) {
  const char *v = env_value(name);
  if (!v) {
    if (required) {
      snprintf(errstr, errlen, "%s is not set (required)", name);
      return -1;
    }
    *out = def;
    return 0;
  }
  char *end;
  errno = 0;
  long n = strtol(v, &end, 10);
  if (errno || end == v || *end != '\0') {
    snprintf(errstr, errlen, "%s must be a whole number, not \"%.40s\"",
             name, v);
    return -1;
  }
  if (n < min || n > max) {
    snprintf(errstr, errlen, "%s must be between %ld and %ld, not %ld", name,
             min, max, n);
    return -1;
  }
  *out = n;
  return 0;
}

int sp_config_bool(const char *name, int def, int *out, char *errstr,
                   size_t errlen) {
  static const char *yes[] = {"1", "true", "yes", "on"};
  static const char *no[] = {"0", "false", "no", "off"};
  const char *v = env_value(name);
  if (!v) {
    *out = def;
    return 0;
  }
  for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
    if (!strcasecmp(v, yes[i])) {
      *out = 1;
      return 0;
    }
    if (!strcasecmp(v, no[i])) {
      *out = 0;
      return 0;
    }
  }
  snprintf(errstr, errlen, "%s must be true or false, not \"%.40s\"", name, v);
  return -1;
}
