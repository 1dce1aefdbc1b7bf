/* flow.c - the steps table, the event types of each step, and the fold.
 * flow.h says which step holds what and why. */
#include "flow.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum {
  ST_A4,
  ST_A5,
  ST_B1,
  ST_B2,
  ST_B3,
  ST_B4,
  ST_B5,
  ST_B6,
  ST_B7,
  ST_B8,
  ST_SHOP,
  ST_B9,
  ST_B10,
  ST_B11,
  ST_INC,
  ST_VCSP,
  ST_MSG,
  ST_COUNT
};

static const sp_flow_step steps[ST_COUNT] = {
    [ST_A4] = {"A4", "Thông báo của Cục CTS", "notices"},
    [ST_A5] = {"A5", "Liên hệ trong 3 ngày làm việc", "contact"},
    [ST_B1] = {"B1", "Đơn hàng của BCYCP", "order"},
    [ST_B2] = {"B2", "Lô SIM, nhà cung cấp", "batches, vendors"},
    [ST_B3] = {"B3", "Cấp file đầu vào", "input file"},
    [ST_B4] = {"B4", "Nhận file đầu ra", "output file"},
    [ST_B5] = {"B5", "Nạp vào AuC/HLR", "HLR loading"},
    [ST_B6] = {"B6", "Báo kết quả nạp", "HLR report"},
    [ST_B7] = {"B7", "Bàn giao cho CTKV", "handover"},
    [ST_B8] = {"B8", "Nhập kho CTKV", "stock-in"},
    [ST_SHOP] = {"SHOP", "Điều chuyển về cửa hàng", "to a shop"},
    [ST_B9] = {"B9", "Đấu nối thuê bao", "connection"},
    [ST_B10] = {"B10", "Xuất bán, hóa đơn", "sale, invoice"},
    [ST_B11] = {"B11", "Khách hàng nhận SIM", "delivery"},
    [ST_INC] = {"INC", "SIM hỏng, trả lại", "faulty, returned"},
    [ST_VCSP] = {"VCSP", "Tài khoản ký số VCSP", "signing accounts"},
    [ST_MSG] = {"MSG", "Gửi thông báo", "messages"},
};

_Static_assert(ST_COUNT <= SP_FLOW_MAX_STEPS, "raise SP_FLOW_MAX_STEPS");

/* How an event counts SIMs: ONE per event, or the sum of up to two
 * integer data fields, or NONE. */
enum sims_rule { NONE, ONE, FIELDS };

static const struct sp_flow_type {
  const char *type;
  int step;
  enum sims_rule rule;
  const char *field[2];
} types[] = {
    {"registration.imported", ST_A4, FIELDS, {"persons"}},
    {"registration.rejected", ST_A4, NONE, {0}},
    {"case.opened", ST_A4, NONE, {0}}, /* counted by the notice's persons */
    {"case.contacted", ST_A5, NONE, {0}},
    {"case.reminded", ST_A5, NONE, {0}},
    {"case.breached", ST_A5, NONE, {0}},
    {"case.closed", ST_A5, ONE, {0}}, /* a SIM connected for the case */
    {"order.submitted", ST_B1, NONE, {0}},
    {"order.accepted", ST_B1, FIELDS, {"quantity"}},
    {"order.rejected", ST_B1, NONE, {0}},
    {"vendor.registered", ST_B2, NONE, {0}},
    {"vendor.agreement_recorded", ST_B2, NONE, {0}},
    /* The pilot batch has its own batch.released. */
    {"vendor.pilot_started", ST_B2, NONE, {0}},
    {"vendor.pilot_passed", ST_B2, NONE, {0}},
    {"vendor.pilot_failed", ST_B2, NONE, {0}},
    {"order.in_production", ST_B2, NONE, {0}},
    {"order.blocked", ST_B2, NONE, {0}},
    {"batch.released", ST_B2, FIELDS, {"quantity"}},
    /* A held batch is released later by its own batch.released. */
    {"batch.held", ST_B2, NONE, {0}},
    {"batch.passed", ST_B2, NONE, {0}},
    {"batch.failed", ST_B2, NONE, {0}},
    {"batch.input_issued", ST_B3, FIELDS, {"quantity"}},
    {"batch.input_failed", ST_B3, NONE, {0}},
    {"batch.output_accepted", ST_B4, FIELDS, {"sims"}},
    {"batch.output_rejected", ST_B4, NONE, {0}},
    /* Failed SIMs did not get through the step. */
    {"batch.provisioned", ST_B6, FIELDS, {"loaded", "already_present"}},
    {"sims.handed_over", ST_B7, FIELDS, {"sims"}},
    {"sims.stocked_in", ST_B8, FIELDS, {"sims"}},
    {"sims.transferred", ST_SHOP, FIELDS, {"sims"}},
    {"sims.walked_in", ST_SHOP, FIELDS, {"sims"}},
    /* The SIM of a connection is counted once, by sim.connected. */
    {"connection.requested", ST_B9, NONE, {0}},
    {"connection.hlr_done", ST_B9, NONE, {0}},
    {"connection.hlr_failed", ST_B9, NONE, {0}},
    {"sim.connect_failed", ST_B9, NONE, {0}},
    {"sim.connected", ST_B9, ONE, {0}},
    {"sim.sold", ST_B10, ONE, {0}},
    {"sim.delivered", ST_B11, ONE, {0}},
    {"sim.faulty", ST_INC, ONE, {0}},
    {"sim.returned", ST_INC, ONE, {0}},
    {"account.created", ST_VCSP, ONE, {0}}, /* one account per SIM */
    {"login.succeeded", ST_VCSP, NONE, {0}},
    {"login.failed", ST_VCSP, NONE, {0}},
    {"login.locked", ST_VCSP, NONE, {0}},
    {"otp.sent", ST_VCSP, NONE, {0}},
    {"otp.failed", ST_VCSP, NONE, {0}},
    {"password.reset", ST_VCSP, NONE, {0}},
    {"recovery.locked", ST_VCSP, NONE, {0}},
    {"recovery.unlocked", ST_VCSP, NONE, {0}},
    {"notification.sent", ST_MSG, NONE, {0}},
    {"notification.failed", ST_MSG, NONE, {0}},
};

/* rule_of runs per event (twice) in an audit replay: a table by a hash
 * of the type, built before main, leaves one comparison where a scan of
 * the types made tens. */
#define TYPE_SLOTS 128 /* a power of two, over twice the types */
_Static_assert(sizeof types / sizeof *types * 2 <= TYPE_SLOTS,
               "raise TYPE_SLOTS");
static unsigned char type_slot[TYPE_SLOTS]; /* 1 + index in types; 0 none */

static unsigned type_hash(const char *s) {
  uint32_t h = 2166136261u; /* FNV-1a */
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 16777619u;
  return h & (TYPE_SLOTS - 1);
}

__attribute__((constructor)) static void index_types(void) {
  for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
    unsigned k = type_hash(types[i].type);
    while (type_slot[k])
      k = (k + 1) & (TYPE_SLOTS - 1);
    type_slot[k] = (unsigned char)(i + 1);
  }
}

static const struct sp_flow_type *rule_of(const char *type) {
  if (!type)
    return NULL;
  for (unsigned k = type_hash(type); type_slot[k];
       k = (k + 1) & (TYPE_SLOTS - 1)) {
    const struct sp_flow_type *r = &types[type_slot[k] - 1];
    if (!strcmp(r->type, type))
      return r;
  }
  return NULL;
}

int sp_flow_step_count(void) { return ST_COUNT; }

const sp_flow_step *sp_flow_step_at(int i) {
  return i >= 0 && i < ST_COUNT ? &steps[i] : NULL;
}

int sp_flow_step_of(const char *type) {
  const struct sp_flow_type *r = rule_of(type);
  return r ? r->step : -1;
}

int sp_flow_step_by_code(const char *code) {
  for (int i = 0; code && i < ST_COUNT; i++)
    if (!strcmp(steps[i].code, code))
      return i;
  return -1;
}

int sp_flow_step_of_sim_state(const char *state) {
  static const struct {
    const char *state;
    int step;
  } map[] = {
      {"produced", ST_B4},    {"provisioned", ST_B6}, {"hlr_failed", ST_B6},
      {"handed_over", ST_B7}, {"in_stock", ST_B8},    {"at_shop", ST_SHOP},
      {"connected", ST_B9},   {"sold", ST_B10},       {"delivered", ST_B11},
      {"faulty", ST_INC},     {"returned", ST_INC}};
  for (size_t i = 0; state && i < sizeof map / sizeof *map; i++)
    if (!strcmp(map[i].state, state))
      return map[i].step;
  return -1;
}

static long long json_field(void *ctx, const char *name) {
  const json_t *v = json_object_get(ctx, name);
  return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

const sp_flow_type *sp_flow_type_of(const char *type) { return rule_of(type); }

long long sp_flow_sims_by(const char *type,
                          long long (*get)(void *ctx, const char *field),
                          void *ctx) {
  return sp_flow_type_sims(rule_of(type), get, ctx);
}

long long sp_flow_type_sims(const sp_flow_type *r,
                            long long (*get)(void *ctx, const char *field),
                            void *ctx) {
  if (!r || r->rule == NONE)
    return 0;
  if (r->rule == ONE)
    return 1;
  /* Schemas bound each field far below this; a forged event must not
   * overflow the counters. */
  const long long cap = 1LL << 40;
  long long sum = 0;
  for (int k = 0; k < 2; k++) {
    long long v = r->field[k] ? get(ctx, r->field[k]) : 0;
    sum += v < 0 ? 0 : v > cap ? cap : v;
  }
  return sum;
}

long long sp_flow_sims_of(const char *type, const json_t *data) {
  const struct sp_flow_type *r = rule_of(type);
  if (r && r->rule != NONE && r->rule != ONE && !json_is_object(data))
    return 0;
  return sp_flow_sims_by(type, json_field, (void *)data);
}

/* Digits at s[0..n-1] as a number, or -1. */
static int digits(const char *s, int n) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (!isdigit((unsigned char)s[i]))
      return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * algorithm): no timegm, no time zone. */
static long long days_from_civil(int y, int m, int d) {
  y -= m <= 2;
  long long era = (y >= 0 ? y : y - 399) / 400;
  long long yoe = y - era * 400;
  long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int sp_flow_parse_time(const char *s, long long *ms) {
  if (!s || strlen(s) < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
      s[13] != ':' || s[16] != ':')
    return -1;
  int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2),
      h = digits(s + 11, 2), mi = digits(s + 14, 2), sec = digits(s + 17, 2);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 ||
      mi < 0 || mi > 59 || sec < 0 || sec > 60)
    return -1;
  const char *p = s + 19;
  int frac = 0;
  if (*p == '.') {
    int n = 0;
    for (p++; isdigit((unsigned char)*p); p++, n++)
      if (n < 3)
        frac = frac * 10 + (*p - '0');
    if (n == 0)
      return -1;
    for (; n < 3; n++)
      frac *= 10;
  }
  long long offset_min = 0;
  if (*p == 'Z' && p[1] == '\0') {
    /* UTC */
  } else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
    int oh = digits(p + 1, 2), om = digits(p + 4, 2);
    if (oh < 0 || oh > 23 || om < 0 || om > 59)
      return -1;
    offset_min = (*p == '-' ? -1 : 1) * (oh * 60LL + om);
  } else {
    return -1;
  }
  long long secs = days_from_civil(y, mo, d) * 86400LL + h * 3600LL +
                   mi * 60LL + sec - offset_min * 60;
  *ms = secs * 1000 + frac;
  return 0;
}

void sp_flow_init(sp_flow *f) { memset(f, 0, sizeof *f); }

/* Copies s into dst (cap bytes), cut: snprintf's result without its cost
 * (this runs per event in an audit replay). */
static void copy_cut(char *dst, size_t cap, const char *s) {
  size_t n = s ? strnlen(s, cap - 1) : 0;
  if (n)
    memcpy(dst, s, n);
  dst[n] = '\0';
}

int sp_flow_apply_counted(sp_flow *f, const char *type, const char *subject,
                          long long time_ms, long long sims) {
  return sp_flow_apply_type(f, rule_of(type), subject, time_ms, sims);
}

int sp_flow_count_type(sp_flow *f, const sp_flow_type *ft, long long time_ms,
                       long long sims) {
  if (!ft) {
    f->ignored++;
    return -1;
  }
  long long t = time_ms > 0 ? time_ms : 0;
  sp_flow_counts *c = &f->step[ft->step];
  c->events++;
  c->sims += sims;
  /* Partitions interleave, so times arrive out of order. */
  if (t && (!c->first_ms || t < c->first_ms))
    c->first_ms = t;
  if (t && t > c->last_ms)
    c->last_ms = t;
  f->events++;
  return ft->step;
}

int sp_flow_apply_type(sp_flow *f, const sp_flow_type *ft, const char *subject,
                       long long time_ms, long long sims) {
  int step = sp_flow_count_type(f, ft, time_ms, sims);
  if (step < 0)
    return -1;
  copy_cut(f->step[step].last_type, sizeof f->step[step].last_type, ft->type);
  sp_flow_recent *r = &f->recent[f->next_recent];
  r->time_ms = time_ms > 0 ? time_ms : 0;
  r->step = step;
  copy_cut(r->type, sizeof r->type, ft->type);
  copy_cut(r->subject, sizeof r->subject, subject);
  f->next_recent = (f->next_recent + 1) % SP_FLOW_RECENT;
  if (f->nrecent < SP_FLOW_RECENT)
    f->nrecent++;
  return step;
}

int sp_flow_apply(sp_flow *f, const char *type, const char *subject,
                  const char *time_iso, const json_t *data) {
  long long t = 0;
  if (sp_flow_parse_time(time_iso, &t) != 0)
    t = 0;
  return sp_flow_apply_counted(f, type, subject, t,
                               sp_flow_sims_of(type, data));
}

const sp_flow_recent *sp_flow_recent_at(const sp_flow *f, size_t i) {
  if (i >= f->nrecent)
    return NULL;
  size_t oldest =
      (f->next_recent + SP_FLOW_RECENT - f->nrecent) % SP_FLOW_RECENT;
  return &f->recent[(oldest + i) % SP_FLOW_RECENT];
}
