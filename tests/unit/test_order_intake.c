/* Unit tests for order-intake's pure core: the BCYCP order document, vendor
 * onboarding states and batch planning, Cục CTS notices (CSV and JSON). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "order.h"
#include "plan.h"
#include "registration.h"

static char err[512];

#define GOOD_ORDER                                                          \
  "{\"bcycp_ref\":\"BCYCP-2026-0042\",\"issued_on\":\"2026-11-20\","        \
  "\"vendor\":\"THALES-VN\",\"quantity\":1000,\"profile\":\"usim_milenage\"," \
  "\"contact\":{\"name\":\"Nguy\xe1\xbb\x85n V\xc4\x83n An\","              \
  "\"email\":\"an@bcy.gov.vn\",\"phone\":\"0901234567\"}}"

START_TEST(order_good) {
  oi_order o;
  ck_assert_int_eq(oi_order_parse(GOOD_ORDER, strlen(GOOD_ORDER), 100000, &o,
                                  err, sizeof err),
                   OI_OK);
  ck_assert_str_eq(o.bcycp_ref, "BCYCP-2026-0042");
  ck_assert_str_eq(o.vendor_id, "THALES-VN");
  ck_assert_int_eq(o.quantity, 1000);
  ck_assert_int_eq(o.profile, OI_PROFILE_USIM_MILENAGE);
  ck_assert_int_eq(o.pilot_quantity, 0);
  ck_assert_str_eq(o.contact_phone, "84901234567");
  ck_assert_ptr_nonnull(o.document);
  oi_order_clear(&o);
  ck_assert_ptr_null(o.document);
}
END_TEST

/* Each bad document: the error kind and a phrase of the reason. */
static const struct {
  const char *doc;
  oi_error want;
  const char *reason;
} bad_orders[] = {
    {"", OI_BAD_DOCUMENT, "not valid JSON"},
    {"[1,2]", OI_BAD_DOCUMENT, "must be a JSON object"},
    {"{\"bcycp_ref\":\"A-1\",\"bcycp_ref\":\"A-2\"}", OI_BAD_DOCUMENT,
     "not valid JSON"},
    {"{\"bcycp_ref\":\"BCYCP-1\",\"extra\":1}", OI_BAD_DOCUMENT,
     "unknown field \"extra\""},
    {"{\"issued_on\":\"2026-11-20\"}", OI_BAD_DOCUMENT, "bcycp_ref"},
    {"{\"bcycp_ref\":\"a b\"}", OI_BAD_DOCUMENT, "bcycp_ref"},
    {"{\"bcycp_ref\":\"BCYCP-1\",\"issued_on\":\"2026-02-30\"}",
     OI_BAD_DOCUMENT, "issued_on"},
    {"{\"bcycp_ref\":\"BCYCP-1\",\"issued_on\":\"2026-11-20\"}",
     OI_BAD_DOCUMENT, "vendor"},
    /* sscanf's %2d took a sign or a blank (found by tests/fuzz/fuzz_order). */
    {"{\"bcycp_ref\":\"BCYCP-1\",\"issued_on\":\"2026-+1-20\"}",
     OI_BAD_DOCUMENT, "issued_on"},
    {"{\"bcycp_ref\":\"BCYCP-1\",\"issued_on\":\" 2026-1-20\"}",
     OI_BAD_DOCUMENT, "issued_on"},
    {"{\"bcycp_ref\":\"BCYCP-1\",\"issued_on\":\"2026-11-20\",\"vendor\":"
     "\"v1\"}",
     OI_BAD_DOCUMENT, "vendor"},
    {"{\"bcycp_ref\":\"BCYCP-1\",\"issued_on\":\"2026-11-20\",\"vendor\":"
     "\"VEN\",\"quantity\":\"10\"}",
     OI_BAD_DOCUMENT, "quantity is missing or not a whole number"},
    {"{\"bcycp_ref\":\"BCYCP-1\",\"issued_on\":\"2026-11-20\",\"vendor\":"
     "\"VEN\",\"quantity\":0}",
     OI_BAD_QUANTITY, "between 1 and 100000, not 0"},
    {"{\"bcycp_ref\":\"BCYCP-1\",\"issued_on\":\"2026-11-20\",\"vendor\":"
     "\"VEN\",\"quantity\":-5}",
     OI_BAD_QUANTITY, "not -5"},
    {"{\"bcycp_ref\":\"BCYCP-1\",\"issued_on\":\"2026-11-20\",\"vendor\":"
     "\"VEN\",\"quantity\":100001}",
     OI_BAD_QUANTITY, "not 100001"},
    {"{\"bcycp_ref\":\"BCYCP-1\",\"issued_on\":\"2026-11-20\",\"vendor\":"
     "\"VEN\",\"quantity\":10,\"profile\":\"esim\"}",
     OI_BAD_DOCUMENT, "profile must be"},
    {"{\"bcycp_ref\":\"BCYCP-1\",\"issued_on\":\"2026-11-20\",\"vendor\":"
     "\"VEN\",\"quantity\":10,\"profile\":\"2g_comp128\",\"pilot_quantity\":"
     "4}",
     OI_BAD_PILOT, "5 to 10 SIMs, not 4"},
    {"{\"bcycp_ref\":\"BCYCP-1\",\"issued_on\":\"2026-11-20\",\"vendor\":"
     "\"VEN\",\"quantity\":10,\"profile\":\"2g_comp128\",\"pilot_quantity\":"
     "11}",
     OI_BAD_PILOT, "not 11"},
    {"{\"bcycp_ref\":\"BCYCP-1\",\"issued_on\":\"2026-11-20\",\"vendor\":"
     "\"VEN\",\"quantity\":10,\"profile\":\"2g_comp128\"}",
     OI_BAD_DOCUMENT, "contact"},
    {"{\"bcycp_ref\":\"BCYCP-1\",\"issued_on\":\"2026-11-20\",\"vendor\":"
     "\"VEN\",\"quantity\":10,\"profile\":\"2g_comp128\",\"contact\":{"
     "\"name\":\"A\",\"email\":\"nomail\"}}",
     OI_BAD_DOCUMENT, "contact"},
    {"{\"bcycp_ref\":\"BCYCP-1\",\"issued_on\":\"2026-11-20\",\"vendor\":"
     "\"VEN\",\"quantity\":10,\"profile\":\"2g_comp128\",\"contact\":{"
     "\"name\":\"A\",\"email\":\"a@b\",\"phone\":\"0241234567\"}}",
     OI_BAD_DOCUMENT, "contact.phone: phone number \"0241234567\" is not a "
                      "mobile number"},
    {"{\"bcycp_ref\":\"BCYCP-1\",\"issued_on\":\"2026-11-20\",\"vendor\":"
     "\"VEN\",\"quantity\":10,\"profile\":\"2g_comp128\",\"contact\":{"
     "\"name\":\"A\",\"email\":\"a@b\",\"fax\":\"1\"}}",
     OI_BAD_DOCUMENT, "contact"},
    {"{\"bcycp_ref\":\"BCYCP-1\",\"issued_on\":\"2026-11-20\",\"vendor\":"
     "\"VEN\",\"quantity\":10,\"profile\":\"2g_comp128\",\"contact\":{"
     "\"name\":\"A\",\"email\":\"a@b\"},\"note\":7}",
     OI_BAD_DOCUMENT, "note"},
};

START_TEST(order_bad) {
  oi_order o;
  err[0] = '\0';
  oi_error e = oi_order_parse(bad_orders[_i].doc, strlen(bad_orders[_i].doc),
                              100000, &o, err, sizeof err);
  ck_assert_msg(e == bad_orders[_i].want, "case %d: got %s (%s)", _i,
                oi_error_code(e), err);
  ck_assert_msg(strstr(err, bad_orders[_i].reason) != NULL,
                "case %d: reason \"%s\"", _i, err);
  ck_assert_ptr_null(o.document);
}
END_TEST

START_TEST(vendor_transitions) {
  oi_vendor_state to = OI_VENDOR_STATE_COUNT;
  ck_assert_int_eq(oi_vendor_next(OI_VENDOR_NEW, OI_VENDOR_SIGN_AGREEMENT, &to,
                                  err, sizeof err),
                   OI_OK);
  ck_assert_int_eq(to, OI_VENDOR_AGREEMENT_SIGNED);
  ck_assert_int_eq(oi_vendor_next(OI_VENDOR_AGREEMENT_SIGNED,
                                  OI_VENDOR_START_PILOT, &to, err, sizeof err),
                   OI_OK);
  ck_assert_int_eq(to, OI_VENDOR_PILOT_RUNNING);
  ck_assert_int_eq(oi_vendor_next(OI_VENDOR_PILOT_RUNNING,
                                  OI_VENDOR_PASS_PILOT, &to, err, sizeof err),
                   OI_OK);
  ck_assert_int_eq(to, OI_VENDOR_CONNECTED);
  ck_assert_int_eq(oi_vendor_next(OI_VENDOR_PILOT_RUNNING,
                                  OI_VENDOR_FAIL_PILOT, &to, err, sizeof err),
                   OI_OK);
  ck_assert_int_eq(to, OI_VENDOR_BLOCKED);
  /* Every other pair is refused with a reason naming the state. */
  int refused = 0;
  for (int s = 0; s < OI_VENDOR_STATE_COUNT; s++)
    for (int a = OI_VENDOR_SIGN_AGREEMENT; a <= OI_VENDOR_FAIL_PILOT; a++) {
      to = OI_VENDOR_STATE_COUNT;
      oi_error e = oi_vendor_next(s, a, &to, err, sizeof err);
      if (e == OI_OK)
        continue;
      refused++;
      ck_assert_int_eq(e, OI_BAD_STATE);
      ck_assert_int_eq(to, OI_VENDOR_STATE_COUNT);
      ck_assert_ptr_nonnull(strstr(err, oi_vendor_state_name(s)));
    }
  ck_assert_int_eq(refused, 5 * 4 - 4);
  oi_vendor_state parsed;
  ck_assert_int_eq(oi_vendor_state_parse("pilot_running", &parsed), 0);
  ck_assert_int_eq(parsed, OI_VENDOR_PILOT_RUNNING);
  ck_assert_int_eq(oi_vendor_state_parse("live", &parsed), -1);
}
END_TEST

START_TEST(plan_connected_vendor) {
  static oi_plan p;
  ck_assert_int_eq(oi_plan_order(OI_VENDOR_CONNECTED, NULL, 2500, 0, 1000, &p,
                                 err, sizeof err),
                   OI_OK);
  ck_assert_int_eq(p.nbatches, 3);
  long sum = 0;
  for (int i = 0; i < 3; i++) {
    ck_assert_int_eq(p.batches[i].is_pilot, 0);
    ck_assert_int_eq(p.batches[i].released, 1);
    ck_assert_int_eq(p.batches[i].seq, i + 1);
    sum += p.batches[i].quantity;
  }
  ck_assert_int_eq(p.batches[2].quantity, 500);
  ck_assert_int_eq(sum, 2500);
  ck_assert_str_eq(p.order_state, "in_production");
  ck_assert_int_eq(p.vendor_after, OI_VENDOR_CONNECTED);
}
END_TEST

START_TEST(plan_new_vendor_pilot) {
  static oi_plan p;
  ck_assert_int_eq(oi_plan_order(OI_VENDOR_AGREEMENT_SIGNED, NULL, 1000, 7,
                                 1000, &p, err, sizeof err),
                   OI_OK);
  ck_assert_int_eq(p.nbatches, 2);
  ck_assert_int_eq(p.batches[0].is_pilot, 1);
  ck_assert_int_eq(p.batches[0].quantity, 7);
  ck_assert_int_eq(p.batches[0].released, 1);
  ck_assert_int_eq(p.batches[1].is_pilot, 0);
  ck_assert_int_eq(p.batches[1].released, 0); /* held until the pilot passes */
  ck_assert_str_eq(p.order_state, "waiting_pilot");
  ck_assert_int_eq(p.vendor_after, OI_VENDOR_PILOT_RUNNING);
  /* Default pilot size; a second order while the pilot runs waits too. */
  ck_assert_int_eq(oi_plan_order(OI_VENDOR_AGREEMENT_SIGNED, NULL, 10, 0, 1000,
                                 &p, err, sizeof err),
                   OI_OK);
  ck_assert_int_eq(p.batches[0].quantity, OI_PILOT_DEFAULT);
  ck_assert_int_eq(oi_plan_order(OI_VENDOR_PILOT_RUNNING, NULL, 10, 0, 1000,
                                 &p, err, sizeof err),
                   OI_OK);
  ck_assert_int_eq(p.nbatches, 1);
  ck_assert_int_eq(p.batches[0].released, 0);
}
END_TEST

START_TEST(plan_refusals) {
  static oi_plan p;
  ck_assert_int_eq(oi_plan_order(OI_VENDOR_NEW, NULL, 10, 0, 1000, &p, err,
                                 sizeof err),
                   OI_NO_AGREEMENT);
  ck_assert_ptr_nonnull(strstr(err, "no confidentiality agreement"));
  ck_assert_int_eq(oi_plan_order(OI_VENDOR_BLOCKED, "pilot SIMs failed OTA",
                                 10, 0, 1000, &p, err, sizeof err),
                   OI_VENDOR_REFUSED);
  ck_assert_str_eq(err, "the vendor is blocked: pilot SIMs failed OTA");
  ck_assert_int_eq(oi_plan_order(OI_VENDOR_CONNECTED, NULL, 10, 5, 1000, &p,
                                 err, sizeof err),
                   OI_BAD_PILOT);
  ck_assert_int_eq(oi_plan_order(OI_VENDOR_AGREEMENT_SIGNED, NULL, 10, 11,
                                 1000, &p, err, sizeof err),
                   OI_BAD_PILOT);
  ck_assert_int_eq(oi_plan_order(OI_VENDOR_CONNECTED, NULL, 1000001, 0, 1000,
                                 &p, err, sizeof err),
                   OI_BAD_QUANTITY);
  ck_assert_ptr_nonnull(strstr(err, "1001 batches"));
  ck_assert_int_eq(p.nbatches, 0);
}
END_TEST

#define CSV_HEADER "agency,full_name,id_number,msisdn,wants_new_number\n"

START_TEST(csv_good) {
  const char *csv =
      "\xEF\xBB\xBF" "Agency,Full_Name,ID_Number,MSISDN,Wants_New_Number\r\n"
      "\"S\xe1\xbb\x9f T\xc3\xa0i ch\xc3\xadnh H\xc3\xa0 N\xe1\xbb\x99i\","
      "Tr\xe1\xba\xa7n Th\xe1\xbb\x8b Mai,001190000001,0901234567,no\r\n"
      "\r\n"
      "\"B\xe1\xbb\x99 T\xc6\xb0 ph\xc3\xa1p, V\xe1\xbb\xa5 1\","
      "\"L\xc3\xaa \"\"Minh\"\" Tu\xe1\xba\xa5n\",001190000002,,c\xc3\xb3\n";
  oi_notice n;
  ck_assert_int_eq(oi_notice_parse_csv(csv, strlen(csv), "CTS-2026-11-001",
                                       &n, err, sizeof err),
                   OI_OK);
  ck_assert_int_eq(n.count, 2);
  ck_assert_str_eq(n.notice_ref, "CTS-2026-11-001");
  ck_assert_str_eq(n.persons[0].full_name,
                   "Tr\xe1\xba\xa7n Th\xe1\xbb\x8b Mai");
  ck_assert_str_eq(n.persons[0].msisdn, "84901234567");
  ck_assert_int_eq(n.persons[0].wants_new_number, 0);
  ck_assert_int_eq(n.persons[0].line, 2);
  ck_assert_str_eq(n.persons[1].agency,
                   "B\xe1\xbb\x99 T\xc6\xb0 ph\xc3\xa1p, V\xe1\xbb\xa5 1");
  ck_assert_str_eq(n.persons[1].full_name,
                   "L\xc3\xaa \"Minh\" Tu\xe1\xba\xa5n");
  ck_assert_str_eq(n.persons[1].msisdn, "");
  ck_assert_int_eq(n.persons[1].wants_new_number, 1);
  ck_assert_int_eq(n.persons[1].line, 4);
  oi_notice_clear(&n);
}
END_TEST

static const struct {
  const char *csv;
  oi_error want;
  const char *reason;
} bad_csv[] = {
    {"", OI_BAD_FILE, "the file is empty"},
    {CSV_HEADER, OI_BAD_FILE, "lists nobody"},
    {"agency,full_name,id_number,wants_new_number\nA,B,001190000001,yes\n",
     OI_BAD_FILE, "the column msisdn is missing"},
    {"agency,full_name,id_number,msisdn,wants_new_number,email\n", OI_BAD_FILE,
     "unknown column \"email\""},
    {"agency,full_name,id_number,msisdn,msisdn\n", OI_BAD_FILE,
     "column msisdn appears twice"},
    {"agency,full_name,id_number,msisdn,wants_new_number,ctkv\n"
     "A,B,001190000001,0901234567,no,CTKV0\n",
     OI_BAD_FILE, "line 2: ctkv must be CTKV1 to CTKV9"},
    {"agency,full_name,id_number,msisdn,wants_new_number,ctkv\n"
     "A,B,001190000001,0901234567,no\n", OI_BAD_FILE,
     "line 2: 5 fields, the header has 6"},
    {CSV_HEADER "A,Tr\xe0n,001190000001,0901234567,no\n", OI_BAD_FILE,
     "line 2: the file is not UTF-8"}, /* Windows-1258/Latin-1 byte */
    {CSV_HEADER "A,B,001190000001,0901234567\n", OI_BAD_FILE,
     "line 2: 4 fields"},
    {CSV_HEADER "A,B,001190000001,0901234567,no,x\n", OI_BAD_FILE,
     "line 2: 6 fields"},
    {CSV_HEADER "A,\"B,001190000001,0901234567,no\n", OI_BAD_FILE,
     "bad quoting"},
    {CSV_HEADER "A,B,001190000001,0241234567,no\n", OI_BAD_FILE,
     "line 2: msisdn: phone number \"0241234567\" is not a mobile number"},
    {CSV_HEADER "A,B,001190000001,091234,no\n", OI_BAD_FILE,
     "line 2: msisdn: phone number \"091234\" must have 10 digits"},
    {CSV_HEADER "A,B,001190000001,,no\n", OI_BAD_FILE,
     "line 2: no msisdn, so wants_new_number must be yes"},
    {CSV_HEADER "A,B,0011900,0901234567,no\n", OI_BAD_FILE,
     "line 2: id_number must be 12 digits"},
    {CSV_HEADER "A,,001190000001,0901234567,no\n", OI_BAD_FILE,
     "line 2: full_name is empty"},
    {CSV_HEADER ",B,001190000001,0901234567,no\n", OI_BAD_FILE,
     "line 2: agency is empty"},
    {CSV_HEADER "A,B,001190000001,0901234567,maybe\n", OI_BAD_FILE,
     "wants_new_number must be yes or no, not \"maybe\""},
    {CSV_HEADER "A,B,001190000001,0901234567,no\n"
                "A,C,001190000001,0901234568,no\n",
     OI_DUPLICATE, "lines 2 and 3 list the same person (same id_number)"},
    {CSV_HEADER "A,B,001190000001,0901234567,no\n"
                "A,C,001190000002,+84 90 123 4567,no\n",
     OI_DUPLICATE, "lines 2 and 3 give the same msisdn 84901234567"},
};

START_TEST(csv_bad) {
  oi_notice n;
  err[0] = '\0';
  oi_error e = oi_notice_parse_csv(bad_csv[_i].csv, strlen(bad_csv[_i].csv),
                                   "CTS-1", &n, err, sizeof err);
  ck_assert_msg(e == bad_csv[_i].want, "case %d: got %s (%s)", _i,
                oi_error_code(e), err);
  ck_assert_msg(strstr(err, bad_csv[_i].reason) != NULL,
                "case %d: reason \"%s\"", _i, err);
  ck_assert_ptr_null(n.persons);
  ck_assert_int_eq(n.count, 0);
}
END_TEST

/* The optional ctkv column names the person's region. */
START_TEST(csv_region) {
  oi_notice n;
  const char *csv = "wants_new_number,ctkv,agency,full_name,id_number,msisdn\n"
                    "yes,CTKV3,Bộ Tư pháp,Lê Văn Tám,001190000001,\n"
                    "no,,Bộ Tư pháp,Lê Thị Chín,001190000002,0901234567\n";
  ck_assert_int_eq(oi_notice_parse_csv(csv, strlen(csv), "CTS-2026-11-009",
                                       &n, err, sizeof err),
                   OI_OK);
  ck_assert_int_eq(n.count, 2);
  ck_assert_str_eq(n.persons[0].ctkv, "CTKV3");
  ck_assert_str_eq(n.persons[1].ctkv, "");
  oi_notice_clear(&n);
  const char *js = "{\"notice_ref\": \"CTS-2026-11-010\", \"persons\": [{"
                   "\"agency\": \"A\", \"full_name\": \"B\", "
                   "\"id_number\": \"001190000003\", \"msisdn\": null, "
                   "\"wants_new_number\": true, \"ctkv\": \"CTKV9\"}]}";
  ck_assert_int_eq(oi_notice_parse_json(js, strlen(js), &n, err, sizeof err),
                   OI_OK);
  ck_assert_str_eq(n.persons[0].ctkv, "CTKV9");
  oi_notice_clear(&n);
}
END_TEST

START_TEST(csv_nul_and_ref) {
  oi_notice n;
  const char nul[] = CSV_HEADER "A,B\0,001190000001,0901234567,no\n";
  ck_assert_int_eq(oi_notice_parse_csv(nul, sizeof nul - 1, "CTS-1", &n, err,
                                       sizeof err),
                   OI_BAD_FILE);
  ck_assert_ptr_nonnull(strstr(err, "NUL byte"));
  const char *ok = CSV_HEADER "A,B,001190000001,0901234567,no\n";
  ck_assert_int_eq(oi_notice_parse_csv(ok, strlen(ok), "x", &n, err,
                                       sizeof err),
                   OI_BAD_FILE);
  ck_assert_ptr_nonnull(strstr(err, "notice reference"));
  ck_assert_int_eq(oi_notice_parse_csv(ok, strlen(ok), NULL, &n, err,
                                       sizeof err),
                   OI_BAD_FILE);
}
END_TEST

START_TEST(json_good_and_bad) {
  const char *good =
      "{\"notice_ref\":\"CTS-2026-11-002\",\"persons\":[{\"agency\":\"UBND "
      "t\xe1\xbb\x89nh Ngh\xe1\xbb\x87 An\",\"full_name\":\"\xc4\x90\xe1\xbb"
      "\x97 Qu\xe1\xbb\x91" "c B\xe1\xba\xa3o\",\"id_number\":\"040085000123\","
      "\"msisdn\":\"84936000111\",\"wants_new_number\":false},{\"agency\":"
      "\"X\",\"full_name\":\"Y\",\"id_number\":\"040085000124\","
      "\"wants_new_number\":true}]}";
  oi_notice n;
  ck_assert_int_eq(oi_notice_parse_json(good, strlen(good), &n, err,
                                        sizeof err),
                   OI_OK);
  ck_assert_int_eq(n.count, 2);
  ck_assert_str_eq(n.notice_ref, "CTS-2026-11-002");
  ck_assert_str_eq(n.persons[0].msisdn, "84936000111");
  ck_assert_str_eq(n.persons[1].msisdn, "");
  oi_notice_clear(&n);
  static const struct {
    const char *json, *reason;
  } bad[] = {
      {"{", "not valid JSON"},
      {"{\"notice_ref\":\"CTS-1\"}", "exactly notice_ref and persons"},
      {"{\"notice_ref\":\"CTS-1\",\"persons\":[]}", "1 to 10000 people"},
      {"{\"notice_ref\":\"CTS-1\",\"persons\":[1]}", "person 1 is not an "
                                                    "object"},
      {"{\"notice_ref\":\"CTS-1\",\"persons\":[{\"agency\":\"A\",\"full_name"
       "\":\"B\",\"id_number\":\"040085000123\",\"wants_new_number\":true,"
       "\"age\":3}]}",
       "person 1: unknown field \"age\""},
      {"{\"notice_ref\":\"CTS-1\",\"persons\":[{\"agency\":\"A\",\"full_name"
       "\":\"B\",\"wants_new_number\":true}]}",
       "person 1: the field id_number is missing"},
      {"{\"notice_ref\":\"CTS-1\",\"persons\":[{\"agency\":\"A\",\"full_name"
       "\":\"B\",\"id_number\":\"040085000123\",\"wants_new_number\":\"yes\"}"
       "]}",
       "wants_new_number true or false"},
      {"{\"notice_ref\":\"CTS-1\",\"persons\":[{\"agency\":\"A\",\"full_name"
       "\":\"B\",\"id_number\":\"040085000123\",\"msisdn\":\"12\","
       "\"wants_new_number\":false}]}",
       "person 1: msisdn: phone number \"12\""},
      {"{\"notice_ref\":\"CTS-1\",\"persons\":[{\"agency\":\"A\",\"full_name"
       "\":\"B\",\"id_number\":\"040085000123\",\"wants_new_number\":true},{"
       "\"agency\":\"A\",\"full_name\":\"C\",\"id_number\":\"040085000123\","
       "\"wants_new_number\":true}]}",
       "persons 1 and 2 list the same person"},
      /* Values were cut to fit a buffer, then trimmed: a number followed
       * by blanks and junk passed (found by tests/fuzz/fuzz_notice_json). */
      {"{\"notice_ref\":\"CTS-1\",\"persons\":[{\"agency\":\"A\",\"full_name"
       "\":\"B\",\"id_number\":\"040085000123\",\"msisdn\":\"0901234567"
       "                                                     x\","
       "\"wants_new_number\":false}]}",
       "person 1: id_number or msisdn is too long"},
      {"{\"notice_ref\":\"CTS-1\",\"persons\":[{\"agency\":\"A\",\"full_name"
       "\":\"B\",\"id_number\":\"040085000123                    x\","
       "\"wants_new_number\":true}]}",
       "person 1: id_number or msisdn is too long"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    err[0] = '\0';
    ck_assert_int_ne(oi_notice_parse_json(bad[i].json, strlen(bad[i].json),
                                          &n, err, sizeof err),
                     OI_OK);
    ck_assert_msg(strstr(err, bad[i].reason) != NULL, "case %zu: \"%s\"", i,
                  err);
    ck_assert_ptr_null(n.persons);
  }
}
END_TEST

START_TEST(utf8_validation) {
  size_t off = 99;
  ck_assert(oi_utf8_valid("Vi\xe1\xbb\x87t", 6, &off));
  ck_assert(!oi_utf8_valid("\xc0\xaf", 2, &off)); /* overlong '/' */
  ck_assert_int_eq(off, 0);
  ck_assert(!oi_utf8_valid("ab\xed\xa0\x80", 5, &off)); /* surrogate */
  ck_assert_int_eq(off, 2);
  ck_assert(!oi_utf8_valid("ab\xe1\xbb", 4, &off)); /* truncated */
  ck_assert(!oi_utf8_valid("\xf4\x90\x80\x80", 4, &off)); /* > U+10FFFF */
  ck_assert(!oi_utf8_valid("\xff", 1, &off));
}
END_TEST

/* A reason quoting input cut at a byte count, or jansson's error text on
 * an escape followed by a multi-byte character, held half a UTF-8
 * character; the JSON body and the rejection event could then not be
 * built (found by tests/fuzz: fuzz_order, fuzz_notice_csv/json). */
#define X39 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
#define A_BREVE "\xc4\x83"
START_TEST(reasons_are_utf8) {
  static const char *const orders[] = {
      "{\"bcycp_ref\":\"BCYCP-1\",\"contact\":{\"name\":\"L\xc3\xaa \\"
      A_BREVE "n\"}}",
      "{\"" X39 A_BREVE "\":1}",
  };
  for (size_t i = 0; i < sizeof orders / sizeof *orders; i++) {
    oi_order o;
    ck_assert_int_eq(oi_order_parse(orders[i], strlen(orders[i]), 1000, &o,
                                    err, sizeof err),
                     OI_BAD_DOCUMENT);
    ck_assert_msg(oi_utf8_valid(err, strlen(err), NULL), "order %zu: %s", i,
                  err);
  }
  static const char *const csvs[] = {
      "agency,full_name,id_number,msisdn,wants_new_number," X39 A_BREVE "\n",
      CSV_HEADER "A,B,001190000001,0901234567,xxxxxxxxxxxxxxxxxxx" A_BREVE
                 "\n",
      CSV_HEADER "A,B,001190000001," X39 A_BREVE ",no\n",
  };
  for (size_t i = 0; i < sizeof csvs / sizeof *csvs; i++) {
    oi_notice n;
    ck_assert_int_eq(oi_notice_parse_csv(csvs[i], strlen(csvs[i]), "CTS-1",
                                         &n, err, sizeof err),
                     OI_BAD_FILE);
    ck_assert_msg(oi_utf8_valid(err, strlen(err), NULL), "csv %zu: %s", i,
                  err);
  }
  static const char *const jsons[] = {
      "{\"notice_ref\":\"CTS-1\",\"persons\":[{\"agency\":\"B\\" A_BREVE
      "\"}]}",
      "{\"notice_ref\":\"CTS-1\",\"persons\":[{\"" X39 A_BREVE "\":1}]}",
  };
  for (size_t i = 0; i < sizeof jsons / sizeof *jsons; i++) {
    oi_notice n;
    ck_assert_int_eq(oi_notice_parse_json(jsons[i], strlen(jsons[i]), &n, err,
                                          sizeof err),
                     OI_BAD_FILE);
    ck_assert_msg(oi_utf8_valid(err, strlen(err), NULL), "json %zu: %s", i,
                  err);
  }
  char bad[] = "ab\xc4\x83\xc4-\xe1\xbb";
  oi_utf8_scrub(bad);
  ck_assert_str_eq(bad, "ab\xc4\x83?-??");
}
END_TEST

/* POST /v1/orders' body and the GET paths (order.h). */
START_TEST(envelope_and_paths) {
  unsigned char *doc, *sig;
  size_t dl, sl;
  static const char good[] = "{\"document\": \"eyJhIjoxfQ==\", "
                             "\"signature\": \"MIIB\"}";
  ck_assert_int_eq(oi_order_envelope_parse(good, strlen(good), &doc, &dl, &sig,
                                           &sl),
                   0);
  ck_assert_uint_eq(dl, 7);
  ck_assert(!memcmp(doc, "{\"a\":1}", 7));
  ck_assert_uint_eq(sl, 3);
  free(doc);
  free(sig);
  /* A signature that is not base64 is no signature: intake refuses the
   * unsigned order itself, with its event. */
  static const char badsig[] = "{\"document\": \"eyJhIjoxfQ\", "
                               "\"signature\": \"not base64!\"}";
  ck_assert_int_eq(oi_order_envelope_parse(badsig, strlen(badsig), &doc, &dl,
                                           &sig, &sl),
                   0);
  ck_assert_ptr_null(sig);
  ck_assert_uint_eq(sl, 0);
  free(doc);
  static const char *const bad[] = {
      "", "[]", "{\"document\": 12}", "{\"document\": \"@@@@\"}",
      "{\"signature\": \"MIIB\"}",
      "{\"document\": \"eyJhIjoxfQ==\", \"document\": \"eyJhIjoxfQ==\"}"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    doc = sig = (unsigned char *)"x";
    ck_assert_int_eq(oi_order_envelope_parse(*bad[i] ? bad[i] : NULL,
                                             strlen(bad[i]), &doc, &dl, &sig,
                                             &sl),
                     -1);
    ck_assert_ptr_null(doc);
    ck_assert_ptr_null(sig);
  }
  ck_assert_str_eq(oi_path_id("/v1/orders/ORD-1", "/v1/orders/"), "ORD-1");
  ck_assert_ptr_null(oi_path_id("/v1/orders/", "/v1/orders/"));
  ck_assert_ptr_null(oi_path_id("/v1/orders/ORD-1/x", "/v1/orders/"));
  ck_assert_ptr_null(oi_path_id("/v1/vendors/V", "/v1/orders/"));
}
END_TEST

int main(void) {
  Suite *s = suite_create("order_intake");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, order_good);
  tcase_add_loop_test(tc, order_bad, 0,
                      (int)(sizeof bad_orders / sizeof *bad_orders));
  tcase_add_test(tc, vendor_transitions);
  tcase_add_test(tc, plan_connected_vendor);
  tcase_add_test(tc, plan_new_vendor_pilot);
  tcase_add_test(tc, plan_refusals);
  tcase_add_test(tc, csv_good);
  tcase_add_loop_test(tc, csv_bad, 0, (int)(sizeof bad_csv / sizeof *bad_csv));
  tcase_add_test(tc, csv_nul_and_ref);
  tcase_add_test(tc, csv_region);
  tcase_add_test(tc, json_good_and_bad);
  tcase_add_test(tc, utf8_validation);
  tcase_add_test(tc, reasons_are_utf8);
  tcase_add_test(tc, envelope_and_paths);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
