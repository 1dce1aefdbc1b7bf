/* service.h - what every service's main() does first.
 *
 * Answers --help, starts logging under the service's name, installs the
 * SIGTERM handler and reads the settings all services share, so a main.c
 * only wires its own parts together. */
#ifndef SIMPKI_SERVICE_H
#define SIMPKI_SERVICE_H

#include <stdio.h>

typedef struct sp_service_env {
  const char *db_url;    /* SIMPKI_DB_URL (required) */
  const char *bootstrap; /* SIMPKI_KAFKA_BOOTSTRAP (required) */
  const char *http_addr; /* SIMPKI_HTTP_ADDR, default 127.0.0.1 */
  long http_port;        /* SIMPKI_HTTP_PORT, default per service; 0 = any */
  long db_wait_ms;       /* SIMPKI_DB_CONNECT_WAIT_MS, default 30000 */
} sp_service_env;

/* Returns 0 to go on, or -1 with the process exit status in *exit_code:
 * 0 after --help (usage on stdout), 2 on any other argument (usage on
 * stderr) or a missing or malformed setting (logged, naming it). */
int sp_service_init(const char *name, int argc, char **argv,
                    void (*usage)(FILE *), long default_http_port,
                    sp_service_env *env, int *exit_code);

#endif
