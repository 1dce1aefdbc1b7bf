/* cmd_audit.c - `simpkictl audit replay`: read every event topic from the
 * beginning to its end as of the start (kafka_reader.h, read-only) and prove
 * from the topics alone that nothing was removed, altered or reordered:
 * each message an event whose hash matches its content, each subject's
 * hash chain whole across the topics (audit_chain.c), and the workflow's
 * rules on the events' data (audit_invariants.c). Filters choose what is
 * reported; the chains are always checked whole.
 *
 * Exit: 0 clean, 1 findings, 2 usage, 3 the topics could not be read. */
#include <getopt.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_chain.h"
#include "audit_invariants.h"
#include "audit_map.h"
#include "audit_select.h"
#include "cmds.h"
#include "config.h"
#include "event.h"
#include "flow.h"
#include "kafka_reader.h"
#include "log.h"

#define EXIT_UNREADABLE 3
#define DEFAULT_TIMEOUT_MS 10000
#define MAX_TOPICS 64

static const char *const default_topics[] = {
    "orders", "vendors",     "batches",       "registrations",
    "sims",   "connections", "notifications", "accounts"};

/* Data fields the checks, the filters and the step counts use; the rest
 * of an event's data is not kept. */
static const char *const kept_fields[] = {"order_id",
                                          "bcycp_ref",
                                          "batch_id",
                                          "pilot_batch_id",
                                          "iccid",
                                          "iccid_first",
                                          "iccid_last",
                                          "vendor_id",
                                          "kind",
                                          "sims",
                                          "quantity",
                                          "loaded",
                                          "already_present",
                                          "failed",
                                          "persons"};

struct topic_count {
  const char *topic;
  unsigned long messages, events;
  int partitions;
};

struct replay {
  audit_event *evs;
  size_t n, cap;
  audit_findings early; /* found while reading: not events, lost starts */
  unsigned long not_events;
  struct topic_count topics[MAX_TOPICS];
  size_t ntopics;
  unsigned long messages;
  long start_ms, last_progress_ms;
  int progress_shown;
  int oom;
};

static void usage_audit(FILE *fp) {
  fprintf(fp, "Usage: simpkictl audit [--help] SUBCOMMAND [OPTIONS]\n\n"
              "Subcommands:\n"
              "  replay  read every event topic and prove nothing was "
              "removed, altered\n"
              "          or reordered, and the workflow's rules held\n\n"
              "Run 'simpkictl audit SUBCOMMAND --help' for its options.\n");
}

static void usage_replay(FILE *fp) {
  fprintf(
      fp,
      "Usage: simpkictl audit replay [--topic T ...] [--order ID|REF]\n"
      "                              [--batch ID] [--sim ICCID]\n"
      "                              [--from DATE] [--to DATE]\n"
      "                              [--format text|json] [--bootstrap B]\n"
      "                              [--timeout-ms N]\n\n"
      "Reads each topic from its beginning to its end as of the start, as "
      "a\n"
      "read-only consumer (no consumer group, no offset commits), and "
      "checks:\n"
      "  - every message is an event whose hash matches its content;\n"
      "  - every subject's hash chain, across all topics, runs from the "
      "genesis\n"
      "    with no gap, fork or stranger, and within one topic-partition in "
      "chain\n"
      "    order (redelivered copies of an event are not findings);\n"
      "  - the workflow's rules: no SIM connected before its batch was\n"
      "    provisioned, no ICCID range handed over twice, no sale before "
      "the\n"
      "    SIM's connection, a new vendor's pilot passed before its "
      "production\n"
      "    input files, each batch's counts adding up.\n"
      "Each finding names its topic, partition, offset, subject, event id "
      "and\n"
      "type and what is wrong: altered, removed, reordered, forged, "
      "unlinked,\n"
      "malformed, or the rule broken; a partition whose first messages "
      "are gone\n"
      "(retention, deletion) is named as removed. Prints the verdict "
      "(CLEAN or\n"
      "FINDINGS), the events read per topic, the subjects, the events and "
      "SIMs\n"
      "per step per order, and the findings. Progress goes to stderr every\n"
      "second.\n\n"
      "Options:\n"
      "  --topic T        topic to read (repeatable; default: orders "
      "vendors\n"
      "                   batches registrations sims connections "
      "notifications\n"
      "                   accounts)\n"
      "  --order ID|REF   report only the events of this order (MobiFone's "
      "order\n"
      "                   id or BCYCP's reference): correlation id or data\n"
      "  --batch ID       report only the events of this batch and its SIMs\n"
      "  --sim ICCID      report only the events of this SIM (and its "
      "ranges)\n"
      "  --from DATE      report only events from this time on (event "
      "time)\n"
      "  --to DATE        report only events before this time; a date "
      "alone\n"
      "                   includes its whole day. DATE: YYYY-MM-DD (a day "
      "in\n"
      "                   Asia/Ho_Chi_Minh) or RFC 3339, e.g.\n"
      "                   2026-11-25T17:30:00Z\n"
      "                   With a filter the chains are still checked "
      "whole;\n"
      "                   findings and counts are those of the selection.\n"
      "  --format F       text (default) or json (one JSON object)\n"
      "  --bootstrap B    bootstrap servers (default "
      "$SIMPKI_KAFKA_BOOTSTRAP)\n"
      "  --timeout-ms N   give up after N ms without progress (default "
      "%d)\n"
      "  --help           show this help\n\n"
      "Exit status: 0 clean, 1 findings, 2 usage, 3 the topics could not "
      "be read\n"
      "(Kafka unreachable, a topic missing).\n\n"
      "Environment:\n"
      "  SIMPKI_KAFKA_BOOTSTRAP  default bootstrap servers\n"
      "  SIMPKI_KAFKA_CONFIG     extra librdkafka settings "
      "\"key=value,key=value\"\n",
      DEFAULT_TIMEOUT_MS);
}

static char *dup(const char *s) { return strdup(s ? s : ""); }

static struct topic_count *topic_of(struct replay *r, const char *topic) {
  for (size_t i = 0; i < r->ntopics; i++)
    if (r->topics[i].topic == topic || !strcmp(r->topics[i].topic, topic))
      return &r->topics[i];
  return NULL;
}

static void progress(struct replay *r, int last) {
  long now = sp_reader_now_ms();
  if (!last && (now - r->start_ms < 1000 || now - r->last_progress_ms < 1000))
    return;
  if (last && !r->progress_shown)
    return;
  double s = (double)(now - r->start_ms) / 1000.0;
  fprintf(stderr, "simpkictl audit replay: replayed %lu events, %.0f/s\n",
          r->messages, s > 0 ? (double)r->messages / s : 0.0);
  r->last_progress_ms = now;
  r->progress_shown = 1;
}

/* A partition whose first offset is above 0 lost its first messages
 * (retention, deletion): the topics can no longer prove them. */
static void on_partition(void *opaque, const char *topic, int32_t partition,
                         int64_t low, int64_t high) {
  struct replay *r = opaque;
  struct topic_count *tc = topic_of(r, topic);
  if (tc)
    tc->partitions++;
  if (low > 0 &&
      audit_findings_add(&r->early, AUDIT_REMOVED, NULL, NULL, AUDIT_NONE,
                         topic, partition, low,
                         "the partition starts at offset %lld (ends at %lld): "
                         "its first %lld message(s) are gone (retention or "
                         "deletion)",
                         (long long)low, (long long)high, (long long)low))
    r->oom = 1;
}

static int on_message(void *opaque, const char *topic, int32_t partition,
                      int64_t offset, const void *payload, size_t len) {
  struct replay *r = opaque;
  struct topic_count *tc = topic_of(r, topic);
  r->messages++;
  if (tc)
    tc->messages++;
  progress(r, 0);
  sp_event ev;
  char err[256];
  if (!payload || !len) {
    r->not_events++;
    if (audit_findings_add(&r->early, AUDIT_MALFORMED, NULL, NULL, AUDIT_NONE,
                           topic, partition, offset,
                           "not an event: the message is empty")) {
      r->oom = 1;
      return 1;
    }
    return 0;
  }
  if (sp_event_parse(payload, len, &ev, err, sizeof err)) {
    r->not_events++;
    if (audit_findings_add(&r->early, AUDIT_MALFORMED, NULL, NULL, AUDIT_NONE,
                           topic, partition, offset, "not an event: %s", err)) {
      r->oom = 1;
      return 1;
    }
    return 0;
  }
  if (tc)
    tc->events++;
  if (r->n == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 1024;
    audit_event *v = realloc(r->evs, cap * sizeof *v);
    if (!v) {
      sp_event_clear(&ev);
      r->oom = 1;
      return 1;
    }
    r->evs = v;
    r->cap = cap;
  }
  char content[SP_EVENT_HASH_HEX + 1] = "";
  char *canon = sp_event_canonical(&ev);
  if (canon) {
    sp_sha256_hex(canon, strlen(canon), content);
    free(canon);
  }
  json_t *data = json_object();
  for (size_t i = 0; data && i < sizeof kept_fields / sizeof *kept_fields;
       i++) {
    json_t *v = json_object_get(ev.data, kept_fields[i]);
    if (v && (json_is_string(v) || json_is_integer(v)))
      json_object_set(data, kept_fields[i], v);
  }
  audit_event *e = &r->evs[r->n];
  memset(e, 0, sizeof *e);
  e->topic = tc ? tc->topic : topic;
  e->partition = partition;
  e->offset = offset;
  e->id = dup(ev.id);
  e->subject = dup(ev.subject);
  e->type = dup(ev.type);
  e->time = dup(ev.time);
  e->correlationid = dup(ev.correlationid);
  e->prevhash = dup(ev.prevhash);
  e->hash = dup(ev.hash);
  e->content_hash = dup(content);
  e->data = data;
  if (sp_flow_parse_time(ev.time, &e->time_ms))
    e->time_ms = -1;
  sp_event_clear(&ev);
  r->n++;
  if (!e->id || !e->subject || !e->type || !e->time || !e->correlationid ||
      !e->prevhash || !e->hash || !e->content_hash || !data) {
    r->oom = 1;
    return 1;
  }
  return 0;
}

static void replay_free(struct replay *r) {
  for (size_t i = 0; i < r->n; i++) {
    audit_event *e = &r->evs[i];
    free((void *)e->id);
    free((void *)e->subject);
    free((void *)e->type);
    free((void *)e->time);
    free((void *)e->correlationid);
    free((void *)e->prevhash);
    free((void *)e->hash);
    free((void *)e->content_hash);
    json_decref((json_t *)e->data);
  }
  free(r->evs);
  audit_findings_free(&r->early);
}

/* ---- counts per order and step ---- */

struct order_counts {
  const char *order; /* "-" for events of no order */
  const char *bcycp_ref;
  sp_flow flow;
};

static const char *order_of(const audit_event *e) {
  if (!strncmp(e->correlationid, "ORD-", 4))
    return e->correlationid;
  const char *o = audit_data_str(e, "order_id");
  return o ? o : "-";
}

static int by_order(const void *a, const void *b) {
  const struct order_counts *x = a, *y = b;
  int xn = !strcmp(x->order, "-"), yn = !strcmp(y->order, "-");
  if (xn != yn)
    return xn - yn;
  return strcmp(x->order, y->order);
}

/* ---- the report ---- */

static void ev_json(json_t *o, const audit_event *evs, const audit_finding *f) {
  json_object_set_new(o, "topic", json_string(f->topic ? f->topic : ""));
  json_object_set_new(o, "partition", json_integer(f->partition));
  json_object_set_new(o, "offset", json_integer(f->offset));
  if (f->ev != AUDIT_NONE) {
    const audit_event *e = &evs[f->ev];
    json_object_set_new(o, "subject", json_string(e->subject));
    json_object_set_new(o, "id", json_string(e->id));
    json_object_set_new(o, "type", json_string(e->type));
  }
}

static int is_reported(const audit_finding *f, const char *sel) {
  return f->ev == AUDIT_NONE || sel[f->ev];
}

static int replay(int argc, char **argv) {
  static const struct option opts[] = {
      {"topic", required_argument, NULL, 't'},
      {"order", required_argument, NULL, 'o'},
      {"batch", required_argument, NULL, 'B'},
      {"sim", required_argument, NULL, 's'},
      {"from", required_argument, NULL, 'f'},
      {"to", required_argument, NULL, 'u'},
      {"format", required_argument, NULL, 'F'},
      {"bootstrap", required_argument, NULL, 'b'},
      {"timeout-ms", required_argument, NULL, 'T'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *topics[MAX_TOPICS];
  size_t ntopics = 0;
  const char *bootstrap = NULL, *format = "text";
  long timeout_ms = DEFAULT_TIMEOUT_MS;
  audit_filter flt;
  audit_filter_init(&flt);
  const char *from = NULL, *to = NULL;
  optind = 0;
  opterr = 0;
  int ch;
  while ((ch = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
    switch (ch) {
    case 't':
      if (ntopics == MAX_TOPICS || !*optarg) {
        fprintf(stderr, "simpkictl audit replay: %s\n",
                *optarg ? "too many topics" : "empty topic name");
        return SP_EXIT_USAGE;
      }
      for (size_t i = 0; i < ntopics; i++)
        if (!strcmp(topics[i], optarg)) {
          fprintf(stderr, "simpkictl audit replay: topic %s given twice\n",
                  optarg);
          return SP_EXIT_USAGE;
        }
      topics[ntopics++] = optarg;
      break;
    case 'o':
      flt.order = optarg;
      break;
    case 'B':
      flt.batch = optarg;
      break;
    case 's':
      flt.sim = optarg;
      break;
    case 'f':
      from = optarg;
      break;
    case 'u':
      to = optarg;
      break;
    case 'F':
      format = optarg;
      break;
    case 'b':
      bootstrap = optarg;
      break;
    case 'T': {
      char *end;
      timeout_ms = strtol(optarg, &end, 10);
      if (end == optarg || *end || timeout_ms <= 0 || timeout_ms > 86400000) {
        fprintf(stderr,
                "simpkictl audit replay: --timeout-ms must be a number of "
                "milliseconds between 1 and 86400000, not \"%s\"\n",
                optarg);
        return SP_EXIT_USAGE;
      }
      break;
    }
    case 'h':
      usage_replay(stdout);
      return SP_EXIT_OK;
    default:
      fprintf(stderr,
              "simpkictl audit replay: bad option or missing value: %s\n\n",
              argv[optind - 1]);
      usage_replay(stderr);
      return SP_EXIT_USAGE;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "simpkictl audit replay: unexpected argument \"%s\"\n\n",
            argv[optind]);
    usage_replay(stderr);
    return SP_EXIT_USAGE;
  }
  if (strcmp(format, "text") && strcmp(format, "json")) {
    fprintf(stderr,
            "simpkictl audit replay: --format must be text or json, not "
            "\"%s\"\n",
            format);
    return SP_EXIT_USAGE;
  }
  if ((flt.order && !*flt.order) || (flt.batch && !*flt.batch) ||
      (flt.sim && !*flt.sim)) {
    fprintf(stderr, "simpkictl audit replay: an empty filter value\n");
    return SP_EXIT_USAGE;
  }
  if (flt.sim && strspn(flt.sim, "0123456789") != strlen(flt.sim)) {
    fprintf(stderr,
            "simpkictl audit replay: --sim takes an ICCID (digits), not "
            "\"%s\"\n",
            flt.sim);
    return SP_EXIT_USAGE;
  }
  const char *bad_time = from && audit_filter_time(from, 0, &flt.from_ms) ? from
                         : to && audit_filter_time(to, 1, &flt.to_ms)     ? to
                                                                      : NULL;
  if (bad_time) {
    fprintf(stderr,
            "simpkictl audit replay: --from/--to take YYYY-MM-DD or an RFC "
            "3339 time (2026-11-25T17:30:00Z), not \"%s\"\n",
            bad_time);
    return SP_EXIT_USAGE;
  }
  if (flt.from_ms >= 0 && flt.to_ms >= 0 && flt.from_ms >= flt.to_ms) {
    fprintf(stderr, "simpkictl audit replay: --from is not before --to\n");
    return SP_EXIT_USAGE;
  }
  int any = audit_filter_any(&flt);
  if (!ntopics)
    for (size_t i = 0; i < sizeof default_topics / sizeof *default_topics; i++)
      topics[ntopics++] = default_topics[i];
  char err[512];
  if (!bootstrap && sp_config_str("SIMPKI_KAFKA_BOOTSTRAP", SP_CONFIG_REQUIRED,
                                  &bootstrap, err, sizeof(err)) != 0) {
    fprintf(stderr, "simpkictl audit replay: no --bootstrap given and "
                    "SIMPKI_KAFKA_BOOTSTRAP is not set\n");
    return SP_EXIT_USAGE;
  }

  struct replay r = {0};
  for (size_t i = 0; i < ntopics; i++)
    r.topics[r.ntopics++].topic = topics[i];
  r.start_ms = r.last_progress_ms = sp_reader_now_ms();
  rd_kafka_t *rk = sp_reader_new(bootstrap, "audit", NULL, err, sizeof err);
  if (!rk) {
    sp_error("audit replay failed", "error", err);
    return EXIT_UNREADABLE;
  }
  int rrc = sp_reader_read_to_end(rk, topics, ntopics, timeout_ms, on_partition,
                                  on_message, &r, err, sizeof err);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  progress(&r, 1);
  if (rrc || r.oom) {
    sp_error("audit replay failed", "error", r.oom ? "out of memory" : err);
    replay_free(&r);
    return r.oom ? SP_EXIT_FAIL : EXIT_UNREADABLE;
  }

  /* The checks. */
  int rc = SP_EXIT_FAIL;
  audit_findings fnd = {0};
  audit_chain_stats cst;
  audit_rule_stats rst[AUDIT_RULES];
  char *sel = NULL;
  struct order_counts *oc = NULL;
  size_t noc = 0;
  audit_map om;
  audit_map_init(&om);
  json_t *root = NULL;
  for (size_t i = 0; i < r.early.n; i++)
    if (audit_findings_add(&fnd, r.early.v[i].kind, NULL, NULL, AUDIT_NONE,
                           r.early.v[i].topic, r.early.v[i].partition,
                           r.early.v[i].offset, "%s", r.early.v[i].what))
      goto oom;
  if (audit_chain_check(r.evs, r.n, &fnd, &cst) ||
      audit_invariants_check(r.evs, r.n, &fnd, rst) ||
      audit_filter_resolve(&flt, r.evs, r.n))
    goto oom;

  /* The selection, its subjects, and counts per order and step. */
  sel = calloc(r.n ? r.n : 1, 1);
  oc = calloc(r.n ? r.n : 1, sizeof *oc);
  if (!sel || !oc)
    goto oom;
  size_t nsel = 0, nsel_subjects = 0;
  audit_map subj;
  audit_map_init(&subj);
  for (size_t i = 0; i < r.n; i++) {
    audit_event *e = &r.evs[i];
    if (!audit_filter_match(&flt, e))
      continue;
    sel[i] = 1;
    if (e->copy_of != AUDIT_NONE)
      continue;
    nsel++;
    int added = audit_map_put(&subj, e->subject, i, NULL);
    if (added < 0) {
      audit_map_free(&subj);
      goto oom;
    }
    nsel_subjects += (size_t)added;
    const char *o = order_of(e);
    size_t k;
    if (!audit_map_get(&om, o, &k)) {
      k = noc++;
      oc[k].order = o;
      sp_flow_init(&oc[k].flow);
      if (audit_map_put(&om, o, k, NULL) < 0) {
        audit_map_free(&subj);
        goto oom;
      }
    }
    if (!oc[k].bcycp_ref)
      oc[k].bcycp_ref = audit_data_str(e, "bcycp_ref");
    sp_flow_apply(&oc[k].flow, e->type, e->subject, e->time, e->data);
  }
  audit_map_free(&subj);
  audit_map_free(&om);
  qsort(oc, noc, sizeof *oc, by_order);
  size_t nfound = 0;
  for (size_t i = 0; i < fnd.n; i++)
    nfound += is_reported(&fnd.v[i], sel) != 0;
  const char *verdict = nfound ? "FINDINGS" : "CLEAN";

  if (!strcmp(format, "json")) {
    root = json_object();
    json_object_set_new(root, "verdict", json_string(verdict));
    json_t *tp = json_array();
    for (size_t i = 0; i < r.ntopics; i++)
      json_array_append_new(
          tp, json_pack("{s:s,s:i,s:I,s:I}", "topic", r.topics[i].topic,
                        "partitions", r.topics[i].partitions, "messages",
                        (json_int_t)r.topics[i].messages, "events",
                        (json_int_t)r.topics[i].events));
    json_object_set_new(root, "topics", tp);
    json_object_set_new(root, "messages", json_integer((json_int_t)r.messages));
    json_object_set_new(root, "events", json_integer((json_int_t)cst.unique));
    json_object_set_new(root, "not_events",
                        json_integer((json_int_t)r.not_events));
    json_object_set_new(root, "redelivered",
                        json_integer((json_int_t)cst.copies));
    json_object_set_new(root, "subjects",
                        json_integer((json_int_t)cst.subjects));
    if (any) {
      json_t *s = json_object();
      if (flt.order)
        json_object_set_new(s, "order", json_string(flt.order));
      if (flt.batch)
        json_object_set_new(s, "batch", json_string(flt.batch));
      if (flt.sim)
        json_object_set_new(s, "sim", json_string(flt.sim));
      if (from)
        json_object_set_new(s, "from", json_string(from));
      if (to)
        json_object_set_new(s, "to", json_string(to));
      json_object_set_new(s, "events", json_integer((json_int_t)nsel));
      json_object_set_new(s, "subjects",
                          json_integer((json_int_t)nsel_subjects));
      json_object_set_new(root, "selection", s);
    }
    json_t *ords = json_array();
    for (size_t k = 0; k < noc; k++) {
      json_t *steps = json_array();
      for (int st = 0; st < sp_flow_step_count(); st++) {
        const sp_flow_counts *c = &oc[k].flow.step[st];
        if (!c->events)
          continue;
        json_array_append_new(
            steps,
            json_pack("{s:s,s:s,s:I,s:I}", "step", sp_flow_step_at(st)->code,
                      "term", sp_flow_step_at(st)->term, "events",
                      (json_int_t)c->events, "sims", (json_int_t)c->sims));
      }
      json_t *o = json_pack("{s:s?,s:o}", "order",
                            strcmp(oc[k].order, "-") ? oc[k].order : NULL,
                            "steps", steps);
      if (oc[k].bcycp_ref)
        json_object_set_new(o, "bcycp_ref", json_string(oc[k].bcycp_ref));
      json_array_append_new(ords, o);
    }
    json_object_set_new(root, "orders", ords);
    json_t *rules = json_array();
    for (int k = 0; k < AUDIT_RULES; k++)
      json_array_append_new(
          rules, json_pack("{s:s,s:I,s:I}", "rule", rst[k].rule, "checked",
                           (json_int_t)rst[k].checked, "violations",
                           (json_int_t)rst[k].violations));
    json_object_set_new(root, "rules", rules);
    json_t *fa = json_array();
    for (size_t i = 0; i < fnd.n; i++) {
      const audit_finding *f = &fnd.v[i];
      if (!is_reported(f, sel))
        continue;
      json_t *o = json_object();
      json_object_set_new(o, "kind", json_string(audit_kind_name(f->kind)));
      if (f->rule)
        json_object_set_new(o, "rule", json_string(f->rule));
      ev_json(o, r.evs, f);
      json_object_set_new(o, "what", json_string(f->what));
      json_array_append_new(fa, o);
    }
    json_object_set_new(root, "findings", fa);
    if (json_dumpf(root, stdout, JSON_INDENT(2)) || fputc('\n', stdout) == EOF)
      goto oom;
  } else {
    printf("verdict: %s", verdict);
    if (nfound)
      printf(" (%zu finding%s)", nfound, nfound == 1 ? "" : "s");
    printf("\n\nread (to the end as of the start):\n");
    for (size_t i = 0; i < r.ntopics; i++)
      printf("  %-16s %8lu messages, %8lu events, %3d partition%s\n",
             r.topics[i].topic, r.topics[i].messages, r.topics[i].events,
             r.topics[i].partitions, r.topics[i].partitions == 1 ? "" : "s");
    printf("  %lu messages: %zu events, %zu redelivered copies, %lu not "
           "events\n",
           r.messages, cst.unique, cst.copies, r.not_events);
    printf("  %zu subjects, each chain checked whole\n", cst.subjects);
    if (any) {
      printf("\nselection:");
      if (flt.order)
        printf(" --order %s", flt.order);
      if (flt.batch)
        printf(" --batch %s", flt.batch);
      if (flt.sim)
        printf(" --sim %s", flt.sim);
      if (from)
        printf(" --from %s", from);
      if (to)
        printf(" --to %s", to);
      printf(": %zu events, %zu subjects\n", nsel, nsel_subjects);
    }
    printf("\nrules (on all events):\n");
    for (int k = 0; k < AUDIT_RULES; k++)
      printf("  %-28s %8lu checked, %lu violated\n", rst[k].rule,
             rst[k].checked, rst[k].violations);
    printf("\nper order and step:\n");
    for (size_t k = 0; k < noc; k++) {
      if (strcmp(oc[k].order, "-"))
        printf("  order %s%s%s%s\n", oc[k].order,
               oc[k].bcycp_ref ? " (BCYCP " : "",
               oc[k].bcycp_ref ? oc[k].bcycp_ref : "",
               oc[k].bcycp_ref ? ")" : "");
      else
        printf("  no order\n");
      for (int st = 0; st < sp_flow_step_count(); st++) {
        const sp_flow_counts *c = &oc[k].flow.step[st];
        if (c->events)
          printf("    %-5s %-18s %6lu events %8lld SIMs\n",
                 sp_flow_step_at(st)->code, sp_flow_step_at(st)->term,
                 c->events, c->sims);
      }
      if (oc[k].flow.ignored)
        printf("    %-5s %-18s %6lu events\n", "-", "no step",
               oc[k].flow.ignored);
    }
    if (nfound) {
      printf("\nfindings:\n");
      for (size_t i = 0; i < fnd.n; i++) {
        const audit_finding *f = &fnd.v[i];
        if (!is_reported(f, sel))
          continue;
        printf("  %s", audit_kind_name(f->kind));
        if (f->rule)
          printf(" %s", f->rule);
        printf(": %s[%d]@%lld", f->topic ? f->topic : "", (int)f->partition,
               (long long)f->offset);
        if (f->ev != AUDIT_NONE) {
          const audit_event *e = &r.evs[f->ev];
          printf(" %s event %s (%s)", e->subject, e->id, e->type);
        }
        printf(": %s\n", f->what);
      }
    }
  }
  if (fflush(stdout) != 0 || ferror(stdout)) {
    sp_error("audit replay failed", "error", "cannot write to stdout");
    rc = SP_EXIT_FAIL;
  } else {
    rc = nfound ? SP_EXIT_FAIL : SP_EXIT_OK;
  }
  goto done;
oom:
  sp_error("audit replay failed", "error", "out of memory");
  rc = SP_EXIT_FAIL;
done:
  json_decref(root);
  audit_map_free(&om);
  free(oc);
  free(sel);
  audit_filter_free(&flt);
  audit_findings_free(&fnd);
  replay_free(&r);
  return rc;
}

int sp_cmd_audit(int argc, char **argv) {
  if (argc < 2) {
    usage_audit(stderr);
    return SP_EXIT_USAGE;
  }
  if (sp_is_help(argv[1])) {
    usage_audit(stdout);
    return SP_EXIT_OK;
  }
  if (!strcmp(argv[1], "replay"))
    return replay(argc - 1, argv + 1);
  fprintf(stderr, "simpkictl audit: unknown subcommand \"%s\"\n\n", argv[1]);
  usage_audit(stderr);
  return SP_EXIT_USAGE;
}
