/* Unit tests for tools/simpkictl/kafka_reader.c, the reader of events
 * dump and audit replay, against librdkafka's mock cluster in this
 * process: every partition read to its end as of the start, and a broker
 * that goes away mid-read ends the read after --timeout-ms without
 * progress instead of hanging. */
#include "../../tools/simpkictl/kafka_reader.c"

#include <check.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TOPIC "reader.test"
#define PARTS 2
#define MESSAGES 200

static rd_kafka_t *owner; /* holds the mock cluster */
static rd_kafka_mock_cluster_t *mc;
static const char *bootstrap;

static void setup(void) {
  char err[256];
  rd_kafka_conf_t *c = rd_kafka_conf_new();
  ck_assert_int_eq(rd_kafka_conf_set(c, "log_level", "0", err, sizeof err),
                   RD_KAFKA_CONF_OK);
  owner = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
  ck_assert_msg(owner != NULL, "%s", err);
  mc = rd_kafka_mock_cluster_new(owner, 1);
  ck_assert_ptr_nonnull(mc);
  bootstrap = rd_kafka_mock_cluster_bootstraps(mc);
  ck_assert_int_eq(rd_kafka_mock_topic_create(mc, TOPIC, PARTS, 1), 0);
  /* One message per message set: a fetch brings one per partition. */
  rd_kafka_conf_t *pc = rd_kafka_conf_new();
  ck_assert_int_eq(
      rd_kafka_conf_set(pc, "bootstrap.servers", bootstrap, err, sizeof err),
      RD_KAFKA_CONF_OK);
  ck_assert_int_eq(
      rd_kafka_conf_set(pc, "batch.num.messages", "1", err, sizeof err),
      RD_KAFKA_CONF_OK);
  rd_kafka_t *p = rd_kafka_new(RD_KAFKA_PRODUCER, pc, err, sizeof err);
  ck_assert_msg(p != NULL, "%s", err);
  for (int i = 0; i < MESSAGES; i++) {
    char v[32];
    int n = snprintf(v, sizeof v, "message %d", i);
    ck_assert_int_eq(rd_kafka_producev(p, RD_KAFKA_V_TOPIC(TOPIC),
                                       RD_KAFKA_V_PARTITION(i % PARTS),
                                       RD_KAFKA_V_VALUE(v, (size_t)n),
                                       RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                       RD_KAFKA_V_END),
                     RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  ck_assert_int_eq(rd_kafka_flush(p, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_destroy(p);
}

static void teardown(void) {
  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(owner);
}

struct seen {
  int parts, messages;
  int64_t high[PARTS];
  int take_down_after; /* messages, then the broker goes down; 0 never */
  int stop_after;      /* messages, then the callback stops the read */
};

static void on_part(void *opaque, const char *topic, int32_t partition,
                    int64_t low, int64_t high) {
  struct seen *s = opaque;
  ck_assert_str_eq(topic, TOPIC);
  ck_assert_int_lt(partition, PARTS);
  ck_assert_int_eq(low, 0);
  s->high[partition] = high;
  s->parts++;
}

static int on_msg(void *opaque, const char *topic, int32_t partition,
                  int64_t offset, const void *payload, size_t len) {
  struct seen *s = opaque;
  ck_assert_str_eq(topic, TOPIC);
  ck_assert_int_lt(offset, s->high[partition]);
  ck_assert(len > 0 && !memcmp(payload, "message ", 8));
  if (++s->messages == s->take_down_after)
    rd_kafka_mock_broker_set_down(mc, 1);
  if (s->stop_after && s->messages == 1)
    usleep(300000); /* the rest arrives meanwhile: the next take is many */
  return s->messages == s->stop_after;
}

/* A reader to the end with the default settings. */
static rd_kafka_t *reader(void) {
  char err[512];
  unsetenv("SIMPKI_KAFKA_CONFIG");
  rd_kafka_t *rk = sp_reader_new_to_end(bootstrap, "test", err, sizeof err);
  ck_assert_msg(rk != NULL, "%s", err);
  return rk;
}

START_TEST(reads_every_partition_to_its_end) {
  char err[512];
  rd_kafka_t *rk = reader();
  const char *topics[] = {TOPIC};
  struct seen s = {0};
  ck_assert_int_eq(sp_reader_read_to_end(rk, topics, 1, 10000, on_part, on_msg,
                                         &s, err, sizeof err),
                   0);
  ck_assert_int_eq(s.parts, PARTS);
  ck_assert_int_eq(s.high[0] + s.high[1], MESSAGES);
  ck_assert_int_eq(s.messages, MESSAGES);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
}
END_TEST

/* Messages handed over whole are the callback's: kept past the read,
 * read then, and let go by the test before the consumer goes. */
static rd_kafka_message_t *kept[MESSAGES];
static int nkept;

static int keep_msg(void *opaque, const char *topic, rd_kafka_message_t *m) {
  struct seen *s = opaque;
  ck_assert_str_eq(topic, TOPIC);
  ck_assert_int_lt(m->offset, s->high[m->partition]);
  ck_assert_int_lt(nkept, MESSAGES);
  kept[nkept++] = m;
  return 0;
}

static int count_msg(void *opaque, const char *topic, rd_kafka_message_t *m) {
  (void)opaque;
  ck_assert_str_eq(topic, "reader.ends");
  nkept++;
  rd_kafka_message_destroy(m);
  return 0;
}

START_TEST(hands_messages_over) {
  char err[512];
  rd_kafka_t *rk = reader();
  const char *topics[] = {TOPIC};
  struct seen s = {0};
  nkept = 0;
  ck_assert_int_eq(sp_reader_read_to_end_keep(rk, topics, 1, 10000, on_part,
                                              keep_msg, &s, err, sizeof err),
                   0);
  ck_assert_int_eq(nkept, MESSAGES);
  int64_t next[PARTS] = {0};
  for (int i = 0; i < nkept; i++) {
    rd_kafka_message_t *m = kept[i];
    /* Still readable after the read, in each partition's order. */
    ck_assert(m->len > 8 && !memcmp(m->payload, "message ", 8));
    ck_assert_int_eq(m->offset, next[m->partition]++);
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
}
END_TEST

/* A callback that says stop ends the read at once: no message after it,
 * and those taken from the queue with it (the rest of the topic, read
 * ahead while the first message was handled) are let go: LeakSanitizer
 * names them otherwise. */
START_TEST(callback_stops_the_read) {
  char err[512];
  rd_kafka_t *rk = reader();
  const char *topics[] = {TOPIC};
  struct seen s = {.stop_after = 2};
  ck_assert_int_eq(sp_reader_read_to_end(rk, topics, 1, 10000, on_part, on_msg,
                                         &s, err, sizeof err),
                   -2);
  ck_assert_str_eq(err, "stopped");
  ck_assert_int_eq(s.messages, 2);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
}
END_TEST

START_TEST(no_progress_times_out) {
  char err[512];
  /* One message queued per partition at a time: little is read ahead
   * when the broker goes. */
  setenv("SIMPKI_KAFKA_CONFIG", "queued.min.messages=1,log_level=0", 1);
  rd_kafka_t *rk = sp_reader_new(bootstrap, "test", NULL, err, sizeof err);
  ck_assert_msg(rk != NULL, "%s", err);
  const char *topics[] = {TOPIC};
  struct seen s = {.take_down_after = 5};
  long t0 = sp_reader_now_ms();
  int rc = sp_reader_read_to_end(rk, topics, 1, 1500, on_part, on_msg, &s, err,
                                 sizeof err);
  long took = sp_reader_now_ms() - t0;
  ck_assert_int_eq(rc, -1);
  ck_assert_msg(strstr(err, "timed out after 1500 ms without progress") != NULL,
                "%s", err);
  ck_assert_msg(strstr(err, "0 of 2 partition(s)") != NULL, "%s", err);
  ck_assert_int_lt(s.messages, MESSAGES);
  ck_assert_int_ge(took, 1500);
  ck_assert_int_lt(took, 30000);
  rd_kafka_mock_broker_set_up(mc, 1);
  rd_kafka_destroy(rk);
  unsetenv("SIMPKI_KAFKA_CONFIG");
}
END_TEST

/* n messages "message x" to topic, message i to partition_of(i). */
static void produce_each(const char *topic, int n,
                         int32_t (*partition_of)(int i)) {
  char err[512];
  rd_kafka_conf_t *pc = rd_kafka_conf_new();
  ck_assert_int_eq(
      rd_kafka_conf_set(pc, "bootstrap.servers", bootstrap, err, sizeof err),
      RD_KAFKA_CONF_OK);
  rd_kafka_t *p = rd_kafka_new(RD_KAFKA_PRODUCER, pc, err, sizeof err);
  ck_assert_msg(p != NULL, "%s", err);
  for (int i = 0; i < n; i++)
    ck_assert_int_eq(rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic),
                                       RD_KAFKA_V_PARTITION(partition_of(i)),
                                       RD_KAFKA_V_VALUE("message x", 9),
                                       RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                       RD_KAFKA_V_END),
                     RD_KAFKA_RESP_ERR_NO_ERROR);
  ck_assert_int_eq(rd_kafka_flush(p, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_destroy(p);
}

/* 3 to partition 1, 5 to partition 3. */
static int32_t three_then_five(int i) { return i < 3 ? 1 : 3; }

/* Each partition's ends asked in one request per broker and end: the
 * empty partitions' ends meet, and a partition the topic does not have
 * is left unknown (-1), for the reader to ask it alone and name it. */
START_TEST(ends_of_all_partitions_at_once) {
  char err[512];
  ck_assert_int_eq(rd_kafka_mock_topic_create(mc, "reader.ends", 4, 1), 0);
  produce_each("reader.ends", 8, three_then_five);

  rd_kafka_t *rk = reader();
  rd_kafka_metadata_partition_t parts[5] = {
      {.id = 0}, {.id = 1}, {.id = 2}, {.id = 3}, {.id = 99}};
  rd_kafka_metadata_topic_t t = {
      .topic = "reader.ends", .partition_cnt = 5, .partitions = parts};
  int64_t ends[10];
  rd_query_ends(rk, "reader.ends", &t, ends, sp_reader_now_ms() + 10000);
  const int64_t want[10] = {0, 0, 0, 3, 0, 0, 0, 5, -1, -1};
  for (int i = 0; i < 10; i++)
    ck_assert_msg(ends[i] == want[i], "ends[%d] = %lld, want %lld", i,
                  (long long)ends[i], (long long)want[i]);
  /* Read through: the 8 messages, the empty partitions done at once. */
  const char *topics[] = {"reader.ends"};
  nkept = 0;
  ck_assert_int_eq(sp_reader_read_to_end_keep(rk, topics, 1, 10000, NULL,
                                              count_msg, NULL, err, sizeof err),
                   0);
  ck_assert_int_eq(nkept, 8);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
}
END_TEST

static void fetch_wait(rd_kafka_t *rk, char *out, size_t n) {
  ck_assert_int_eq(
      rd_kafka_conf_get(rd_kafka_conf(rk), "fetch.wait.max.ms", out, &n),
      RD_KAFKA_CONF_OK);
  rd_kafka_destroy(rk);
}

/* A reader to the end has the broker answer a fetch at once; one that
 * follows the topics keeps librdkafka's wait; an operator's setting wins. */
START_TEST(to_end_reader_does_not_wait_for_new_messages) {
  char err[512], v[32];
  unsetenv("SIMPKI_KAFKA_CONFIG");
  fetch_wait(reader(), v, sizeof v);
  ck_assert_str_eq(v, SP_READER_TO_END_FETCH_WAIT_MS);
  rd_kafka_t *rk = sp_reader_new(bootstrap, "test", NULL, err, sizeof err);
  ck_assert_msg(rk != NULL, "%s", err);
  fetch_wait(rk, v, sizeof v);
  ck_assert_str_eq(v, "500");
  setenv("SIMPKI_KAFKA_CONFIG", "fetch.wait.max.ms=250", 1);
  rk = sp_reader_new_to_end(bootstrap, "test", err, sizeof err);
  ck_assert_msg(rk != NULL, "%s", err);
  fetch_wait(rk, v, sizeof v);
  ck_assert_str_eq(v, "250");
  unsetenv("SIMPKI_KAFKA_CONFIG");
}
END_TEST

#define WPARTS 8
#define WEACH 25

static int32_t round_robin(int i) { return i % WPARTS; }

struct window_seen {
  rd_kafka_t *rk;
  int64_t next[WPARTS]; /* the next offset expected of each partition */
  int most_assigned, messages;
};

static int window_msg(void *opaque, const char *topic, int32_t partition,
                      int64_t offset, const void *payload, size_t len) {
  struct window_seen *w = opaque;
  (void)payload;
  (void)len;
  ck_assert_str_eq(topic, "reader.window");
  ck_assert_int_lt(partition, WPARTS);
  ck_assert_int_eq(offset, w->next[partition]++);
  w->messages++;
  rd_kafka_topic_partition_list_t *l = NULL;
  ck_assert_int_eq(rd_kafka_assignment(w->rk, &l), RD_KAFKA_RESP_ERR_NO_ERROR);
  if (l->cnt > w->most_assigned)
    w->most_assigned = l->cnt;
  rd_kafka_topic_partition_list_destroy(l);
  return 0;
}

/* Partitions holding more messages than the window are read a window at
 * a time: never more than two assigned at once here (all eight without
 * the window), each partition whole and in order, none left assigned
 * after the read. */
START_TEST(reads_a_window_of_partitions_at_a_time) {
  char err[512];
  ck_assert_int_eq(rd_kafka_mock_topic_create(mc, "reader.window", WPARTS, 1),
                   0);
  produce_each("reader.window", WPARTS * WEACH, round_robin);

  /* Room for two partitions: 50 messages, at least one partition. */
  reader_window_messages = 2 * WEACH;
  reader_window_parts = 1;
  struct window_seen w = {.rk = reader()};
  const char *topics[] = {"reader.window"};
  int rc = sp_reader_read_to_end(w.rk, topics, 1, 10000, NULL, window_msg, &w,
                                 err, sizeof err);
  reader_window_messages = SP_READER_WINDOW_MESSAGES;
  reader_window_parts = SP_READER_WINDOW_PARTITIONS;
  ck_assert_msg(rc == 0, "%s", err);
  ck_assert_int_eq(w.messages, WPARTS * WEACH);
  for (int i = 0; i < WPARTS; i++)
    ck_assert_int_eq(w.next[i], WEACH);
  ck_assert_int_eq(w.most_assigned, 2);
  rd_kafka_topic_partition_list_t *l = NULL;
  ck_assert_int_eq(rd_kafka_assignment(w.rk, &l), RD_KAFKA_RESP_ERR_NO_ERROR);
  ck_assert_int_eq(l->cnt, 0);
  rd_kafka_topic_partition_list_destroy(l);
  rd_kafka_consumer_close(w.rk);
  rd_kafka_destroy(w.rk);
}
END_TEST

/* A window librdkafka will not assign (a partition assigned already)
 * ends the read with the reason, before any message. */
START_TEST(window_that_cannot_be_assigned_fails) {
  char err[512] = "";
  rd_kafka_t *rk = reader();
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(l, TOPIC, 0)->offset = 0;
  rd_kafka_error_t *e = rd_kafka_incremental_assign(rk, l);
  ck_assert_ptr_null(e);
  rd_kafka_topic_partition_list_destroy(l);
  struct rd_part part = {.topic = TOPIC, .partition = 0, .low = 0, .high = 5};
  struct rd_all d = {.rk = rk, .parts = &part, .nparts = 1};
  ck_assert_int_eq(rd_fill_window(&d, err, sizeof err), -1);
  ck_assert_msg(strstr(err, "cannot assign partitions: ") == err, "%s", err);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
}
END_TEST

int main(void) {
  Suite *s = suite_create("kafka_reader");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 60);
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, reads_every_partition_to_its_end);
  tcase_add_test(tc, callback_stops_the_read);
  tcase_add_test(tc, hands_messages_over);
  tcase_add_test(tc, no_progress_times_out);
  tcase_add_test(tc, ends_of_all_partitions_at_once);
  tcase_add_test(tc, to_end_reader_does_not_wait_for_new_messages);
  tcase_add_test(tc, reads_a_window_of_partitions_at_a_time);
  tcase_add_test(tc, window_that_cannot_be_assigned_fails);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
