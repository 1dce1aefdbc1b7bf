/* jschema_check - common/jschema's verdicts on events, for
 * test_jschema_agree.sh to compare with Python's jsonschema.
 *
 *   jschema_check SCHEMA_DIR [FILE]
 *
 * Loads every schema under SCHEMA_DIR, reads FILE (default stdin) as one
 * JSON event per line and prints one line per non-blank input line:
 * "valid", or "invalid: REASON" (not JSON, no string "type", no schema for
 * the type, or the validator's reason). Validates against the schema named
 * by the event's "type".
 *
 * Exit 0 when every line got a verdict, 2 on usage or schema load errors. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jschema.h"

/* One line's verdict on out. */
static void verdict(const sp_jschema_set *set, const char *line, size_t len,
                    FILE *out) {
  char err[1024];
  json_error_t je;
  json_t *ev = json_loadb(line, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
  if (!ev) {
    fprintf(out, "invalid: not JSON: %s\n", je.text);
    return;
  }
  const json_t *type = json_object_get(ev, "type");
  if (!json_is_string(type)) {
    fprintf(out, "invalid: no string \"type\"\n");
  } else {
    int rc = sp_jschema_validate(set, json_string_value(type), ev, err,
                                 sizeof err);
    if (rc == 0)
      fprintf(out, "valid\n");
    else
      fprintf(out, "invalid: %s\n", err); /* 1, or -1: no such schema */
  }
  json_decref(ev);
}

static int blank(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!strchr(" \t\r\n", s[i]))
      return 0;
  return 1;
}

int main(int argc, char **argv) {
  char err[1024];
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: jschema_check SCHEMA_DIR [FILE]\n");
    return 2;
  }
  FILE *in = argc == 3 ? fopen(argv[2], "r") : stdin;
  if (!in) {
    perror(argv[2]);
    return 2;
  }
  sp_jschema_set *set = sp_jschema_load_dir(argv[1], err, sizeof err);
  if (!set) {
    fprintf(stderr, "jschema_check: %s\n", err);
    return 2;
  }
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  while ((n = getline(&line, &cap, in)) >= 0)
    if (!blank(line, (size_t)n))
      verdict(set, line, (size_t)n, stdout);
  free(line);
  sp_jschema_free(set);
  if (in != stdin)
    fclose(in);
  return 0;
}
