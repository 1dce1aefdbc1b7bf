/* metrics.h - counters, gauges and histograms in Prometheus text format.
 *
 * One process-wide registry; metrics are created once (same name and labels
 * return the same metric) and updated from any thread. */
#ifndef SIMPKI_METRICS_H
#define SIMPKI_METRICS_H

#include <stddef.h>

typedef struct sp_metric sp_metric;

/* labels: NULL or a Prometheus label list without braces,
 * e.g. "consumer=\"inventory\",result=\"ok\"". */
sp_metric *sp_metrics_counter(const char *name, const char *help,
                              const char *labels);
sp_metric *sp_metrics_gauge(const char *name, const char *help,
                            const char *labels);
/* Upper bounds ascending; +Inf is implicit. NULL buckets -> default
 * latency buckets (0.001 .. 10 s). */
sp_metric *sp_metrics_histogram(const char *name, const char *help,
                                const char *labels, const double *buckets,
                                size_t nbuckets);

void sp_metric_add(sp_metric *m, double v);     /* counter, gauge */
void sp_metric_set(sp_metric *m, double v);     /* gauge */
void sp_metric_observe(sp_metric *m, double v); /* histogram */
double sp_metric_value(const sp_metric *m);     /* counter, gauge; tests */

/* The whole registry as Prometheus text (malloc'd, NUL-terminated). */
char *sp_metrics_render(size_t *len);
/* Drop every metric (tests only; pointers become invalid). */
void sp_metrics_reset(void);

#endif
