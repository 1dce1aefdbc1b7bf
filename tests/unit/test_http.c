/* test_http.c - the HTTP server against a real libcurl client on loopback. */
#include <arpa/inet.h>
#include <check.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http.h"
#include "shutdown.h"
#include <jansson.h>
#include <time.h>
#include "metrics.h"

typedef struct {
  long status;
  char *body;
  size_t len;
  char ctype[128];
  char allow[128];
} result;

static size_t on_body(char *p, size_t sz, size_t n, void *ud) {
  result *r = ud;
  size_t add = sz * n;
  char *nb = realloc(r->body, r->len + add + 1);
  if (!nb)
    return 0;
  memcpy(nb + r->len, p, add);
  r->body = nb;
  r->len += add;
  r->body[r->len] = '\0';
  return add;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud) {
  result *r = ud;
  size_t len = sz * n;
  if (len > 6 && strncasecmp(p, "Allow:", 6) == 0) {
    size_t v = 6;
    while (v < len && p[v] == ' ')
      v++;
    size_t e = len;
    while (e > v && (p[e - 1] == '\r' || p[e - 1] == '\n'))
      e--;
    snprintf(r->allow, sizeof r->allow, "%.*s", (int)(e - v), p + v);
  }
  return len;
}

/* One request; body may hold NUL bytes unless chunked (no Content-Length;
 * curl then sends strlen(body) bytes). */
static void request(int port, const char *method, const char *path,
                    const char *body, size_t blen, const char *header,
                    int chunked, result *r) {
  memset(r, 0, sizeof *r);
  char url[512];
  snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
  CURL *c = curl_easy_init();
  ck_assert_ptr_nonnull(c);
  struct curl_slist *h = NULL;
  if (header)
    h = curl_slist_append(h, header);
  if (chunked)
    h = curl_slist_append(h, "Transfer-Encoding: chunked");
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  if (body) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    if (!chunked)
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
  CURLcode rc = curl_easy_perform(c);
  ck_assert_msg(rc == CURLE_OK, "curl %s %s: %s", method, path,
                curl_easy_strerror(rc));
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
  char *ct = NULL;
  curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
  if (ct)
    snprintf(r->ctype, sizeof r->ctype, "%s", ct);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
}

static void get(int port, const char *path, result *r) {
  request(port, "GET", path, NULL, 0, NULL, 0, r);
}

static const char *body_of(const result *r) { return r->body ? r->body : ""; }

/* ---- handlers ---- */

typedef struct {
  atomic_int calls;
  char body[64];
  size_t body_len;
  int body_was_null;
} recorder;

static void h_hello(const sp_http_request *req, sp_http_response *resp,
                    void *opaque) {
  (void)req;
  atomic_fetch_add(&((recorder *)opaque)->calls, 1);
  resp->body = strdup("{\"hello\":\"world\"}");
  resp->body_len = strlen(resp->body);
}

static void h_record(const sp_http_request *req, sp_http_response *resp,
                     void *opaque) {
  recorder *rec = opaque;
  atomic_fetch_add(&rec->calls, 1);
  rec->body_was_null = req->body == NULL;
  rec->body_len = req->body_len;
  if (req->body && req->body_len < sizeof rec->body)
    memcpy(rec->body, req->body, req->body_len);
  /* The buffer is NUL-terminated past body_len. */
  if (req->body)
    ck_assert_int_eq(req->body[req->body_len], '\0');
  char out[64];
  snprintf(out, sizeof out, "{\"len\":%zu}", req->body_len);
  resp->status = 201;
  resp->body = strdup(out); /* body_len left 0: strlen is used */
}

static void h_path(const sp_http_request *req, sp_http_response *resp,
                   void *opaque) {
  (void)opaque;
  resp->content_type = "text/plain";
  resp->body = strdup(req->path);
  resp->body_len = strlen(req->path);
}

static void h_echo(const sp_http_request *req, sp_http_response *resp,
                   void *opaque) {
  (void)opaque;
  const char *name = sp_http_query(req, "name");
  const char *missing = sp_http_query(req, "nope");
  const char *rid = sp_http_header(req, "x-request-id"); /* any case */
  const char *nohdr = sp_http_header(req, "X-Absent");
  char out[256];
  snprintf(out, sizeof out, "name=%s;missing=%s;rid=%s;nohdr=%s",
           name ? name : "(null)", missing ? missing : "(null)",
           rid ? rid : "(null)", nohdr ? nohdr : "(null)");
  resp->content_type = "text/plain";
  resp->body = strdup(out);
  resp->body_len = strlen(out);
}

static void h_empty(const sp_http_request *req, sp_http_response *resp,
                    void *opaque) {
  (void)req;
  (void)opaque;
  resp->status = 202;
}

static void h_bad_status(const sp_http_request *req, sp_http_response *resp,
                         void *opaque) {
  (void)req;
  (void)opaque;
  resp->status = 42;
  resp->body = strdup("leaked?");
}

static void h_error(const sp_http_request *req, sp_http_response *resp,
                    void *opaque) {
  (void)req;
  (void)opaque;
  resp->body = strdup("replaced");
  sp_http_error(resp, 409, "order \"B-1\" already\nexists");
}

/* A streamed body: three events, the second after a short wait (the
 * producer blocks on its own thread), then the end; freed once. */
typedef struct {
  int sent;
  atomic_int *freed;
} stream_state;

static atomic_int stream_freed;

static long stream_fn(void *opaque, char *buf, size_t max) {
  stream_state *s = opaque;
  if (s->sent == 3)
    return -1;
  if (s->sent == 1) {
    struct timespec ts = {0, 50 * 1000000L};
    nanosleep(&ts, NULL);
  }
  int n = snprintf(buf, max, "data: %d\n\n", ++s->sent);
  return n;
}

static void stream_free_fn(void *opaque) {
  stream_state *s = opaque;
  atomic_fetch_add(s->freed, 1);
  free(s);
}

static void h_stream(const sp_http_request *req, sp_http_response *resp,
                     void *opaque) {
  (void)req;
  (void)opaque;
  stream_state *s = calloc(1, sizeof *s);
  s->freed = &stream_freed;
  sp_http_stream(resp, "text/event-stream", stream_fn, s, stream_free_fn);
}

/* A handler that starts a stream and then answers an error instead: the
 * error is sent and the producer freed without being called. */
static void h_stream_then_error(const sp_http_request *req,
                                sp_http_response *resp, void *opaque) {
  h_stream(req, resp, opaque);
  sp_http_error(resp, 403, "no");
}

/* ---- fixture ---- */

static recorder hello_rec, post_rec;
static sp_http_server *srv;
static int port;

static const sp_http_route routes[] = {
    {"GET", "/hello", h_hello, &hello_rec},
    {"POST", "/orders", h_record, &post_rec},
    {"GET", "/items/*", h_path, NULL},
    {"GET", "/echo", h_echo, NULL},
    {"DELETE", "/empty", h_empty, NULL},
    {"GET", "/bad", h_bad_status, NULL},
    {"PUT", "/conflict", h_error, NULL},
    {"GET", "/stream", h_stream, NULL},
    {"GET", "/stream-refused", h_stream_then_error, NULL},
};

static int health_ok;
static int health(void *opaque, char *detail, size_t len) {
  ck_assert_ptr_eq(opaque, &health_ok);
  snprintf(detail, len, "%s", health_ok ? "db ok" : "db \"down\"");
  return health_ok;
}

static sp_http_server *start(size_t max_body, int with_health) {
  char err[256] = "";
  sp_http_conf conf = {
      .bind_addr = NULL,
      .port = 0,
      .routes = routes,
      .nroutes = sizeof routes / sizeof routes[0],
      .health = with_health ? health : NULL,
      .health_opaque = &health_ok,
      .max_body = max_body,
  };
  sp_http_server *s = sp_http_start(&conf, err, sizeof err);
  ck_assert_msg(s != NULL, "start: %s", err);
  ck_assert_int_gt(sp_http_port(s), 0);
  return s;
}

static void setup(void) {
  sp_metrics_reset();
  memset(&hello_rec, 0, sizeof hello_rec);
  memset(&post_rec, 0, sizeof post_rec);
  health_ok = 1;
  srv = start(0, 1);
  port = sp_http_port(srv);
}

static void teardown(void) {
  sp_http_stop(srv);
  srv = NULL;
  sp_metrics_reset();
}

/* ---- tests ---- */

/* sp_http_json: the status, a compact JSON body, the body stolen. */
START_TEST(test_json_reply) {
  sp_http_response resp = {0};
  sp_http_json(&resp, 201, json_pack("{s:s, s:i}", "a", "Hà Nội", "n", 7));
  ck_assert_int_eq(resp.status, 201);
  ck_assert_str_eq(resp.content_type, "application/json");
  ck_assert_str_eq(resp.body, "{\"a\":\"Hà Nội\",\"n\":7}");
  ck_assert_uint_eq(resp.body_len, strlen(resp.body));
  free(resp.body);
  resp.body = NULL;
  sp_http_json(&resp, 200, NULL); /* a failed json_pack: an error body */
  ck_assert_int_eq(resp.status, 500);
  ck_assert_ptr_nonnull(strstr(resp.body, "out of memory"));
  free(resp.body);
}
END_TEST

/* sp_shutdown_sleep: waits its time, or wakes at once on a stop flag. */
START_TEST(test_shutdown_sleep) {
  struct timespec a, b;
  volatile int stop = 0;
  clock_gettime(CLOCK_MONOTONIC, &a);
  ck_assert_int_eq(sp_shutdown_sleep(120, &stop), 0);
  clock_gettime(CLOCK_MONOTONIC, &b);
  long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
  ck_assert_int_ge(ms, 110);
  stop = 1;
  clock_gettime(CLOCK_MONOTONIC, &a);
  ck_assert_int_eq(sp_shutdown_sleep(10000, &stop), 1);
  clock_gettime(CLOCK_MONOTONIC, &b);
  ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
  ck_assert_int_lt(ms, 1000);
  ck_assert_int_eq(sp_shutdown_sleep(0, NULL), 0);
}
END_TEST

START_TEST(test_healthz_healthy) {
  result r;
  get(port, "/healthz", &r);
  ck_assert_int_eq(r.status, 200);
  ck_assert_str_eq(r.ctype, "application/json");
  ck_assert_str_eq(body_of(&r), "{\"status\":\"ok\",\"detail\":\"db ok\"}");
  free(r.body);
}
END_TEST

START_TEST(test_healthz_unhealthy) {
  health_ok = 0;
  result r;
  get(port, "/healthz", &r);
  ck_assert_int_eq(r.status, 503);
  ck_assert_str_eq(body_of(&r),
                   "{\"status\":\"unhealthy\",\"detail\":\"db \\\"down\\\"\"}");
  free(r.body);
}
END_TEST

START_TEST(test_healthz_default) {
  sp_http_server *s = start(0, 0);
  result r;
  get(sp_http_port(s), "/healthz", &r);
  ck_assert_int_eq(r.status, 200);
  ck_assert_str_eq(body_of(&r), "{\"status\":\"ok\",\"detail\":\"\"}");
  free(r.body);
  sp_http_stop(s);
}
END_TEST

START_TEST(test_metrics_route) {
  sp_metric *m = sp_metrics_counter("t_widgets_total", "Widgets.", NULL);
  sp_metric_add(m, 3);
  result r;
  get(port, "/healthz", &r);
  free(r.body);
  get(port, "/nowhere", &r);
  free(r.body);
  get(port, "/metrics", &r);
  ck_assert_int_eq(r.status, 200);
  ck_assert_str_eq(r.ctype, "text/plain; version=0.0.4");
  ck_assert_ptr_nonnull(strstr(body_of(&r), "# TYPE t_widgets_total counter\n"
                                            "t_widgets_total 3\n"));
  /* Earlier requests are counted by status code (this one after render). */
  ck_assert_ptr_nonnull(strstr(
      body_of(&r), "simpki_http_requests_total{code=\"200\"} 1\n"));
  ck_assert_ptr_nonnull(strstr(
      body_of(&r), "simpki_http_requests_total{code=\"404\"} 1\n"));
  ck_assert_ptr_nonnull(
      strstr(body_of(&r), "# TYPE simpki_http_request_seconds histogram\n"));
  ck_assert_ptr_nonnull(
      strstr(body_of(&r), "simpki_http_request_seconds_count 2\n"));
  free(r.body);
  sp_metric *c200 = sp_metrics_counter("simpki_http_requests_total", "",
                                       "code=\"200\"");
  ck_assert(sp_metric_value(c200) == 2);
}
END_TEST

START_TEST(test_custom_get) {
  result r;
  get(port, "/hello", &r);
  ck_assert_int_eq(r.status, 200);
  ck_assert_str_eq(r.ctype, "application/json");
  ck_assert_str_eq(body_of(&r), "{\"hello\":\"world\"}");
  ck_assert_int_eq(atomic_load(&hello_rec.calls), 1);
  free(r.body);
}
END_TEST

START_TEST(test_post_exact_body) {
  static const char payload[] = "{\"a\":1}\0tail\xff";
  size_t n = sizeof payload - 1; /* includes the inner NUL */
  result r;
  request(port, "POST", "/orders", payload, n, "Content-Type: text/plain", 0,
          &r);
  ck_assert_int_eq(r.status, 201);
  ck_assert_str_eq(body_of(&r), "{\"len\":13}");
  ck_assert_int_eq(atomic_load(&post_rec.calls), 1);
  ck_assert_uint_eq(post_rec.body_len, n);
  ck_assert_int_eq(memcmp(post_rec.body, payload, n), 0);
  free(r.body);

  /* Chunked upload reaches the handler the same way. */
  memset(&post_rec, 0, sizeof post_rec);
  request(port, "POST", "/orders", "chunked-body", 12, NULL, 1, &r);
  ck_assert_int_eq(r.status, 201);
  ck_assert_uint_eq(post_rec.body_len, 12);
  ck_assert_int_eq(memcmp(post_rec.body, "chunked-body", 12), 0);
  free(r.body);
}
END_TEST

START_TEST(test_post_empty_body) {
  result r;
  request(port, "POST", "/orders", "", 0, NULL, 0, &r);
  ck_assert_int_eq(r.status, 201);
  ck_assert_int_eq(atomic_load(&post_rec.calls), 1);
  ck_assert_int_eq(post_rec.body_was_null, 1);
  ck_assert_uint_eq(post_rec.body_len, 0);
  free(r.body);
}
END_TEST

START_TEST(test_prefix_route) {
  result r;
  get(port, "/items/42", &r);
  ck_assert_int_eq(r.status, 200);
  ck_assert_str_eq(r.ctype, "text/plain");
  ck_assert_str_eq(body_of(&r), "/items/42");
  free(r.body);
  get(port, "/items/a/b?x=1", &r);
  ck_assert_int_eq(r.status, 200);
  ck_assert_str_eq(body_of(&r), "/items/a/b");
  free(r.body);
  /* The prefix is "/items/", so "/items" and "/itemsX" are not in it. */
  get(port, "/items", &r);
  ck_assert_int_eq(r.status, 404);
  free(r.body);
  get(port, "/itemsX", &r);
  ck_assert_int_eq(r.status, 404);
  free(r.body);
}
END_TEST

START_TEST(test_not_found) {
  result r;
  get(port, "/nope", &r);
  ck_assert_int_eq(r.status, 404);
  ck_assert_str_eq(r.ctype, "application/json");
  ck_assert_str_eq(body_of(&r), "{\"error\":\"not found\"}");
  free(r.body);
  /* Exact routes do not match longer paths. */
  get(port, "/hello/more", &r);
  ck_assert_int_eq(r.status, 404);
  free(r.body);
  ck_assert_int_eq(atomic_load(&hello_rec.calls), 0);
}
END_TEST

START_TEST(test_method_not_allowed) {
  result r;
  request(port, "POST", "/hello", "x", 1, NULL, 0, &r);
  ck_assert_int_eq(r.status, 405);
  ck_assert_str_eq(r.ctype, "application/json");
  ck_assert_str_eq(body_of(&r), "{\"error\":\"method not allowed\"}");
  ck_assert_str_eq(r.allow, "GET");
  ck_assert_int_eq(atomic_load(&hello_rec.calls), 0);
  free(r.body);
  request(port, "GET", "/orders", NULL, 0, NULL, 0, &r);
  ck_assert_int_eq(r.status, 405);
  ck_assert_str_eq(r.allow, "POST");
  ck_assert_int_eq(atomic_load(&post_rec.calls), 0);
  free(r.body);
  request(port, "DELETE", "/healthz", NULL, 0, NULL, 0, &r);
  ck_assert_int_eq(r.status, 405);
  free(r.body);
  request(port, "POST", "/metrics", "", 0, NULL, 0, &r);
  ck_assert_int_eq(r.status, 405);
  free(r.body);
}
END_TEST

START_TEST(test_body_limit) {
  sp_http_server *s = start(16, 1);
  int p = sp_http_port(s);
  result r;
  /* Exactly at the limit: accepted. */
  request(p, "POST", "/orders", "0123456789abcdef", 16, NULL, 0, &r);
  ck_assert_int_eq(r.status, 201);
  ck_assert_int_eq(atomic_load(&post_rec.calls), 1);
  free(r.body);
  /* One byte over, declared by Content-Length. */
  request(p, "POST", "/orders", "0123456789abcdefg", 17, NULL, 0, &r);
  ck_assert_int_eq(r.status, 413);
  ck_assert_str_eq(body_of(&r), "{\"error\":\"request body too large\"}");
  free(r.body);
  /* One byte over, chunked: found while reading. */
  request(p, "POST", "/orders", "0123456789abcdefg", 17, NULL, 1, &r);
  ck_assert_int_eq(r.status, 413);
  free(r.body);
  ck_assert_int_eq(atomic_load(&post_rec.calls), 1);
  /* The server is still fine afterwards. */
  get(p, "/healthz", &r);
  ck_assert_int_eq(r.status, 200);
  free(r.body);
  sp_http_stop(s);
}
END_TEST

/* A declared oversized body is refused from the headers alone: the client
 * never has to send it (raw socket, since curl would send it anyway). */
START_TEST(test_body_limit_declared) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ck_assert_int_ge(fd, 0);
  struct sockaddr_in sin = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port)};
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof sin), 0);
  const char *hdr = "POST /orders HTTP/1.1\r\nHost: t\r\n"
                    "Content-Length: 10000000000\r\n\r\n";
  ck_assert_int_eq(write(fd, hdr, strlen(hdr)), (ssize_t)strlen(hdr));
  struct pollfd pfd = {.fd = fd, .events = POLLIN};
  ck_assert_int_eq(poll(&pfd, 1, 3000), 1);
  char buf[512];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  ck_assert_int_gt(n, 0);
  buf[n] = '\0';
  ck_assert_msg(strncmp(buf, "HTTP/1.1 413", 12) == 0, "got: %s", buf);
  close(fd);
  ck_assert_int_eq(atomic_load(&post_rec.calls), 0);
}
END_TEST

START_TEST(test_body_limit_default) {
  size_t mib = (size_t)1 << 20;
  char *big = malloc(mib + 2);
  ck_assert_ptr_nonnull(big);
  memset(big, 'x', mib + 1);
  big[mib + 1] = '\0'; /* chunked uploads take strlen() of the data */
  result r;
  request(port, "POST", "/orders", big, mib, NULL, 0, &r);
  ck_assert_int_eq(r.status, 201);
  ck_assert_uint_eq(post_rec.body_len, mib);
  ck_assert_int_eq(atomic_load(&post_rec.calls), 1);
  free(r.body);
  request(port, "POST", "/orders", big, mib + 1, NULL, 0, &r);
  ck_assert_int_eq(r.status, 413);
  free(r.body);
  request(port, "POST", "/orders", big, mib + 1, NULL, 1, &r);
  ck_assert_int_eq(r.status, 413);
  free(r.body);
  ck_assert_int_eq(atomic_load(&post_rec.calls), 1);
  free(big);
}
END_TEST

START_TEST(test_query_and_header) {
  result r;
  request(port, "GET", "/echo?name=a%20b&x=1", NULL, 0,
          "X-Request-Id: req-7", 0, &r);
  ck_assert_int_eq(r.status, 200);
  ck_assert_str_eq(body_of(&r),
                   "name=a b;missing=(null);rid=req-7;nohdr=(null)");
  free(r.body);
  ck_assert_ptr_null(sp_http_header(NULL, "x"));
  ck_assert_ptr_null(sp_http_query(NULL, "x"));
  sp_http_request empty = {0};
  ck_assert_ptr_null(sp_http_header(&empty, "x"));
  ck_assert_ptr_null(sp_http_query(&empty, "x"));
}
END_TEST

START_TEST(test_empty_and_bad_responses) {
  result r;
  request(port, "DELETE", "/empty", NULL, 0, NULL, 0, &r);
  ck_assert_int_eq(r.status, 202);
  ck_assert_uint_eq(r.len, 0);
  free(r.body);
  get(port, "/bad", &r);
  ck_assert_int_eq(r.status, 500);
  ck_assert_str_eq(body_of(&r), "{\"error\":\"internal error\"}");
  free(r.body);
  request(port, "PUT", "/conflict", NULL, 0, NULL, 0, &r);
  ck_assert_int_eq(r.status, 409);
  ck_assert_str_eq(body_of(&r),
                   "{\"error\":\"order \\\"B-1\\\" already\\nexists\"}");
  free(r.body);
}
END_TEST

START_TEST(test_http_error_direct) {
  sp_http_response resp = {0};
  sp_http_error(&resp, 400, "bad \\ \"x\"\t");
  ck_assert_int_eq(resp.status, 400);
  ck_assert_str_eq(resp.content_type, "application/json");
  ck_assert_str_eq(resp.body, "{\"error\":\"bad \\\\ \\\"x\\\"\\t\"}");
  ck_assert_uint_eq(resp.body_len, strlen(resp.body));
  /* A second call replaces (and frees) the first body. */
  sp_http_error(&resp, 422, "\xc3\xa9t\xc3\xa9");
  ck_assert_int_eq(resp.status, 422);
  ck_assert_str_eq(resp.body, "{\"error\":\"\xc3\xa9t\xc3\xa9\"}");
  sp_http_error(&resp, 400, "\xff\xfe");
  ck_assert_ptr_nonnull(strstr(resp.body, "not valid UTF-8"));
  free(resp.body);
}
END_TEST

/* sp_http_stream: the producer's bytes in order, the content type, no
 * caching, and its opaque freed once the response ends. */
START_TEST(test_stream) {
  atomic_store(&stream_freed, 0);
  result r;
  get(port, "/stream", &r);
  ck_assert_int_eq(r.status, 200);
  ck_assert_str_eq(r.ctype, "text/event-stream");
  ck_assert_str_eq(body_of(&r), "data: 1\n\ndata: 2\n\ndata: 3\n\n");
  free(r.body);
  for (int i = 0; i < 100 && atomic_load(&stream_freed) == 0; i++)
    usleep(10000);
  ck_assert_int_eq(atomic_load(&stream_freed), 1);
  get(port, "/stream-refused", &r);
  ck_assert_int_eq(r.status, 403);
  ck_assert_str_eq(body_of(&r), "{\"error\":\"no\"}");
  free(r.body);
  ck_assert_int_eq(atomic_load(&stream_freed), 2);
  /* The other routes are as before. */
  get(port, "/healthz", &r);
  ck_assert_int_eq(r.status, 200);
  free(r.body);
}
END_TEST

START_TEST(test_port_in_use) {
  char err[256] = "";
  sp_http_conf conf = {.bind_addr = "127.0.0.1", .port = port};
  sp_http_server *s = sp_http_start(&conf, err, sizeof err);
  ck_assert_ptr_null(s);
  char want[64];
  snprintf(want, sizeof want, "cannot listen on 127.0.0.1:%d", port);
  ck_assert_msg(strstr(err, want) != NULL, "errstr: %s", err);
  ck_assert_msg(strstr(err, "in use") != NULL, "errstr: %s", err);
  /* The first server is unaffected. */
  result r;
  get(port, "/healthz", &r);
  ck_assert_int_eq(r.status, 200);
  free(r.body);
}
END_TEST

START_TEST(test_bad_conf) {
  char err[256] = "";
  sp_http_conf conf = {.bind_addr = "not-an-ip"};
  ck_assert_ptr_null(sp_http_start(&conf, err, sizeof err));
  ck_assert_ptr_nonnull(strstr(err, "not-an-ip"));
  conf = (sp_http_conf){.port = 70000};
  err[0] = '\0';
  ck_assert_ptr_null(sp_http_start(&conf, err, sizeof err));
  ck_assert_ptr_nonnull(strstr(err, "70000"));
  conf = (sp_http_conf){.nroutes = 1};
  err[0] = '\0';
  ck_assert_ptr_null(sp_http_start(&conf, err, sizeof err));
  ck_assert_ptr_nonnull(strstr(err, "routes"));
  sp_http_route bad = {"GET", "no-slash", h_hello, NULL};
  conf = (sp_http_conf){.routes = &bad, .nroutes = 1};
  err[0] = '\0';
  ck_assert_ptr_null(sp_http_start(&conf, err, sizeof err));
  ck_assert_ptr_nonnull(strstr(err, "route 0"));
  err[0] = '\0';
  ck_assert_ptr_null(sp_http_start(NULL, err, sizeof err));
  ck_assert_str_ne(err, "");
  /* A NULL errstr is allowed. */
  ck_assert_ptr_null(sp_http_start(NULL, NULL, 0));
  ck_assert_int_eq(sp_http_port(NULL), -1);
  sp_http_stop(NULL);
}
END_TEST

START_TEST(test_explicit_bind_addr) {
  char err[256] = "";
  sp_http_conf conf = {.bind_addr = "127.0.0.1", .port = 0};
  sp_http_server *s = sp_http_start(&conf, err, sizeof err);
  ck_assert_msg(s != NULL, "%s", err);
  ck_assert_int_ne(sp_http_port(s), port);
  result r;
  get(sp_http_port(s), "/healthz", &r);
  ck_assert_int_eq(r.status, 200);
  free(r.body);
  sp_http_stop(s);
}
END_TEST

static Suite *http_suite(void) {
  Suite *s = suite_create("http");
  TCase *tc = tcase_create("server");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_healthz_healthy);
  tcase_add_test(tc, test_healthz_unhealthy);
  tcase_add_test(tc, test_healthz_default);
  tcase_add_test(tc, test_metrics_route);
  tcase_add_test(tc, test_custom_get);
  tcase_add_test(tc, test_post_exact_body);
  tcase_add_test(tc, test_json_reply);
  tcase_add_test(tc, test_shutdown_sleep);
  tcase_add_test(tc, test_post_empty_body);
  tcase_add_test(tc, test_prefix_route);
  tcase_add_test(tc, test_not_found);
  tcase_add_test(tc, test_method_not_allowed);
  tcase_add_test(tc, test_body_limit);
  tcase_add_test(tc, test_body_limit_declared);
  tcase_add_test(tc, test_body_limit_default);
  tcase_add_test(tc, test_query_and_header);
  tcase_add_test(tc, test_empty_and_bad_responses);
  tcase_add_test(tc, test_http_error_direct);
  tcase_add_test(tc, test_stream);
  tcase_add_test(tc, test_port_in_use);
  tcase_add_test(tc, test_bad_conf);
  tcase_add_test(tc, test_explicit_bind_addr);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  SRunner *sr = srunner_create(http_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  curl_global_cleanup();
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
