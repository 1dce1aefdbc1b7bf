/* metrics.c - process-wide Prometheus registry (text exposition 0.0.4).
 *
 * The registry is a list kept in creation order under one mutex; each metric
 * has its own mutex for updates, so hot counters on different threads do not
 * contend with each other or with rendering of unrelated series. Lock order:
 * registry, then metric. */
#include "metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { KIND_COUNTER, KIND_GAUGE, KIND_HISTOGRAM } metric_kind;

struct sp_metric {
  metric_kind kind;
  char *name;
  char *help;
  char *labels; /* NULL when the series has no labels */
  pthread_mutex_t lock;
  double value;      /* counter, gauge */
  size_t nbuckets;   /* finite bounds; counts has nbuckets + 1 (+Inf) */
  double *bounds;
  uint64_t *counts;  /* per bucket, not cumulative; summed when rendered */
  double sum;
  uint64_t count;
  struct sp_metric *next;
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sp_metric *reg_head, *reg_tail;

static const double default_buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025,
                                         0.05,  0.1,    0.25,  0.5,  1,
                                         2.5,   5,      10};

static int valid_name(const char *s) {
  if (!s || !*s)
    return 0;
  for (const char *p = s; *p; p++) {
    char c = *p;
    int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                c == '_' || c == ':';
    if (!alpha && !(p != s && c >= '0' && c <= '9'))
      return 0;
  }
  return 1;
}

static int same_labels(const char *a, const char *b) {
  if (!a || !b)
    return a == b;
  return strcmp(a, b) == 0;
}

static void metric_free(struct sp_metric *m) {
  pthread_mutex_destroy(&m->lock);
  free(m->name);
  free(m->help);
  free(m->labels);
  free(m->bounds);
  free(m->counts);
  free(m);
}

/* Find or create. Returns NULL on a kind clash, bad arguments or OOM. */
static struct sp_metric *metric_get(metric_kind kind, const char *name,
                                    const char *help, const char *labels,
                                    const double *buckets, size_t nbuckets) {
  if (!valid_name(name))
    return NULL;
  if (labels && !*labels)
    labels = NULL;
  /* The caller escapes values; a raw newline would still break the format. */
  if (labels && strchr(labels, '\n'))
    return NULL;
  if (kind == KIND_HISTOGRAM) {
    if (!buckets) {
      buckets = default_buckets;
      nbuckets = sizeof default_buckets / sizeof default_buckets[0];
    }
    for (size_t i = 0; i < nbuckets; i++) {
      if (!isfinite(buckets[i]) || (i > 0 && buckets[i] <= buckets[i - 1]))
        return NULL;
    }
  }

  pthread_mutex_lock(&reg_lock);
  struct sp_metric *m;
  for (m = reg_head; m; m = m->next) {
    if (strcmp(m->name, name) != 0)
      continue;
    if (m->kind != kind) {
      m = NULL; /* one name, one type: a programming error */
      goto out;
    }
    if (same_labels(m->labels, labels))
      goto out;
  }

  m = calloc(1, sizeof *m);
  if (!m)
    goto out;
  m->kind = kind;
  pthread_mutex_init(&m->lock, NULL);
  m->name = strdup(name);
  m->help = strdup(help ? help : "");
  m->labels = labels ? strdup(labels) : NULL;
  int oom = !m->name || !m->help || (labels && !m->labels);
  if (kind == KIND_HISTOGRAM && !oom) {
    m->nbuckets = nbuckets;
    m->bounds = nbuckets ? malloc(nbuckets * sizeof *m->bounds) : NULL;
    m->counts = calloc(nbuckets + 1, sizeof *m->counts);
    if ((nbuckets && !m->bounds) || !m->counts)
      oom = 1;
    else if (nbuckets)
      memcpy(m->bounds, buckets, nbuckets * sizeof *m->bounds);
  }
  if (oom) {
    metric_free(m);
    m = NULL;
    goto out;
  }
  if (reg_tail)
    reg_tail->next = m;
  else
    reg_head = m;
  reg_tail = m;
out:
  pthread_mutex_unlock(&reg_lock);
  return m;
}

sp_metric *sp_metrics_counter(const char *name, const char *help,
                              const char *labels) {
  return metric_get(KIND_COUNTER, name, help, labels, NULL, 0);
}

sp_metric *sp_metrics_gauge(const char *name, const char *help,
                            const char *labels) {
  return metric_get(KIND_GAUGE, name, help, labels, NULL, 0);
}

sp_metric *sp_metrics_histogram(const char *name, const char *help,
                                const char *labels, const double *buckets,
                                size_t nbuckets) {
  return metric_get(KIND_HISTOGRAM, name, help, labels, buckets, nbuckets);
}

void sp_metric_add(sp_metric *m, double v) {
  if (!m || m->kind == KIND_HISTOGRAM)
    return;
  /* A counter only goes up; a negative or NaN step would corrupt rate(). */
  if (m->kind == KIND_COUNTER && !(v >= 0))
    return;
  pthread_mutex_lock(&m->lock);
  m->value += v;
  pthread_mutex_unlock(&m->lock);
}

void sp_metric_set(sp_metric *m, double v) {
  if (!m || m->kind != KIND_GAUGE)
    return;
  pthread_mutex_lock(&m->lock);
  m->value = v;
  pthread_mutex_unlock(&m->lock);
}

void sp_metric_observe(sp_metric *m, double v) {
  if (!m || m->kind != KIND_HISTOGRAM)
    return;
  /* le is "less than or equal": a value on a bound belongs to that bucket.
   * NaN compares false everywhere and so lands in +Inf only. */
  size_t i = 0;
  while (i < m->nbuckets && !(v <= m->bounds[i]))
    i++;
  pthread_mutex_lock(&m->lock);
  m->counts[i]++;
  m->sum += v;
  m->count++;
  pthread_mutex_unlock(&m->lock);
}

/* For a histogram: the number of observations (handy in tests). */
double sp_metric_value(const sp_metric *m) {
  if (!m)
    return 0;
  struct sp_metric *mm = (struct sp_metric *)m; /* the lock is not data */
  pthread_mutex_lock(&mm->lock);
  double v = m->kind == KIND_HISTOGRAM ? (double)m->count : m->value;
  pthread_mutex_unlock(&mm->lock);
  return v;
}

/* ---- rendering ---- */

typedef struct {
  char *p;
  size_t len, cap;
  int oom;
} strbuf;

static void sb_printf(strbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void sb_printf(strbuf *b, const char *fmt, ...) {
  if (b->oom)
    return;
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0) {
      b->oom = 1;
      return;
    }
    if ((size_t)n < b->cap - b->len) {
      b->len += (size_t)n;
      return;
    }
    size_t ncap = b->cap * 2;
    while (ncap - b->len <= (size_t)n)
      ncap *= 2;
    char *np = realloc(b->p, ncap);
    if (!np) {
      b->oom = 1;
      return;
    }
    b->p = np;
    b->cap = ncap;
  }
}

/* Shortest form that reads back to the same double; Prometheus spellings
 * for the special values. */
static const char *fmt_double(char buf[32], double v) {
  if (isnan(v))
    return "NaN";
  if (isinf(v))
    return v > 0 ? "+Inf" : "-Inf";
  snprintf(buf, 32, "%.15g", v);
  if (strtod(buf, NULL) != v)
    snprintf(buf, 32, "%.17g", v);
  return buf;
}

/* HELP text escapes only backslash and newline (format 0.0.4). */
static void sb_help(strbuf *b, const char *s) {
  for (; *s; s++) {
    if (*s == '\\')
      sb_printf(b, "\\\\");
    else if (*s == '\n')
      sb_printf(b, "\\n");
    else
      sb_printf(b, "%c", *s);
  }
}

static const char *kind_name(metric_kind k) {
  switch (k) {
  case KIND_COUNTER:
    return "counter";
  case KIND_GAUGE:
    return "gauge";
  default:
    return "histogram";
  }
}

static void render_series(strbuf *b, struct sp_metric *m) {
  char v1[32], v2[32];
  const char *l = m->labels;
  pthread_mutex_lock(&m->lock);
  if (m->kind != KIND_HISTOGRAM) {
    sb_printf(b, "%s%s%s%s %s\n", m->name, l ? "{" : "", l ? l : "",
              l ? "}" : "", fmt_double(v1, m->value));
  } else {
    uint64_t cum = 0;
    for (size_t i = 0; i <= m->nbuckets; i++) {
      cum += m->counts[i];
      const char *le = i < m->nbuckets ? fmt_double(v1, m->bounds[i]) : "+Inf";
      sb_printf(b, "%s_bucket{%s%sle=\"%s\"} %llu\n", m->name, l ? l : "",
                l ? "," : "", le, (unsigned long long)cum);
    }
    sb_printf(b, "%s_sum%s%s%s %s\n", m->name, l ? "{" : "", l ? l : "",
              l ? "}" : "", fmt_double(v2, m->sum));
    sb_printf(b, "%s_count%s%s%s %llu\n", m->name, l ? "{" : "", l ? l : "",
              l ? "}" : "", (unsigned long long)m->count);
  }
  pthread_mutex_unlock(&m->lock);
}

char *sp_metrics_render(size_t *len) {
  strbuf b = {.cap = 1024};
  b.p = malloc(b.cap);
  if (!b.p)
    return NULL;
  b.p[0] = '\0';

  pthread_mutex_lock(&reg_lock);
  for (struct sp_metric *m = reg_head; m; m = m->next) {
    /* Emit a family at its first series, with every later series of the
     * same name, so families stay contiguous however they were created. */
    int seen = 0;
    for (struct sp_metric *p = reg_head; p != m; p = p->next) {
      if (strcmp(p->name, m->name) == 0) {
        seen = 1;
        break;
      }
    }
    if (seen)
      continue;
    sb_printf(&b, "# HELP %s", m->name);
    if (*m->help) {
      sb_printf(&b, " ");
      sb_help(&b, m->help);
    }
    sb_printf(&b, "\n# TYPE %s %s\n", m->name, kind_name(m->kind));
    for (struct sp_metric *p = m; p; p = p->next) {
      if (strcmp(p->name, m->name) == 0)
        render_series(&b, p);
    }
  }
  pthread_mutex_unlock(&reg_lock);

  if (b.oom) {
    free(b.p);
    return NULL;
  }
  if (len)
    *len = b.len;
  return b.p;
}

void sp_metrics_reset(void) {
  pthread_mutex_lock(&reg_lock);
  struct sp_metric *m = reg_head;
  while (m) {
    struct sp_metric *next = m->next;
    metric_free(m);
    m = next;
  }
  reg_head = reg_tail = NULL;
  pthread_mutex_unlock(&reg_lock);
}
