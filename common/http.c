/* http.c - the service HTTP server on libmicrohttpd.
 *
 * Threading: one thread per connection (MHD_USE_THREAD_PER_CONNECTION),
 * capped by a connection limit. Service handlers do blocking work (a
 * PostgreSQL query, a Kafka flush) and traffic is light (probes, scrapes,
 * operator calls), so a slow handler must not stall /healthz behind it as it
 * would on a small thread pool where connections share a thread. */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "log.h"
#include "metrics.h"

#define HTTP_DEFAULT_MAX_BODY ((size_t)1 << 20)
#define HTTP_CONN_LIMIT 64
#define HTTP_CONN_TIMEOUT_S 30

typedef struct {
  char *method;
  char *path;
  size_t plen;   /* for a prefix route, the length before the '*' */
  int prefix;
  sp_http_handler handler;
  void *opaque;
} route;

struct sp_http_server {
  struct MHD_Daemon *daemon;
  route *routes; /* built-ins first, then the service's */
  size_t nroutes;
  size_t max_body;
  sp_http_health_fn health;
  void *health_opaque;
  uint16_t port;
  pthread_mutex_t errlock; /* MHD logs from its own threads */
  char lasterr[256];
};

/* Per request: the buffered body and when it started. */
typedef struct {
  struct timespec t0;
  char *buf;
  size_t len, cap;
  int too_big;
} req_ctx;

static void set_err(char *errstr, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *errstr, size_t errlen, const char *fmt, ...) {
  if (!errstr || !errlen)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(errstr, errlen, fmt, ap);
  va_end(ap);
}

/* MHD's error log: keep the last line (sp_http_start reports it when the
 * daemon fails to start) and pass it on as a structured log line. */
static void mhd_logger(void *cls, const char *fm, va_list ap) {
  struct sp_http_server *srv = cls;
  char line[256];
  vsnprintf(line, sizeof line, fm, ap);
  size_t n = strlen(line);
  while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
    line[--n] = '\0';
  pthread_mutex_lock(&srv->errlock);
  memcpy(srv->lasterr, line, n + 1);
  pthread_mutex_unlock(&srv->errlock);
  sp_warn("microhttpd", "detail", line);
}

void sp_http_error(sp_http_response *resp, int status, const char *msg) {
  if (!resp)
    return;
  free(resp->body);
  resp->body = NULL;
  resp->body_len = 0;
  resp->status = status;
  resp->content_type = "application/json";
  json_t *s = json_string(msg ? msg : "error");
  if (!s) /* not UTF-8: say something rather than send an empty body */
    s = json_string("(error message is not valid UTF-8)");
  json_t *o = json_object();
  json_object_set_new(o, "error", s);
  resp->body = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  if (resp->body)
    resp->body_len = strlen(resp->body);
}

void sp_http_json(sp_http_response *resp, int status, json_t *body) {
  resp->status = status;
  resp->content_type = "application/json";
  free(resp->body);
  resp->body = body ? json_dumps(body, JSON_COMPACT) : NULL;
  resp->body_len = resp->body ? strlen(resp->body) : 0;
  json_decref(body);
  if (!resp->body)
    sp_http_error(resp, 500, "out of memory");
}

void sp_http_stream(sp_http_response *resp, const char *content_type,
                    sp_http_stream_fn fn, void *opaque,
                    void (*free_fn)(void *opaque)) {
  free(resp->body);
  resp->body = NULL;
  resp->body_len = 0;
  resp->content_type = content_type;
  resp->stream = fn;
  resp->stream_opaque = opaque;
  resp->stream_free = free_fn;
}

const char *sp_http_header(const sp_http_request *req, const char *name) {
  if (!req || !req->conn || !name)
    return NULL;
  return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *sp_http_query(const sp_http_request *req, const char *name) {
  if (!req || !req->conn || !name)
    return NULL;
  return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

/* ---- built-in routes ---- */

static void healthz(const sp_http_request *req, sp_http_response *resp,
                    void *opaque) {
  (void)req;
  struct sp_http_server *srv = opaque;
  char detail[256] = "";
  int ok = 1;
  if (srv->health) {
    ok = srv->health(srv->health_opaque, detail, sizeof detail) == 1;
    detail[sizeof detail - 1] = '\0';
  }
  json_t *d = json_string(detail);
  if (!d)
    d = json_string("(detail is not valid UTF-8)");
  json_t *o = json_object();
  json_object_set_new(o, "status", json_string(ok ? "ok" : "unhealthy"));
  json_object_set_new(o, "detail", d);
  resp->status = ok ? 200 : 503;
  resp->body = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref(o);
  if (!resp->body)
    sp_http_error(resp, 500, "out of memory");
}

static void metrics(const sp_http_request *req, sp_http_response *resp,
                    void *opaque) {
  (void)req;
  (void)opaque;
  size_t len = 0;
  resp->body = sp_metrics_render(&len);
  if (!resp->body) {
    sp_http_error(resp, 500, "out of memory");
    return;
  }
  resp->body_len = len;
  resp->content_type = "text/plain; version=0.0.4";
}

/* ---- request handling ---- */

static void count_request(const req_ctx *ctx, int status) {
  char labels[32];
  snprintf(labels, sizeof labels, "code=\"%d\"", status);
  /* Looked up each time: the registry returns the same series, and tests
   * may reset it under a running server. */
  sp_metric_add(sp_metrics_counter("simpki_http_requests_total",
                                   "HTTP requests answered, by status code.",
                                   labels),
                1);
  struct timespec t1;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double secs = (double)(t1.tv_sec - ctx->t0.tv_sec) +
                (double)(t1.tv_nsec - ctx->t0.tv_nsec) / 1e9;
  sp_metric_observe(sp_metrics_histogram("simpki_http_request_seconds",
                                         "Time to answer an HTTP request.",
                                         NULL, NULL, 0),
                    secs);
}

/* A streamed body: the service's producer behind MHD's content reader. */
typedef struct {
  sp_http_stream_fn fn;
  void (*free_fn)(void *);
  void *opaque;
} stream_ctx;

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max) {
  (void)pos;
  stream_ctx *s = cls;
  long n = s->fn(s->opaque, buf, max);
  if (n < 0)
    return MHD_CONTENT_READER_END_OF_STREAM;
  return (ssize_t)((size_t)n > max ? max : (size_t)n);
}

static void stream_done(void *cls) {
  stream_ctx *s = cls;
  if (s->free_fn)
    s->free_fn(s->opaque);
  free(s);
}

static struct MHD_Response *stream_response(sp_http_response *r) {
  stream_ctx *s = malloc(sizeof *s);
  struct MHD_Response *mr = NULL;
  if (s) {
    *s = (stream_ctx){r->stream, r->stream_free, r->stream_opaque};
    mr = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024,
                                           stream_read, s, stream_done);
    if (!mr)
      free(s);
  }
  if (!mr && r->stream_free)
    r->stream_free(r->stream_opaque);
  r->stream = NULL; /* the response (or nobody) owns it now */
  r->stream_free = NULL;
  r->stream_opaque = NULL;
  if (mr)
    MHD_add_response_header(mr, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
  return mr;
}

/* Queue resp (taking its body) on the connection. */
static enum MHD_Result send_response(struct MHD_Connection *conn,
                                     const req_ctx *ctx, sp_http_response *r,
                                     const char *allow) {
  int status = r->status ? r->status : 200;
  if (status < 100 || status > 599) {
    sp_warn("http handler set an invalid status; answering 500");
    sp_http_error(r, 500, "internal error");
    status = 500;
  }
  size_t len = r->body ? (r->body_len ? r->body_len : strlen(r->body)) : 0;
  struct MHD_Response *mr =
      r->body ? MHD_create_response_from_buffer_with_free_callback(
                    len, r->body, free)
      : r->stream ? stream_response(r)
                  : MHD_create_response_from_buffer(0, NULL,
                                                    MHD_RESPMEM_PERSISTENT);
  if (r->body && r->stream) { /* a body wins: the producer is not used */
    if (r->stream_free)
      r->stream_free(r->stream_opaque);
    r->stream = NULL;
    r->stream_free = NULL;
  }
  if (!mr) {
    free(r->body);
    r->body = NULL;
    return MHD_NO;
  }
  r->body = NULL; /* MHD owns it now */
  MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE,
                          r->content_type ? r->content_type
                                          : "application/json");
  if (allow)
    MHD_add_response_header(mr, MHD_HTTP_HEADER_ALLOW, allow);
  enum MHD_Result ret = MHD_queue_response(conn, (unsigned)status, mr);
  MHD_destroy_response(mr);
  count_request(ctx, status);
  return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *conn,
                                  const req_ctx *ctx, int status,
                                  const char *msg, const char *allow) {
  sp_http_response r = {0};
  sp_http_error(&r, status, msg);
  return send_response(conn, ctx, &r, allow);
}

static int path_matches(const route *rt, const char *path) {
  if (rt->prefix)
    return strncmp(path, rt->path, rt->plen) == 0;
  return strcmp(path, rt->path) == 0;
}

static enum MHD_Result dispatch(struct sp_http_server *srv,
                                struct MHD_Connection *conn, req_ctx *ctx,
                                const char *method, const char *path) {
  const route *hit = NULL;
  char allow[128] = "";
  for (size_t i = 0; i < srv->nroutes; i++) {
    const route *rt = &srv->routes[i];
    if (!path_matches(rt, path))
      continue;
    if (strcmp(rt->method, method) == 0) {
      hit = rt;
      break;
    }
    if (!strstr(allow, rt->method)) {
      size_t n = strlen(allow);
      snprintf(allow + n, sizeof allow - n, "%s%s", n ? ", " : "",
               rt->method);
    }
  }
  if (!hit) {
    if (*allow)
      return send_error(conn, ctx, 405, "method not allowed", allow);
    return send_error(conn, ctx, 404, "not found", NULL);
  }

  sp_http_request req = {
      .method = method,
      .path = path,
      .body = ctx->len ? ctx->buf : NULL,
      .body_len = ctx->len,
      .conn = conn,
  };
  sp_http_response resp = {.status = 200, .content_type = "application/json"};
  hit->handler(&req, &resp, hit->opaque);
  return send_response(conn, ctx, &resp, NULL);
}

static int body_append(req_ctx *ctx, const char *data, size_t n,
                       size_t max) {
  if (ctx->too_big || n > max - ctx->len) {
    ctx->too_big = 1; /* keep reading, drop the bytes, answer 413 */
    return 0;
  }
  if (ctx->len + n + 1 > ctx->cap) {
    size_t ncap = ctx->cap ? ctx->cap : 1024;
    while (ncap < ctx->len + n + 1)
      ncap *= 2;
    if (ncap > max + 1)
      ncap = max + 1;
    char *nb = realloc(ctx->buf, ncap);
    if (!nb)
      return -1;
    ctx->buf = nb;
    ctx->cap = ncap;
  }
  memcpy(ctx->buf + ctx->len, data, n);
  ctx->len += n;
  ctx->buf[ctx->len] = '\0';
  return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls) {
  (void)version;
  struct sp_http_server *srv = cls;
  req_ctx *ctx = *con_cls;

  if (!ctx) { /* headers are in, the body (if any) is not */
    ctx = calloc(1, sizeof *ctx);
    if (!ctx)
      return MHD_NO;
    clock_gettime(CLOCK_MONOTONIC, &ctx->t0);
    *con_cls = ctx;
    /* Refuse a declared oversized body before the client sends it. */
    const char *cl =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    if (cl) {
      errno = 0;
      char *end;
      unsigned long long v = strtoull(cl, &end, 10);
      if (errno == 0 && end != cl && v > srv->max_body) {
        ctx->too_big = 1;
        return send_error(conn, ctx, 413, "request body too large", NULL);
      }
    }
    return MHD_YES;
  }

  if (*upload_size) {
    size_t n = *upload_size;
    *upload_size = 0;
    if (body_append(ctx, upload, n, srv->max_body) != 0)
      return MHD_NO;
    return MHD_YES;
  }

  if (ctx->too_big)
    return send_error(conn, ctx, 413, "request body too large", NULL);
  return dispatch(srv, conn, ctx, method, url);
}

static void on_completed(void *cls, struct MHD_Connection *conn,
                         void **con_cls, enum MHD_RequestTerminationCode toe) {
  (void)cls;
  (void)conn;
  (void)toe;
  req_ctx *ctx = *con_cls;
  if (ctx) {
    free(ctx->buf);
    free(ctx);
    *con_cls = NULL;
  }
}

/* ---- lifecycle ---- */

static void routes_free(route *r, size_t n) {
  if (!r)
    return;
  for (size_t i = 0; i < n; i++) {
    free(r[i].method);
    free(r[i].path);
  }
  free(r);
}

static int route_set(route *dst, const char *method, const char *path,
                     sp_http_handler h, void *opaque) {
  dst->method = strdup(method);
  dst->path = strdup(path);
  if (!dst->method || !dst->path)
    return -1;
  size_t n = strlen(path);
  dst->prefix = n > 0 && path[n - 1] == '*';
  dst->plen = dst->prefix ? n - 1 : n;
  dst->handler = h;
  dst->opaque = opaque;
  return 0;
}

void sp_http_stop(sp_http_server *srv) {
  if (!srv)
    return;
  if (srv->daemon)
    MHD_stop_daemon(srv->daemon);
  routes_free(srv->routes, srv->nroutes);
  pthread_mutex_destroy(&srv->errlock);
  free(srv);
}

sp_http_server *sp_http_start(const sp_http_conf *conf, char *errstr,
                              size_t errlen) {
  if (!conf) {
    set_err(errstr, errlen, "http: no configuration");
    return NULL;
  }
  const char *addr = conf->bind_addr && *conf->bind_addr ? conf->bind_addr
                                                         : "127.0.0.1";
  if (conf->port < 0 || conf->port > 65535) {
    set_err(errstr, errlen, "http: port %d is out of range 0..65535",
            conf->port);
    return NULL;
  }
  struct sockaddr_in sin = {0};
  sin.sin_family = AF_INET;
  sin.sin_port = htons((uint16_t)conf->port);
  if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
    set_err(errstr, errlen, "http: bind address \"%.64s\" is not an IPv4 "
            "address", addr);
    return NULL;
  }
  if (conf->nroutes && !conf->routes) {
    set_err(errstr, errlen, "http: nroutes is %zu but routes is NULL",
            conf->nroutes);
    return NULL;
  }
  for (size_t i = 0; i < conf->nroutes; i++) {
    const sp_http_route *r = &conf->routes[i];
    if (!r->method || !*r->method || !r->path || r->path[0] != '/' ||
        !r->handler) {
      set_err(errstr, errlen,
              "http: route %zu needs a method, a path starting with '/' "
              "and a handler", i);
      return NULL;
    }
  }

  struct sp_http_server *srv = calloc(1, sizeof *srv);
  if (!srv) {
    set_err(errstr, errlen, "http: out of memory");
    return NULL;
  }
  pthread_mutex_init(&srv->errlock, NULL);
  srv->max_body = conf->max_body ? conf->max_body : HTTP_DEFAULT_MAX_BODY;
  srv->health = conf->health;
  srv->health_opaque = conf->health_opaque;
  srv->routes = calloc(conf->nroutes + 2, sizeof *srv->routes);
  if (!srv->routes)
    goto oom;
  /* Built-ins are ordinary routes checked first, so 405 works for them. */
  if (route_set(&srv->routes[srv->nroutes++], "GET", "/healthz", healthz,
                srv) != 0 ||
      route_set(&srv->routes[srv->nroutes++], "GET", "/metrics", metrics,
                NULL) != 0)
    goto oom;
  for (size_t i = 0; i < conf->nroutes; i++) {
    const sp_http_route *r = &conf->routes[i];
    if (route_set(&srv->routes[srv->nroutes++], r->method, r->path,
                  r->handler, r->opaque) != 0)
      goto oom;
  }

  srv->daemon = MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
          MHD_USE_AUTO | MHD_USE_ERROR_LOG,
      (uint16_t)conf->port, NULL, NULL, on_request, srv,
      MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, srv,
      MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&sin,
      MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
      MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTP_CONN_LIMIT,
      MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTP_CONN_TIMEOUT_S,
      MHD_OPTION_END);
  if (!srv->daemon) {
    pthread_mutex_lock(&srv->errlock);
    set_err(errstr, errlen, "http: cannot listen on %s:%d: %s", addr,
            conf->port, *srv->lasterr ? srv->lasterr : "daemon did not start");
    pthread_mutex_unlock(&srv->errlock);
    sp_http_stop(srv);
    return NULL;
  }
  const union MHD_DaemonInfo *di =
      MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
  srv->port = di ? di->port : (uint16_t)conf->port;
  return srv;

oom:
  set_err(errstr, errlen, "http: out of memory");
  sp_http_stop(srv);
  return NULL;
}

int sp_http_port(const sp_http_server *srv) { return srv ? srv->port : -1; }
