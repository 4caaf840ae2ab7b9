#!/usr/bin/env python3
"""ATNA audit benchmark: audit events per second end to end (plexusd's event log →
the atna-audit plugin → syslog over TLS → rsyslog), and SMTP ingest with the plugin
on versus off, in the same run. See README.md ("ATNA audit benchmark").
"""
import argparse
import json
import sys
import tempfile
import shutil
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from plexus_harness import PLEXUSCTL, PLEXUSD, Plexus  # noqa: E402
from rsyslog_fixture import Rsyslog, make_pki  # noqa: E402
from smtp_submission import (ATNA_PLUGIN, DOMAIN, PASSWORD, RECIPIENT, SENDER, atna_settings,  # noqa: E402
                             bench_plexus, bench_plexus_atna, print_table, run_load)


def drain(root, args):
    """Events logged while the plugin is not loaded, then plexusd restarted with it:
    its consumer starts at the oldest event and sends the whole backlog to rsyslog.
    The rate is taken between the first and the last record's arrival."""
    pki = make_pki(Path(root) / "drain-pki")
    repo = Rsyslog(Path(root) / "drain-rsyslog", pki)
    p = Plexus(Path(root) / "drain", DOMAIN)
    p.add_mailbox(SENDER, "PER", "810000000001", PASSWORD)
    p.add_mailbox(RECIPIENT, "PER", "810000000002")
    p.start()
    try:
        load_args = argparse.Namespace(warmup=0, seconds=args.backlog_seconds, clients=args.clients,
                                       max_messages=args.backlog_messages)
        load = run_load({"port": p.ports["submission"], "ca": str(p.ca), "password": PASSWORD}, load_args, p.proc.pid)
    finally:
        p.stop()
    r = p.ctl("plugin", "add", str(ATNA_PLUGIN))
    assert r.returncode == 0, r.stderr
    for key, value in atna_settings(repo, pki).items():
        p.set_config("plugin.atna-audit", key, str(value))
    repo.start()
    try:
        p.start()
        started = time.monotonic()
        counts = []  # (time, records received)
        last_change = started
        while True:
            n = len(repo.messages())
            now = time.monotonic()
            if not counts or n != counts[-1][1]:
                counts.append((now, n))
                last_change = now
            if now - last_change > args.settle_seconds or now - started > args.drain_timeout:
                break
            time.sleep(0.02)
        p.stop()
    finally:
        repo.stop()
    first = next((t for t, n in counts if n > 0), None)
    total = counts[-1][1]
    span = counts[-1][0] - first if first is not None else 0
    return {"messages_acked": load["acked"], "audit_records": total,
            "first_record_after_start_s": round(first - started, 2) if first else None,
            "drain_s": round(span, 2),
            "audit_events_per_s": round((total - 1) / span, 1) if span > 0 else None}


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=15, help="measured SMTP window per server (default 15)")
    ap.add_argument("--warmup", type=float, default=3, help="unmeasured sending before the window (default 3)")
    ap.add_argument("--clients", type=int, default=20, help="concurrent SMTP sessions (default 20)")
    ap.add_argument("--max-messages", type=int, default=200000, help="cap per SMTP run (default 200000)")
    ap.add_argument("--backlog-seconds", type=float, default=10, help="SMTP load that fills the backlog (default 10)")
    ap.add_argument("--backlog-messages", type=int, default=3000, help="cap on that load's messages (default 3000)")
    ap.add_argument("--settle-seconds", type=float, default=3, help="no new record for this long: drained (default 3)")
    ap.add_argument("--drain-timeout", type=float, default=300, help="give up draining after (default 300)")
    ap.add_argument("--json", help="also write the results to this file")
    return ap.parse_args()


def main():
    args = parse_args()
    for needed in (PLEXUSD, PLEXUSCTL, ATNA_PLUGIN):
        if not needed.exists():
            sys.exit(f"{needed} missing: build first (make build) or set PLEXUS_BUILD_DIR")
    root = Path(tempfile.mkdtemp(prefix="plexus-bench-atna-"))
    results = {}
    try:
        print(f"audit backlog drain: {args.clients} clients for {args.backlog_seconds:g} s, then the plugin ...",
              flush=True)
        results["drain"] = drain(root, args)
        for name, run in (("plexus", bench_plexus), ("plexus-atna", bench_plexus_atna)):
            print(f"{name}: {args.clients} clients, {args.warmup:g} s warm-up, {args.seconds:g} s measured ...",
                  flush=True)
            results[name] = run(root, args)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    d = results["drain"]
    print(f"\naudit backlog: {d['messages_acked']} messages submitted without the plugin, "
          f"{d['audit_records']} audit records received by rsyslog over TLS")
    print(f"end to end: {d['audit_events_per_s']} audit events/s (first record {d['first_record_after_start_s']} s "
          f"after plexusd started, drained in {d['drain_s']} s)")
    print_table({n: results[n] for n in ("plexus", "plexus-atna")})
    atna = results["plexus-atna"]
    results["atna_plugin_throughput_ratio"] = round(atna["messages_per_s"] / results["plexus"]["messages_per_s"], 2)
    print(f"plexus-atna: {atna['audit_records']} audit records at rsyslog when plexusd stopped, for "
          f"{atna['acked']} messages and {args.clients} logins")
    print(f"SMTP ingest throughput ratio with/without the ATNA plugin: {results['atna_plugin_throughput_ratio']}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    ok = all(r["stored"] == r["acked"] and not r["errors"] for r in (results["plexus"], atna)) and d["audit_records"] > 0
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
