/* log.c - one JSON object per line, built with jansson so every value is
 * escaped properly whatever it holds. */
#include "log.h"

#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "event.h"

static char log_service[64] = "simpki";
static sp_log_level log_level = SP_LOG_INFO;
static FILE *log_stream;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *level_names[] = {"debug", "info", "warn", "error"};

int sp_log_parse_level(const char *s, sp_log_level *out) {
  for (int i = 0; i < 4; i++) {
    if (!strcasecmp(s, level_names[i])) {
      *out = (sp_log_level)i;
      return 0;
    }
  }
  return -1;
}

int sp_log_init(const char *service, char *errstr, size_t errlen) {
  snprintf(log_service, sizeof log_service, "%s", service);
  const char *v = getenv("SIMPKI_LOG_LEVEL");
  if (v && *v && sp_log_parse_level(v, &log_level) != 0) {
    snprintf(errstr, errlen,
             "SIMPKI_LOG_LEVEL must be debug, info, warn or error, not "
             "\"%.20s\"",
             v);
    return -1;
  }
  return 0;
}

void sp_log_set_level(sp_log_level level) { log_level = level; }
sp_log_level sp_log_get_level(void) { return log_level; }
void sp_log_set_stream(FILE *fp) { log_stream = fp; }

void sp_log(sp_log_level level, const char *msg, ...) {
  if (level < log_level)
    return;
  char now[40];
  sp_time_rfc3339(now);
  json_t *o = json_object();
  json_object_set_new(o, "time", json_string(now));
  json_object_set_new(o, "level", json_string(level_names[level]));
  json_object_set_new(o, "service", json_string(log_service));
  json_object_set_new(o, "msg", json_string(msg ? msg : ""));
  va_list ap;
  va_start(ap, msg);
  const char *key;
  while ((key = va_arg(ap, const char *)) != NULL) {
    const char *val = va_arg(ap, const char *);
    /* json_string refuses invalid UTF-8; keep the line rather than lose it. */
    json_t *s = val ? json_string(val) : json_null();
    json_object_set_new(o, key, s ? s : json_string("(invalid utf-8)"));
  }
  va_end(ap);
  char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref(o);
  if (!line)
    return;
  pthread_mutex_lock(&log_lock);
  FILE *fp = log_stream ? log_stream : stderr;
  fputs(line, fp);
  fputc('\n', fp);
  fflush(fp);
  pthread_mutex_unlock(&log_lock);
  free(line);
}
