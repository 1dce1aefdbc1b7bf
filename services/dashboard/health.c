/* health.c - polling the services' /healthz and /metrics (health.h). */
#include "health.h"

#include <ctype.h>
#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dashboard.h"
#include "log.h"
#include "shutdown.h"

#define FETCH_MAX (4u << 20) /* a /metrics page is far smaller */
#define FETCH_TIMEOUT_MS 2000L

int ds_services_parse(const char *spec, ds_service **out, size_t *n,
                      char *errstr, size_t errlen) {
  *out = NULL;
  *n = 0;
  if (!spec)
    return 0;
  ds_service *v = NULL;
  size_t cnt = 0;
  const char *p = spec;
  while (*p) {
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    while (len && isspace((unsigned char)*p))
      p++, len--;
    while (len && isspace((unsigned char)p[len - 1]))
      len--;
    if (len) {
      const char *eq = memchr(p, '=', len);
      size_t nlen = eq ? (size_t)(eq - p) : 0;
      size_t ulen = eq ? len - nlen - 1 : 0;
      const char *url = eq ? eq + 1 : NULL;
      while (ulen && url[ulen - 1] == '/')
        ulen--;
      if (!eq || !nlen || nlen >= sizeof v->name || ulen < 8 ||
          ulen >= sizeof v->url ||
          (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))) {
        snprintf(errstr, errlen,
                 "SIMPKI_DASHBOARD_SERVICES: \"%.*s\" is not NAME=http://HOST:PORT",
                 (int)(len > 80 ? 80 : len), p);
        free(v);
        return -1;
      }
      ds_service *nv = realloc(v, (cnt + 1) * sizeof *v);
      if (!nv) {
        free(v);
        snprintf(errstr, errlen, "out of memory");
        return -1;
      }
      v = nv;
      memset(&v[cnt], 0, sizeof v[cnt]);
      memcpy(v[cnt].name, p, nlen);
      memcpy(v[cnt].url, url, ulen);
      cnt++;
    }
    if (!end)
      break;
    p = end + 1;
  }
  *out = v;
  *n = cnt;
  return 0;
}

int ds_outbox_lag(const char *text, double *lag) {
  static const char name[] = "simpki_outbox_lag";
  int found = 0;
  double sum = 0;
  for (const char *line = text; line && *line;) {
    const char *nl = strchr(line, '\n');
    if (!strncmp(line, name, sizeof name - 1) &&
        (line[sizeof name - 1] == '{' || line[sizeof name - 1] == ' ')) {
      const char *v = line + sizeof name - 1;
      if (*v == '{') {
        v = strchr(v, '}');
        if (!v || (nl && v > nl))
          v = NULL;
        else
          v++;
      }
      if (v) {
        char *e;
        double d = strtod(v, &e);
        if (e != v && isfinite(d)) { /* "NaN" and "+Inf" are no lag */
          sum += d;
          found = 1;
        }
      }
    }
    line = nl ? nl + 1 : NULL;
  }
  if (!found || !isfinite(sum)) /* JSON carries no NaN or infinity */
    return -1;
  *lag = sum;
  return 0;
}

json_t *ds_services_json(const ds_service *s, size_t n) {
  json_t *a = json_array();
  for (size_t i = 0; i < n; i++) {
    json_t *o = json_pack("{s:s, s:s, s:b, s:b, s:i}", "name", s[i].name,
                          "url", s[i].url, "checked", s[i].checked,
                          "healthy", s[i].healthy, "status", (int)s[i].status);
    if (!o)
      continue;
    json_t *d = json_string(s[i].detail);
    json_object_set_new(o, "detail", d ? d : json_string(""));
    json_object_set_new(o, "outbox_lag",
                        s[i].has_lag ? json_real(s[i].lag) : json_null());
    json_array_append_new(a, o);
  }
  return a;
}

/* ---- the poller ---- */

struct ds_health {
  ds_shared *sh;
  long interval_ms;
  pthread_t thread;
  int started;
};

typedef struct {
  char *buf;
  size_t len;
} fetched;

static size_t on_data(char *p, size_t sz, size_t n, void *ud) {
  fetched *f = ud;
  size_t add = sz * n;
  if (f->len + add > FETCH_MAX)
    return 0;
  char *nb = realloc(f->buf, f->len + add + 1);
  if (!nb)
    return 0;
  memcpy(nb + f->len, p, add);
  f->buf = nb;
  f->len += add;
  f->buf[f->len] = '\0';
  return add;
}

static long fetch(CURL *c, const char *base, const char *path, fetched *f) {
  char url[320];
  snprintf(url, sizeof url, "%s%s", base, path);
  f->buf = NULL;
  f->len = 0;
  curl_easy_reset(c);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, FETCH_TIMEOUT_MS);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
  long status = 0;
  if (curl_easy_perform(c) == CURLE_OK)
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  return status;
}

static long long wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void poll_one(CURL *c, ds_shared *sh, size_t i) {
  char url[256];
  pthread_mutex_lock(&sh->lock);
  memcpy(url, sh->services[i].url, sizeof url);
  pthread_mutex_unlock(&sh->lock);
  ds_service r = {0};
  fetched f;
  r.status = fetch(c, url, "/healthz", &f);
  r.healthy = r.status == 200;
  json_t *j = f.buf ? json_loads(f.buf, 0, NULL) : NULL;
  const char *detail = json_string_value(json_object_get(j, "detail"));
  snprintf(r.detail, sizeof r.detail, "%s",
           detail ? detail : r.status ? "" : "unreachable");
  json_decref(j);
  free(f.buf);
  if (fetch(c, url, "/metrics", &f) == 200 && f.buf)
    r.has_lag = ds_outbox_lag(f.buf, &r.lag) == 0;
  free(f.buf);
  pthread_mutex_lock(&sh->lock);
  ds_service *s = &sh->services[i];
  int changed = !s->checked || s->healthy != r.healthy ||
                s->status != r.status || s->has_lag != r.has_lag ||
                s->lag != r.lag || strcmp(s->detail, r.detail);
  s->checked = 1;
  s->healthy = r.healthy;
  s->status = r.status;
  memcpy(s->detail, r.detail, sizeof s->detail);
  s->has_lag = r.has_lag;
  s->lag = r.lag;
  s->checked_ms = wall_ms();
  if (changed)
    ds_shared_changed(sh);
  pthread_mutex_unlock(&sh->lock);
}

static void *run(void *arg) {
  ds_health *h = arg;
  CURL *c = curl_easy_init();
  if (!c) {
    sp_error("dashboard: cannot start libcurl; no service health");
    return NULL;
  }
  while (!h->sh->stop) {
    for (size_t i = 0; i < h->sh->nservices && !h->sh->stop; i++)
      poll_one(c, h->sh, i);
    if (sp_shutdown_sleep(h->interval_ms, &h->sh->stop))
      break;
  }
  curl_easy_cleanup(c);
  return NULL;
}

ds_health *ds_health_start(ds_shared *sh, long interval_ms, char *errstr,
                           size_t errlen) {
  ds_health *h = calloc(1, sizeof *h);
  if (!h) {
    snprintf(errstr, errlen, "out of memory");
    return NULL;
  }
  h->sh = sh;
  h->interval_ms = interval_ms;
  if (pthread_create(&h->thread, NULL, run, h)) {
    snprintf(errstr, errlen, "cannot start the health poller");
    free(h);
    return NULL;
  }
  h->started = 1;
  return h;
}

void ds_health_stop(ds_health *h) {
  if (!h)
    return;
  if (h->started)
    pthread_join(h->thread, NULL);
  free(h);
}
