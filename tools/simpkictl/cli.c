/* cli.c - helpers shared by simpkictl's commands. */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

sp_db *sp_cli_open_db(const char *prog) {
  char err[512];
  const char *url;
  long wait_ms;
  if (sp_config_str("SIMPKI_DB_URL", SP_CONFIG_REQUIRED, &url, err,
                    sizeof err) ||
      sp_config_long("SIMPKI_DB_CONNECT_WAIT_MS", 0, 30000, 0, 86400000,
                     &wait_ms, err, sizeof err)) {
    fprintf(stderr, "%s: %s\n", prog, err);
    return NULL;
  }
  sp_db *db = sp_db_open(url, wait_ms, err, sizeof err);
  if (!db)
    fprintf(stderr, "%s: %s\n", prog, err);
  return db;
}

char *sp_cli_read_file(const char *path, size_t max_bytes, size_t *len,
                       char *errstr, size_t errlen) {
  FILE *fp = fopen(path, "rb");
  if (!fp) {
    snprintf(errstr, errlen, "cannot open %s: %s", path, strerror(errno));
    return NULL;
  }
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap + 1);
  for (;;) {
    if (n == cap) {
      if (cap >= max_bytes) {
        snprintf(errstr, errlen, "%s is larger than %zu bytes", path,
                 max_bytes);
        free(buf);
        fclose(fp);
        return NULL;
      }
      cap = cap * 2 > max_bytes ? max_bytes : cap * 2;
      buf = realloc(buf, cap + 1);
    }
    size_t got = fread(buf + n, 1, cap - n, fp);
    n += got;
    if (got == 0)
      break;
  }
  int bad = ferror(fp);
  fclose(fp);
  if (bad) {
    snprintf(errstr, errlen, "cannot read %s", path);
    free(buf);
    return NULL;
  }
  buf[n] = '\0';
  *len = n;
  return buf;
}

const char *sp_cli_actor(void) {
  const char *v = getenv("SIMPKI_OPERATOR");
  if (v && *v)
    return v;
  v = getenv("USER");
  return v && *v ? v : "operator";
}

int sp_cli_long(const char *text, long min, long max, long *out) {
  /* strtol would take " 5" and "+5": a value is the digits alone. */
  if (!((text[0] >= '0' && text[0] <= '9') || text[0] == '-'))
    return -1;
  char *end;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (end == text || *end || errno == ERANGE || v < min || v > max)
    return -1;
  *out = v;
  return 0;
}
