/* log.h - structured logging: one JSON object per line on stderr.
 *
 *   {"time":"2026-11-25T17:30:00.123Z","level":"info","service":"relay",
 *    "msg":"published","batch_id":"B-1","count":"500"}
 *
 * Fields are key/value string pairs ended by NULL. The level comes from
 * SIMPKI_LOG_LEVEL (debug, info, warn, error; default info). Never pass a
 * secret (Ki, OPc, transport key, password, OTP) as a field or message. */
#ifndef SIMPKI_LOG_H
#define SIMPKI_LOG_H

#include <stddef.h>
#include <stdio.h>

typedef enum {
  SP_LOG_DEBUG = 0,
  SP_LOG_INFO = 1,
  SP_LOG_WARN = 2,
  SP_LOG_ERROR = 3
} sp_log_level;

/* Reads SIMPKI_LOG_LEVEL; returns -1 with errstr on a bad level. */
int sp_log_init(const char *service, char *errstr, size_t errlen);
int sp_log_parse_level(const char *s, sp_log_level *out);
void sp_log_set_level(sp_log_level level);
sp_log_level sp_log_get_level(void);
/* Tests redirect output; NULL restores stderr. */
void sp_log_set_stream(FILE *fp);

/* Fields: const char *key, const char *value, ..., NULL. */
void sp_log(sp_log_level level, const char *msg, ...);

#define sp_debug(...) sp_log(SP_LOG_DEBUG, __VA_ARGS__, (const char *)NULL)
#define sp_info(...) sp_log(SP_LOG_INFO, __VA_ARGS__, (const char *)NULL)
#define sp_warn(...) sp_log(SP_LOG_WARN, __VA_ARGS__, (const char *)NULL)
#define sp_error(...) sp_log(SP_LOG_ERROR, __VA_ARGS__, (const char *)NULL)

#endif
