/* service.c - the common start of a service. */
#include "service.h"

#include <string.h>

#include "config.h"
#include "log.h"
#include "shutdown.h"

int sp_service_init(const char *name, int argc, char **argv,
                    void (*usage)(FILE *), long default_http_port,
                    sp_service_env *env, int *exit_code) {
  if (argc > 1) {
    int help = !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h");
    usage(help ? stdout : stderr);
    *exit_code = help ? 0 : 2;
    return -1;
  }
  char err[512];
  if (sp_log_init(name, err, sizeof err)) {
    fprintf(stderr, "%s: %s\n", name, err);
    *exit_code = 2;
    return -1;
  }
  sp_shutdown_install();
  memset(env, 0, sizeof *env);
  if (sp_config_str("SIMPKI_DB_URL", SP_CONFIG_REQUIRED, &env->db_url, err,
                    sizeof err) ||
      sp_config_str("SIMPKI_KAFKA_BOOTSTRAP", SP_CONFIG_REQUIRED,
                    &env->bootstrap, err, sizeof err) ||
      sp_config_str("SIMPKI_HTTP_ADDR", "127.0.0.1", &env->http_addr, err,
                    sizeof err) ||
      sp_config_long("SIMPKI_HTTP_PORT", 0, default_http_port, 0, 65535,
                     &env->http_port, err, sizeof err) ||
      sp_config_long("SIMPKI_DB_CONNECT_WAIT_MS", 0, 30000, 0, 86400000,
                     &env->db_wait_ms, err, sizeof err)) {
    sp_error("cannot start", "error", err);
    *exit_code = 2;
    return -1;
  }
  return 0;
}
