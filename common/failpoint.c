/* failpoint.c - see failpoint.h. */
#include "failpoint.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

void sp_failpoint(const char *name) {
  const char *want = getenv("SIMPKI_FAILPOINT");
  if (!want || strcmp(want, name) != 0)
    return;
  sp_warn("failpoint reached: exiting as if killed", "failpoint", name);
  _exit(137);
}
