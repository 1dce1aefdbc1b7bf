/* http.h - the small HTTP server every service runs (libmicrohttpd).
 *
 * /healthz and /metrics are built in; a service adds its own routes.
 * Request bodies are buffered up to a limit (413 beyond it). */
#ifndef SIMPKI_HTTP_H
#define SIMPKI_HTTP_H

#include <stddef.h>

typedef struct sp_http_server sp_http_server;

typedef struct sp_http_request {
  const char *method;
  const char *path;
  const char *body; /* NUL-terminated; NULL when empty */
  size_t body_len;
  void *conn;       /* internal: used by sp_http_header / sp_http_query */
} sp_http_request;

/* A streamed body (server-sent events and the like), produced while the
 * client reads: called on the connection's own thread (one per connection,
 * so it may block, e.g. on a condition variable with a timeout) to put up
 * to max bytes into buf. Returns the bytes put there (0: none yet, it is
 * called again at once, so block a while before returning 0), or -1 to end
 * the response. */
typedef long (*sp_http_stream_fn)(void *opaque, char *buf, size_t max);

typedef struct sp_http_response {
  int status;               /* default 200 */
  const char *content_type; /* default "application/json" */
  char *body;               /* malloc'd; the server frees it */
  size_t body_len;
  /* Streaming: when stream is set (and body is NULL), the body is what
   * stream produces, without a Content-Length, with "Cache-Control:
   * no-cache"; stream_free(stream_opaque), when set, runs once the
   * response has ended or the client has gone, and also when the response
   * could not be queued. */
  sp_http_stream_fn stream;
  void (*stream_free)(void *opaque);
  void *stream_opaque;
} sp_http_response;

typedef void (*sp_http_handler)(const sp_http_request *req,
                                sp_http_response *resp, void *opaque);

typedef struct sp_http_route {
  const char *method; /* "GET", "POST", ... */
  const char *path;   /* exact path, or a prefix ending in '*' */
  sp_http_handler handler;
  void *opaque;
} sp_http_route;

/* Health: return 1 when healthy; write a short JSON-safe detail. */
typedef int (*sp_http_health_fn)(void *opaque, char *detail, size_t len);

typedef struct sp_http_conf {
  const char *bind_addr;       /* default "127.0.0.1" */
  int port;                    /* 0 = any free port */
  const sp_http_route *routes; /* may be NULL */
  size_t nroutes;
  sp_http_health_fn health;    /* NULL = always healthy */
  void *health_opaque;
  size_t max_body;             /* default 1 MiB */
} sp_http_conf;

sp_http_server *sp_http_start(const sp_http_conf *conf, char *errstr,
                              size_t errlen);
int sp_http_port(const sp_http_server *srv);
void sp_http_stop(sp_http_server *srv);

const char *sp_http_header(const sp_http_request *req, const char *name);
const char *sp_http_query(const sp_http_request *req, const char *name);
/* Set a JSON body (body is stolen and serialized) with the given status. */
struct json_t;
void sp_http_json(sp_http_response *resp, int status, struct json_t *body);
/* Set a streamed body (see sp_http_response): content type, the producer,
 * and what frees its opaque (may be NULL). */
void sp_http_stream(sp_http_response *resp, const char *content_type,
                    sp_http_stream_fn fn, void *opaque,
                    void (*free_fn)(void *opaque));
/* Convenience: set a JSON body {"error": msg} with the given status. */
void sp_http_error(sp_http_response *resp, int status, const char *msg);

#endif
