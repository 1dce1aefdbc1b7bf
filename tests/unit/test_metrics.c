/* test_metrics.c - registry, values and exact Prometheus text. */
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

static void setup(void) { sp_metrics_reset(); }
static void teardown(void) { sp_metrics_reset(); }

static char *render(void) {
  size_t len = 0;
  char *s = sp_metrics_render(&len);
  ck_assert_ptr_nonnull(s);
  ck_assert_uint_eq(len, strlen(s));
  return s;
}

START_TEST(test_counter_gauge_values) {
  sp_metric *c = sp_metrics_counter("t_events_total", "Events.", NULL);
  ck_assert_ptr_nonnull(c);
  ck_assert(sp_metric_value(c) == 0);
  sp_metric_add(c, 1);
  sp_metric_add(c, 2.5);
  ck_assert(sp_metric_value(c) == 3.5);
  /* A counter never goes down, and set() is for gauges. */
  sp_metric_add(c, -1);
  sp_metric_add(c, NAN);
  sp_metric_set(c, 100);
  ck_assert(sp_metric_value(c) == 3.5);

  sp_metric *g = sp_metrics_gauge("t_depth", "Depth.", NULL);
  ck_assert_ptr_nonnull(g);
  sp_metric_set(g, 10);
  sp_metric_add(g, -4);
  ck_assert(sp_metric_value(g) == 6);
  sp_metric_set(g, -2.25);
  ck_assert(sp_metric_value(g) == -2.25);

  /* Updating a NULL metric (a failed create) is harmless. */
  sp_metric_add(NULL, 1);
  sp_metric_set(NULL, 1);
  sp_metric_observe(NULL, 1);
  ck_assert(sp_metric_value(NULL) == 0);
}
END_TEST

START_TEST(test_render_exact) {
  sp_metric *a = sp_metrics_counter("t_requests_total", "Requests served.",
                                    "code=\"200\"");
  sp_metric *g = sp_metrics_gauge("t_queue_depth", "Line one\nback\\slash",
                                  NULL);
  /* Created after the gauge but must be rendered with its family. */
  sp_metric *b = sp_metrics_counter("t_requests_total", "Requests served.",
                                    "code=\"500\"");
  const double bk[] = {0.1, 1};
  sp_metric *h = sp_metrics_histogram("t_latency_seconds", "Latency.",
                                      "route=\"/x\"", bk, 2);
  sp_metric *h2 = sp_metrics_histogram("t_size", NULL, NULL, bk, 2);
  ck_assert_ptr_nonnull(a);
  ck_assert_ptr_nonnull(b);
  ck_assert_ptr_nonnull(g);
  ck_assert_ptr_nonnull(h);
  ck_assert_ptr_nonnull(h2);
  sp_metric_add(a, 7);
  sp_metric_add(b, 1);
  sp_metric_set(g, 0.5);
  sp_metric_observe(h, 0.05);
  sp_metric_observe(h, 0.5);
  sp_metric_observe(h, 3);
  sp_metric_observe(h2, 1);

  char *s = render();
  const char *want =
      "# HELP t_requests_total Requests served.\n"
      "# TYPE t_requests_total counter\n"
      "t_requests_total{code=\"200\"} 7\n"
      "t_requests_total{code=\"500\"} 1\n"
      "# HELP t_queue_depth Line one\\nback\\\\slash\n"
      "# TYPE t_queue_depth gauge\n"
      "t_queue_depth 0.5\n"
      "# HELP t_latency_seconds Latency.\n"
      "# TYPE t_latency_seconds histogram\n"
      "t_latency_seconds_bucket{route=\"/x\",le=\"0.1\"} 1\n"
      "t_latency_seconds_bucket{route=\"/x\",le=\"1\"} 2\n"
      "t_latency_seconds_bucket{route=\"/x\",le=\"+Inf\"} 3\n"
      "t_latency_seconds_sum{route=\"/x\"} 3.55\n"
      "t_latency_seconds_count{route=\"/x\"} 3\n"
      "# HELP t_size\n"
      "# TYPE t_size histogram\n"
      "t_size_bucket{le=\"0.1\"} 0\n"
      "t_size_bucket{le=\"1\"} 1\n"
      "t_size_bucket{le=\"+Inf\"} 1\n"
      "t_size_sum 1\n"
      "t_size_count 1\n";
  ck_assert_str_eq(s, want);
  free(s);
}
END_TEST

START_TEST(test_render_empty_and_null_len) {
  char *s = sp_metrics_render(NULL);
  ck_assert_ptr_nonnull(s);
  ck_assert_str_eq(s, "");
  free(s);
}
END_TEST

START_TEST(test_histogram_bounds) {
  const double bk[] = {1, 2, 5};
  sp_metric *h = sp_metrics_histogram("t_h", "H.", NULL, bk, 3);
  ck_assert_ptr_nonnull(h);
  sp_metric_observe(h, 1);   /* equal to a bound: in le="1" */
  sp_metric_observe(h, 2);   /* in le="2" */
  sp_metric_observe(h, 2.0000001); /* just above: le="5" */
  sp_metric_observe(h, 5);   /* le="5" */
  sp_metric_observe(h, 5.5); /* +Inf only */
  sp_metric_observe(h, -3);  /* below everything: le="1" */
  ck_assert(sp_metric_value(h) == 6);
  char *s = render();
  ck_assert_ptr_nonnull(strstr(s, "t_h_bucket{le=\"1\"} 2\n"));
  ck_assert_ptr_nonnull(strstr(s, "t_h_bucket{le=\"2\"} 3\n"));
  ck_assert_ptr_nonnull(strstr(s, "t_h_bucket{le=\"5\"} 5\n"));
  ck_assert_ptr_nonnull(strstr(s, "t_h_bucket{le=\"+Inf\"} 6\n"));
  ck_assert_ptr_nonnull(strstr(s, "t_h_count 6\n"));
  free(s);
}
END_TEST

START_TEST(test_histogram_default_buckets) {
  sp_metric *h = sp_metrics_histogram("t_default", "D.", NULL, NULL, 0);
  ck_assert_ptr_nonnull(h);
  sp_metric_observe(h, 0.001);
  sp_metric_observe(h, 10);
  char *s = render();
  ck_assert_ptr_nonnull(strstr(s, "t_default_bucket{le=\"0.001\"} 1\n"));
  ck_assert_ptr_nonnull(strstr(s, "t_default_bucket{le=\"0.0025\"} 1\n"));
  ck_assert_ptr_nonnull(strstr(s, "t_default_bucket{le=\"10\"} 2\n"));
  ck_assert_ptr_nonnull(strstr(s, "t_default_bucket{le=\"+Inf\"} 2\n"));
  ck_assert_ptr_nonnull(strstr(s, "t_default_sum 10.001\n"));
  free(s);
}
END_TEST

START_TEST(test_bad_arguments) {
  const double unsorted[] = {1, 0.5};
  const double dup[] = {1, 1};
  const double inf[] = {1, INFINITY};
  ck_assert_ptr_null(sp_metrics_histogram("t_u", "", NULL, unsorted, 2));
  ck_assert_ptr_null(sp_metrics_histogram("t_d", "", NULL, dup, 2));
  ck_assert_ptr_null(sp_metrics_histogram("t_i", "", NULL, inf, 2));
  ck_assert_ptr_null(sp_metrics_counter(NULL, "", NULL));
  ck_assert_ptr_null(sp_metrics_counter("", "", NULL));
  ck_assert_ptr_null(sp_metrics_counter("9lives", "", NULL));
  ck_assert_ptr_null(sp_metrics_counter("has-dash", "", NULL));
  ck_assert_ptr_null(sp_metrics_counter("t_nl", "", "a=\"x\ny\""));
  /* Nothing of the refused metrics was registered. */
  char *s = render();
  ck_assert_str_eq(s, "");
  free(s);
}
END_TEST

START_TEST(test_same_name_same_pointer) {
  sp_metric *a = sp_metrics_counter("t_c", "C.", "k=\"v\"");
  sp_metric *b = sp_metrics_counter("t_c", "C.", "k=\"v\"");
  sp_metric *c = sp_metrics_counter("t_c", "C.", "k=\"w\"");
  sp_metric *d = sp_metrics_counter("t_c", "C.", NULL);
  sp_metric *e = sp_metrics_counter("t_c", "C.", ""); /* "" is no labels */
  ck_assert_ptr_nonnull(a);
  ck_assert_ptr_eq(a, b);
  ck_assert_ptr_ne(a, c);
  ck_assert_ptr_ne(a, d);
  ck_assert_ptr_eq(d, e);
  sp_metric_add(a, 1);
  sp_metric_add(b, 1);
  ck_assert(sp_metric_value(a) == 2);
  ck_assert(sp_metric_value(c) == 0);

  const double bk[] = {1};
  sp_metric *h1 = sp_metrics_histogram("t_hh", "H.", NULL, bk, 1);
  sp_metric *h2 = sp_metrics_histogram("t_hh", "H.", NULL, bk, 1);
  ck_assert_ptr_nonnull(h1);
  ck_assert_ptr_eq(h1, h2);
}
END_TEST

START_TEST(test_kind_clash) {
  sp_metric *c = sp_metrics_counter("t_x", "X.", NULL);
  ck_assert_ptr_nonnull(c);
  sp_metric_add(c, 4);
  ck_assert_ptr_null(sp_metrics_gauge("t_x", "X.", NULL));
  ck_assert_ptr_null(sp_metrics_gauge("t_x", "X.", "other=\"1\""));
  ck_assert_ptr_null(sp_metrics_histogram("t_x", "X.", NULL, NULL, 0));
  /* The clash left the registry as it was. */
  char *s = render();
  ck_assert_str_eq(s, "# HELP t_x X.\n# TYPE t_x counter\nt_x 4\n");
  free(s);
}
END_TEST

#define NTHREADS 4
#define NITER 100000

static sp_metric *conc_counter, *conc_hist;

static void *bump(void *arg) {
  (void)arg;
  for (int i = 0; i < NITER; i++) {
    sp_metric_add(conc_counter, 1);
    sp_metric_observe(conc_hist, (i % 2) ? 0.5 : 2);
  }
  return NULL;
}

START_TEST(test_concurrent_increments) {
  conc_counter = sp_metrics_counter("t_conc_total", "C.", NULL);
  const double bk[] = {1};
  conc_hist = sp_metrics_histogram("t_conc_h", "H.", NULL, bk, 1);
  ck_assert_ptr_nonnull(conc_counter);
  ck_assert_ptr_nonnull(conc_hist);
  pthread_t th[NTHREADS];
  for (int i = 0; i < NTHREADS; i++)
    ck_assert_int_eq(pthread_create(&th[i], NULL, bump, NULL), 0);
  /* Render while the writers run: must not crash or deadlock. */
  for (int i = 0; i < 20; i++)
    free(sp_metrics_render(NULL));
  for (int i = 0; i < NTHREADS; i++)
    pthread_join(th[i], NULL);
  ck_assert(sp_metric_value(conc_counter) == (double)NTHREADS * NITER);
  ck_assert(sp_metric_value(conc_hist) == (double)NTHREADS * NITER);
  char *s = render();
  ck_assert_ptr_nonnull(strstr(s, "t_conc_total 400000\n"));
  ck_assert_ptr_nonnull(strstr(s, "t_conc_h_bucket{le=\"1\"} 200000\n"));
  ck_assert_ptr_nonnull(strstr(s, "t_conc_h_bucket{le=\"+Inf\"} 400000\n"));
  ck_assert_ptr_nonnull(strstr(s, "t_conc_h_sum 500000\n"));
  free(s);
}
END_TEST

START_TEST(test_reset) {
  sp_metric *c = sp_metrics_counter("t_r", "R.", NULL);
  sp_metric_add(c, 9);
  sp_metrics_reset();
  char *s = render();
  ck_assert_str_eq(s, "");
  free(s);
  /* After a reset the name is free again, even for another kind. */
  sp_metric *g = sp_metrics_gauge("t_r", "R.", NULL);
  ck_assert_ptr_nonnull(g);
  ck_assert(sp_metric_value(g) == 0);
  s = render();
  ck_assert_str_eq(s, "# HELP t_r R.\n# TYPE t_r gauge\nt_r 0\n");
  free(s);
}
END_TEST

START_TEST(test_value_formatting) {
  sp_metric *g = sp_metrics_gauge("t_f", "F.", NULL);
  sp_metric_set(g, 0.1);
  char *s = render();
  ck_assert_ptr_nonnull(strstr(s, "t_f 0.1\n"));
  free(s);
  sp_metric_set(g, 1e21);
  s = render();
  ck_assert_ptr_nonnull(strstr(s, "t_f 1e+21\n"));
  free(s);
  sp_metric_set(g, INFINITY);
  s = render();
  ck_assert_ptr_nonnull(strstr(s, "t_f +Inf\n"));
  free(s);
  sp_metric_set(g, -INFINITY);
  s = render();
  ck_assert_ptr_nonnull(strstr(s, "t_f -Inf\n"));
  free(s);
  sp_metric_set(g, NAN);
  s = render();
  ck_assert_ptr_nonnull(strstr(s, "t_f NaN\n"));
  free(s);
  /* A value that needs 17 digits to read back exactly. */
  sp_metric_set(g, 0.1 + 0.2);
  s = render();
  ck_assert_ptr_nonnull(strstr(s, "t_f 0.30000000000000004\n"));
  free(s);
}
END_TEST

static Suite *metrics_suite(void) {
  Suite *s = suite_create("metrics");
  TCase *tc = tcase_create("core");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_counter_gauge_values);
  tcase_add_test(tc, test_render_exact);
  tcase_add_test(tc, test_render_empty_and_null_len);
  tcase_add_test(tc, test_histogram_bounds);
  tcase_add_test(tc, test_histogram_default_buckets);
  tcase_add_test(tc, test_bad_arguments);
  tcase_add_test(tc, test_same_name_same_pointer);
  tcase_add_test(tc, test_kind_clash);
  tcase_add_test(tc, test_concurrent_increments);
  tcase_add_test(tc, test_reset);
  tcase_add_test(tc, test_value_formatting);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(metrics_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
