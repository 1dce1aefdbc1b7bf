#!/usr/bin/python3
"""The figures of a chaos run (tests/chaos/run).

  report.py CHAOS_LOG FIGURES PROGRESS T0_MS REPORT_TXT REPORT_KV

CHAOS_LOG: the driver's actions (tests/chaos/driver.sh). FIGURES: key=value
lines the run and its checks wrote. PROGRESS: the scenario's progress file.
Writes the report as text and as key=value lines.
"""
import collections
import statistics
import sys

KINDS = [
    ("kill", "service SIGKILLed, started again"),
    ("broker_one", "one broker down, then up"),
    ("broker_all", "all brokers down, then up"),
    ("pg_restart", "PostgreSQL fast restart"),
    ("pg_kill", "PostgreSQL killed, started again"),
    ("hlr_kill", "OsmoHLR killed, started again"),
    ("smtp", "SMTP sink stopped, started again"),
    ("kannel", "Kannel stopped, started again"),
]


def main():
    log, figs_path, progress, t0, out_txt, out_kv = sys.argv[1:7]
    figs = collections.OrderedDict()
    for line in open(figs_path, encoding="utf-8"):
        if "=" in line:
            k, v = line.rstrip("\n").split("=", 1)
            figs[k] = v
    steps = []  # (ms, step, state)
    try:
        for line in open(progress, encoding="utf-8"):
            p = line.rstrip("\n").split("\t")
            if len(p) == 4 and p[0].isdigit():
                steps.append((int(p[0]), p[1], p[2]))
    except OSError:
        pass
    scen_end = steps[-1][0] if steps else 0
    # The production batch: from its B3 starting to its B6 done.
    b_start = next((t for t, s, st in steps if s == "B3" and st == "run"), None)
    b_end = next((t for t, s, st in steps if s == "B6" and st == "ok"), None)

    faults, back, rec = collections.OrderedDict(), {}, {}
    crashes = unrecovered = skipped = 0
    for line in open(log, encoding="utf-8"):
        p = line.rstrip("\n").split("\t")
        if len(p) < 6:
            continue
        ms, fid, ev, kind, target, detail = int(p[0]), p[1], p[2], p[3], p[4], p[5]
        if ev == "fault":
            faults[fid] = (ms, kind, target, detail)
        elif ev == "back":
            back[fid] = int(dict(x.split("=", 1) for x in detail.split() if "=" in x).get("down_ms", 0))
        elif ev == "recovered":
            d = dict(x.split("=", 1) for x in detail.split() if "=" in x)
            rec[fid] = float(d["secs"])
        elif ev == "crash":
            crashes += 1
        elif ev == "unrecovered":
            unrecovered += 1
        elif ev == "skip":
            skipped += 1

    kv = collections.OrderedDict()
    kv["result"] = figs.get("result", "fail")
    for k in ("form", "seed", "sims", "sanitizers", "wall_s", "scenario_s"):
        kv[k] = figs.get(k, "")
    per_kind = collections.Counter(f[1] for f in faults.values())
    kills = collections.Counter(f[2] for f in faults.values() if f[1] == "kill")
    survived = collections.Counter(faults[f][2] for f in faults if faults[f][1] == "kill" and f in rec)
    kv["kills_total"] = per_kind["kill"]
    kv["kills_survived"] = sum(survived.values())
    for svc in sorted(kills):
        kv["kills.%s" % svc] = kills[svc]
    for kind, _ in KINDS[1:]:
        kv["faults.%s" % kind] = per_kind[kind]
    kv["faults_total"] = len(faults)
    kv["faults_in_scenario"] = sum(1 for f in faults.values() if f[0] <= scen_end)
    kv["faults_in_batch"] = sum(1 for f in faults.values()
                                if b_start and b_end and b_start <= f[0] <= b_end)
    kv["batch_s"] = "%.1f" % ((b_end - b_start) / 1000.0) if b_start and b_end else ""
    kv["crashes"] = crashes
    kv["unrecovered"] = unrecovered
    kv["skipped"] = skipped
    stats = {}
    for kind, _ in KINDS:
        xs = sorted(rec[f] for f in faults if faults[f][1] == kind and f in rec)
        downs = [back[f] / 1000.0 for f in faults if faults[f][1] == kind and f in back]
        if xs:
            stats[kind] = (len(xs), xs[0], statistics.median(xs), xs[-1],
                           max(downs) if downs else 0.0)
            kv["recover_s.%s.n" % kind] = len(xs)
            kv["recover_s.%s.min" % kind] = "%.1f" % xs[0]
            kv["recover_s.%s.median" % kind] = "%.1f" % statistics.median(xs)
            kv["recover_s.%s.max" % kind] = "%.1f" % xs[-1]
            kv["down_s.%s.max" % kind] = "%.1f" % stats[kind][4]
    for k in ("events_unique", "events_applied", "events_copies", "duplicates", "missing", "duplicates.events",
              "duplicates.mails", "duplicates.sms", "duplicates.hlr", "notifications", "mails",
              "sms", "hlr_subscribers", "hlr_already_present", "dead_letters", "audit_verdict",
              "sanitizer_reports", "stopped_cleanly", "failure"):
        if k in figs:
            kv[k] = figs[k]
    for k, v in figs.items():
        if k.startswith("events.") or k.startswith("audit_"):
            kv[k] = v

    with open(out_kv, "w") as f:
        for k, v in kv.items():
            f.write("%s=%s\n" % (k, v))

    L = []
    L.append("chaos run: %s (form %s, seed %s, %s SIMs%s), wall %s s, scenario %s s"
             % (kv["result"].upper(), kv["form"], kv["seed"], kv["sims"],
                ", sanitizers: LeakSanitizer form" if kv["sanitizers"] == "1" else "",
                kv["wall_s"], kv["scenario_s"] or "?"))
    if "failure" in figs:
        L.append("  failed: %s" % figs["failure"])
    L.append("faults: %d in all, %d while the scenario ran, %d during the production batch (B3-B6, %s s)"
             % (len(faults), kv["faults_in_scenario"], kv["faults_in_batch"], kv["batch_s"] or "?"))
    for kind, text in KINDS:
        L.append("  %-11s %3d  %s" % (kind, per_kind[kind], text))
    L.append("kills survived per service: " + ", ".join(
        "%s %d/%d" % (s, survived[s], kills[s]) for s in sorted(kills)))
    L.append("processes that died by themselves: %d; faults not recovered from: %d; faults not done: %d"
             % (crashes, unrecovered, skipped))
    topics = ", ".join("%s %s" % (k[len("events."):], v) for k, v in figs.items() if k.startswith("events."))
    L.append("events processed: %s published (%s), %s applications by the consumers (inbox), "
             "%s redelivered copies (same id, deduplicated by the inbox)"
             % (figs.get("events_unique", "?"), topics or "?", figs.get("events_applied", "?"),
                figs.get("events_copies", "?")))
    L.append("duplicates found: %s (events %s, mails %s, SMS %s, HLR %s); missing: %s; dead letters: %s"
             % (figs.get("duplicates", "?"), figs.get("duplicates.events", "?"), figs.get("duplicates.mails", "?"),
                figs.get("duplicates.sms", "?"), figs.get("duplicates.hlr", "?"), figs.get("missing", "?"),
                figs.get("dead_letters", "?")))
    L.append("notifications: %s (%s mails, %s SMS); HLR: %s subscribers, %s SIMs found already loaded on a resumed group"
             % (figs.get("notifications", "?"), figs.get("mails", "?"), figs.get("sms", "?"),
                figs.get("hlr_subscribers", "?"), figs.get("hlr_already_present", "?")))
    L.append("audit replay --against-db: %s; sanitizer reports: %s; services stopped on SIGTERM: %s"
             % (figs.get("audit_verdict", "?"), figs.get("sanitizer_reports", "?"), figs.get("stopped_cleanly", "?")))
    L.append("time to recover (s):    n    min  median    max   (longest outage, s)")
    for kind, _ in KINDS:
        if kind in stats:
            n, lo, med, hi, down = stats[kind]
            L.append("  %-18s %4d %6.1f %7.1f %6.1f   (%.1f)" % (kind, n, lo, med, hi, down))
    L.append("  recovered = the restarted service answers /healthz and holds its partitions again,")
    L.append("  every part's /healthz answers, and every event written before the reference")
    L.append("  moment is published and applied by every consumer of its topic; the HLR: no batch")
    L.append("  stalled; SMTP/Kannel: no message of that channel queued before it left waiting.")
    L.append("  Reference: the kill for a service; the part's return for the other faults.")
    text = "\n".join(L) + "\n"
    with open(out_txt, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main()
