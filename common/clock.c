/* clock.c - see clock.h. */
#include "clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "log.h"

int sp_clock_is_fake(void) {
  const char *f = getenv("SIMPKI_CLOCK_FILE");
  return f && *f;
}

time_t sp_clock_now(void) {
  static int warned;
  const char *path = getenv("SIMPKI_CLOCK_FILE");
  if (!path || !*path)
    return time(NULL);
  char buf[64] = "", err[160];
  FILE *fp = fopen(path, "r");
  if (fp) {
    if (!fgets(buf, sizeof buf, fp))
      buf[0] = '\0';
    fclose(fp);
  }
  buf[strcspn(buf, "\r\n")] = '\0';
  time_t t;
  if (buf[0] && sp_cal_parse_time(buf, &t, err, sizeof err) == 0)
    return t;
  if (!warned++)
    sp_warn("SIMPKI_CLOCK_FILE unreadable; using the real clock", "file",
            path);
  return time(NULL);
}
