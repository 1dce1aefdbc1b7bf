/* http_api.c - the dashboard's routes (http_api.h). */
#include "http_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "access.h"
#include "assets.h"
#include "http_auth.h"
#include "log.h"

#define SSE_KEEPALIVE_MS 15000
#define SSE_MIN_GAP_MS 300 /* at most about three updates a second */

static long long wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long long mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The caller may read the dashboard: 1; else 0 with the answer set. The
 * token comes in the Authorization header or, for EventSource, which
 * cannot set headers, as ?token=. */
static int allowed(ds_api *api, const sp_http_request *req,
                   sp_http_response *resp) {
  const char *token = iv_http_bearer(req);
  if (!token)
    token = sp_http_query(req, "token");
  iv_principal who;
  pthread_mutex_lock(&api->db_lock);
  int ok = iv_http_caller(sp_db_ready(api->db), req, token, resp, &who);
  pthread_mutex_unlock(&api->db_lock);
  return ok && iv_http_allowed(&who, IV_OP_READ_DASHBOARD, NULL, NULL, req,
                               resp);
}

json_t *ds_api_state_json(ds_api *api) {
  ds_shared *sh = api->sh;
  json_t *j = ds_state_json(sh->state, wall_ms());
  if (!j)
    return NULL;
  json_object_set_new(j, "services",
                      ds_services_json(sh->services, sh->nservices));
  json_object_set_new(
      j, "reader",
      json_pack("{s:b, s:s, s:I}", "caught_up", sh->caught_up, "error",
                sh->kafka_error, "version", (json_int_t)sh->version));
  return j;
}

/* ---- the page ---- */

static const ds_asset *asset(const char *name) {
  for (const ds_asset *a = ds_assets; a->name; a++)
    if (!strcmp(a->name, name))
      return a;
  return NULL;
}

static void send_asset(sp_http_response *resp, const char *name) {
  const ds_asset *a = asset(name);
  if (!a) {
    sp_http_error(resp, 404, "not found");
    return;
  }
  const char *dot = strrchr(name, '.');
  resp->content_type = !dot                    ? "application/octet-stream"
                       : !strcmp(dot, ".html") ? "text/html; charset=utf-8"
                       : !strcmp(dot, ".css")  ? "text/css; charset=utf-8"
                       : !strcmp(dot, ".js")
                           ? "application/javascript; charset=utf-8"
                           : "application/octet-stream";
  resp->body = malloc(a->len + 1);
  if (!resp->body) {
    sp_http_error(resp, 500, "out of memory");
    return;
  }
  memcpy(resp->body, a->data, a->len);
  resp->body[a->len] = '\0';
  resp->body_len = a->len;
  resp->status = 200;
}

static void h_index(const sp_http_request *req, sp_http_response *resp,
                    void *opaque) {
  (void)opaque;
  if (strcmp(req->path, "/") && strcmp(req->path, "/index.html")) {
    sp_http_error(resp, 404, "not found");
    return;
  }
  send_asset(resp, "index.html");
}

static void h_static(const sp_http_request *req, sp_http_response *resp,
                     void *opaque) {
  (void)opaque;
  const char *name = req->path + strlen("/static/");
  if (strchr(name, '/') || !strcmp(name, "index.html")) {
    sp_http_error(resp, 404, "not found");
    return;
  }
  send_asset(resp, name);
}

/* ---- the data ---- */

static void h_state(const sp_http_request *req, sp_http_response *resp,
                    void *opaque) {
  ds_api *api = opaque;
  if (!allowed(api, req, resp))
    return;
  pthread_mutex_lock(&api->sh->lock);
  json_t *j = ds_api_state_json(api);
  pthread_mutex_unlock(&api->sh->lock);
  sp_http_json(resp, 200, j);
}

static void h_order(const sp_http_request *req, sp_http_response *resp,
                    void *opaque) {
  ds_api *api = opaque;
  if (!allowed(api, req, resp))
    return;
  const char *id = req->path + strlen("/api/orders/");
  if (!*id || strchr(id, '/')) {
    sp_http_error(resp, 404, "no such order");
    return;
  }
  pthread_mutex_lock(&api->sh->lock);
  json_t *j = ds_state_order_json(api->sh->state, id, wall_ms());
  pthread_mutex_unlock(&api->sh->lock);
  if (!j) {
    sp_http_error(resp, 404, "no such order in the events");
    return;
  }
  sp_http_json(resp, 200, j);
}

/* ---- server-sent events ---- */

typedef struct {
  ds_api *api;
  unsigned long seen;
  int started;
  long long last_ms; /* monotonic, of the last state sent */
  char *pending;
  size_t len, off;
} sse;

static long sse_take(sse *c, char *buf, size_t max) {
  size_t n = c->len - c->off;
  if (n > max)
    n = max;
  memcpy(buf, c->pending + c->off, n);
  c->off += n;
  return (long)n;
}

static void sse_set(sse *c, char *text) {
  free(c->pending);
  c->pending = text;
  c->len = text ? strlen(text) : 0;
  c->off = 0;
}

static long sse_next(void *opaque, char *buf, size_t max) {
  sse *c = opaque;
  if (c->off < c->len)
    return sse_take(c, buf, max);
  ds_shared *sh = c->api->sh;
  if (!c->started) {
    c->started = 1;
    sse_set(c, strdup("retry: 2000\n\n"));
    return c->pending ? sse_take(c, buf, max) : -1;
  }
  /* A burst of events: one update for all of them. */
  long long gap = mono_ms() - c->last_ms;
  if (gap < SSE_MIN_GAP_MS) {
    struct timespec ts = {0, (SSE_MIN_GAP_MS - gap) * 1000000L};
    nanosleep(&ts, NULL);
  }
  long long t0 = mono_ms();
  pthread_mutex_lock(&sh->lock);
  while (!sh->stop && sh->version == c->seen &&
         mono_ms() - t0 < SSE_KEEPALIVE_MS) {
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_nsec += 500 * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
      until.tv_sec++;
      until.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&sh->changed, &sh->lock, &until);
  }
  if (sh->stop) {
    pthread_mutex_unlock(&sh->lock);
    return -1;
  }
  if (sh->version == c->seen) {
    pthread_mutex_unlock(&sh->lock);
    sse_set(c, strdup(": keepalive\n\n"));
    return c->pending ? sse_take(c, buf, max) : -1;
  }
  c->seen = sh->version;
  json_t *j = ds_api_state_json(c->api);
  pthread_mutex_unlock(&sh->lock);
  char *js = j ? json_dumps(j, JSON_COMPACT) : NULL;
  json_decref(j);
  if (!js)
    return -1;
  size_t n = strlen(js) + 32;
  char *text = malloc(n);
  if (text)
    snprintf(text, n, "event: state\ndata: %s\n\n", js);
  free(js);
  sse_set(c, text);
  c->last_ms = mono_ms();
  return text ? sse_take(c, buf, max) : -1;
}

static void sse_free(void *opaque) {
  sse *c = opaque;
  free(c->pending);
  free(c);
}

static void h_events(const sp_http_request *req, sp_http_response *resp,
                     void *opaque) {
  ds_api *api = opaque;
  if (!allowed(api, req, resp))
    return;
  sse *c = calloc(1, sizeof *c);
  if (!c) {
    sp_http_error(resp, 500, "out of memory");
    return;
  }
  c->api = api;
  c->last_ms = mono_ms() - SSE_MIN_GAP_MS;
  sp_http_stream(resp, "text/event-stream", sse_next, c, sse_free);
}

size_t ds_api_routes(ds_api *api, sp_http_route *routes, size_t max) {
  const sp_http_route r[] = {
      {"GET", "/", h_index, api},
      {"GET", "/index.html", h_index, api},
      {"GET", "/static/*", h_static, api},
      {"GET", "/api/state", h_state, api},
      {"GET", "/api/orders/*", h_order, api},
      {"GET", "/api/events", h_events, api},
  };
  size_t n = sizeof r / sizeof *r;
  if (n > max)
    n = max;
  memcpy(routes, r, n * sizeof *r);
  return n;
}
