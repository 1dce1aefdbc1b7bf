#!/usr/bin/python3
"""Exactly once, counted from the outside after a chaos run (tests/chaos/check.sh).

  exactly_once.py EVENTS_DIR MAILDIR SMS_JSONL HLR_DB DB_URL FIGURES

EVENTS_DIR holds one `simpkictl events dump` per topic (TOPIC.jsonl). Checks,
and counts as duplicated or missing:
  - events: a redelivered copy (the same id; the relay republishing after a
    crash) is allowed when its bytes are the same; two events with other ids
    for one effect are duplicates: the same notification, the same range
    move, or a second event of a type a subject has once (a SIM's sale, a
    batch's report, a case's opening...);
  - notifications: every row of the notifier's queue sent, once queued per
    event, kind and recipient, with exactly one notification.sent;
  - e-mail: each message the SMTP sink kept has a Message-ID the notifier
    makes for one sent notification (sha256 of "EVENT_ID.NOTIFICATION_ID"),
    each once, and every sent one is there;
  - SMS: per number, what the fake SMSC received equals the SMS notifications
    sent to it plus the account SMS (one per account.created);
  - OsmoHLR's SQLite (read-only): each SIM's IMSI once, with one 3G auth row,
    nothing else but the customer's old SIM;
  - hlr-provisioner: each batch done, loaded + already present = its SIMs.
Appends key=value figures to FIGURES; exit 1 on any finding.
"""
import collections
import email
import email.policy
import glob
import hashlib
import json
import os
import sqlite3
import subprocess
import sys

# Types a subject may carry more than once in the local scenario.
REPEATABLE = {
    "sims.handed_over", "sims.stocked_in", "sims.transferred", "sims.walked_in",
    "notification.sent", "notification.failed", "login.failed", "otp.sent",
    "otp.failed", "password.reset", "case.reminded", "sig.verify.requested",
    "sig.verify.completed",
}


def psql(url, sql):
    out = subprocess.run(["psql", "-X", "-A", "-t", "-q", "-F", "\t", "-v", "ON_ERROR_STOP=1",
                          url, "-c", sql], check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def main():
    evdir, maildir, sms_file, hlr_db, url, figures = sys.argv[1:7]
    findings = []
    fig = collections.OrderedDict()

    # ---- events ----
    first = {}
    copies = 0
    per_topic = collections.OrderedDict()
    for path in sorted(glob.glob(os.path.join(evdir, "*.jsonl"))):
        topic = os.path.basename(path)[:-len(".jsonl")]
        n = 0
        for line in open(path, encoding="utf-8"):
            line = line.strip()
            if not line:
                continue
            n += 1
            e = json.loads(line)
            if e["id"] in first:
                copies += 1
                if first[e["id"]][1] != line:
                    findings.append("event %s on %s: a copy differs from the first" % (e["id"], topic))
                continue
            first[e["id"]] = (e, line, topic)
        per_topic[topic] = n
    events = [v[0] for v in first.values()]
    keys = collections.Counter()
    for e in events:
        t, d = e["type"], e.get("data") or {}
        if t in ("notification.sent", "notification.failed"):
            k = ("notification", d.get("notification_id"))
        elif t.startswith("sims."):
            k = (t, d.get("iccid_first"), d.get("iccid_last"))
        elif t in REPEATABLE:
            continue
        else:
            k = (t, e["subject"])
        keys[k] += 1
    dup_events = 0
    for k, c in keys.items():
        if c > 1:
            dup_events += c - 1
            findings.append("duplicated effect: %d events for %s" % (c, "/".join(map(str, k))))
    for topic, n in per_topic.items():
        fig["events.%s" % topic] = n
    fig["events_unique"] = len(events)
    fig["events_copies"] = copies
    fig["duplicates.events"] = dup_events
    types = collections.Counter(e["type"] for e in events)
    fig["event_types"] = len(types)
    fig["events_applied"] = psql(url, "SELECT count(*) FROM inbox")[0][0]

    # ---- notifications ----
    rows = psql(url, "SELECT notification_id, event_id, kind, channel, recipient, state FROM notifications")
    fig["notifications"] = len(rows)
    not_sent = [r for r in rows if r[5] != "sent"]
    for r in not_sent:
        findings.append("notification %s (%s to %s) is %s" % (r[0], r[2], r[4], r[5]))
    queued = collections.Counter((r[1], r[2], r[4]) for r in rows)
    dup_queued = sum(c - 1 for c in queued.values() if c > 1)
    for k, c in queued.items():
        if c > 1:
            findings.append("%d notifications queued for event %s, %s to %s" % ((c,) + k))
    sent_events = collections.Counter(e["data"]["notification_id"] for e in events
                                      if e["type"] == "notification.sent")
    ids = {int(r[0]) for r in rows if r[5] == "sent"}
    missing_ev = ids - set(sent_events)
    extra_ev = set(sent_events) - ids
    for i in sorted(missing_ev):
        findings.append("notification %d sent without its notification.sent event" % i)
    for i in sorted(extra_ev):
        findings.append("notification.sent for %d, which the queue does not hold as sent" % i)

    # ---- e-mail ----
    want_mail = {}
    for nid, evid, kind, channel, rcpt, state in rows:
        if channel == "email" and state == "sent":
            h = hashlib.sha256(("%s.%s" % (evid, nid)).encode()).hexdigest()[:32]
            want_mail[h] = (nid, rcpt)
    got_mail = collections.Counter()
    strangers = 0
    for f in sorted(glob.glob(os.path.join(maildir, "*.eml"))):
        m = email.message_from_binary_file(open(f, "rb"), policy=email.policy.default)
        mid = (m["Message-ID"] or "").strip().strip("<>").split(".simpki@")[0]
        if mid not in want_mail:
            strangers += 1
            findings.append("mail %s: Message-ID %s is no sent notification's" % (os.path.basename(f), m["Message-ID"]))
            continue
        got_mail[mid] += 1
        to = m["To"].addresses[0].addr_spec
        if to != want_mail[mid][1]:
            findings.append("mail %s went to %s, notification %s is for %s" % (f, to, want_mail[mid][0], want_mail[mid][1]))
    dup_mail = sum(c - 1 for c in got_mail.values() if c > 1)
    for mid, c in got_mail.items():
        if c > 1:
            findings.append("notification %s mailed %d times" % (want_mail[mid][0], c))
    miss_mail = [v for k, v in want_mail.items() if k not in got_mail]
    for nid, rcpt in miss_mail:
        findings.append("notification %s to %s sent, but no such mail reached the sink" % (nid, rcpt))
    fig["mails"] = sum(got_mail.values()) + strangers
    fig["duplicates.mails"] = dup_mail

    # ---- SMS ----
    want_sms = collections.Counter(r[4].lstrip("+") for r in rows if r[3] == "sms" and r[5] == "sent")
    for e in events:
        if e["type"] == "account.created":
            want_sms[str(e["data"].get("login", "")).lstrip("+")] += 1
    got_sms = collections.Counter()
    for line in open(sms_file, encoding="utf-8"):
        if line.strip():
            got_sms[json.loads(line)["to"].lstrip("+")] += 1
    dup_sms = miss_sms = 0
    for num in sorted(set(want_sms) | set(got_sms)):
        w, g = want_sms[num], got_sms[num]
        if g > w:
            dup_sms += g - w
            findings.append("%s got %d SMS, %d expected" % (num, g, w))
        elif g < w:
            miss_sms += w - g
            findings.append("%s got %d SMS, %d expected" % (num, g, w))
    fig["sms"] = sum(got_sms.values())
    fig["duplicates.sms"] = dup_sms

    # ---- the HLR ----
    sims = psql(url, "SELECT imsi, batch_id FROM sims")
    db = sqlite3.connect("file:%s?mode=ro" % hlr_db, uri=True, timeout=30)
    subs = collections.Counter(r[0] for r in db.execute("SELECT imsi FROM subscriber"))
    auc = collections.Counter(r[0] for r in db.execute(
        "SELECT s.imsi FROM auc_3g a JOIN subscriber s ON s.id = a.subscriber_id"))
    db.close()
    dup_hlr = sum(c - 1 for c in subs.values() if c > 1)
    ours = {r[0] for r in sims}
    missing_hlr = [i for i in ours if subs[i] == 0]
    bad_auc = [i for i in ours if auc[i] != 1]
    extra = [i for i in subs if i not in ours]
    for i in missing_hlr[:20]:
        findings.append("IMSI %s is not in the HLR" % i)
    for i in bad_auc[:20]:
        findings.append("IMSI %s has %d 3G auth rows in the HLR" % (i, auc[i]))
    if len(extra) != 1:
        findings.append("the HLR holds %d subscribers that are no SIM of ours (only the customer's old SIM expected): %s"
                        % (len(extra), extra[:5]))
    fig["hlr_subscribers"] = sum(subs.values())
    fig["duplicates.hlr"] = dup_hlr

    loads = psql(url, "SELECT l.batch_id, l.state, l.sims, l.loaded, l.already, l.failed, "
                      "(SELECT count(*) FROM sims s WHERE s.batch_id = l.batch_id) FROM hlr_loads l")
    already = 0
    for b, state, n, loaded, alr, failed, rows_n in loads:
        already += int(alr)
        if state != "done" or int(failed) != 0 or int(loaded) + int(alr) != int(n) or int(n) != int(rows_n):
            findings.append("HLR load of %s: %s, %s loaded + %s already there, %s failed, of %s SIMs (%s rows)"
                            % (b, state, loaded, alr, failed, n, rows_n))
    fig["hlr_already_present"] = already

    dups = dup_events + dup_queued + dup_mail + dup_sms + dup_hlr
    fig["duplicates"] = dups
    fig["missing"] = len(missing_ev) + len(miss_mail) + miss_sms + len(missing_hlr) + len(not_sent)
    with open(figures, "a") as out:
        for k, v in fig.items():
            out.write("%s=%s\n" % (k, v))
    for f in findings[:60]:
        print("finding: %s" % f, file=sys.stderr)
    print("exactly once: %d events (%d redelivered copies), %d mails, %d SMS, %d HLR subscribers; "
          "%d duplicated, %d missing" % (len(events), copies, fig["mails"], fig["sms"],
                                         fig["hlr_subscribers"], dups, fig["missing"]), file=sys.stderr)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
