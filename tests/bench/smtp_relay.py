#!/usr/bin/env python3
"""Relay benchmark: Plexus to Plexus and Postfix to Postfix side by side, same workload.

Each system is two servers on 127.0.0.1, one per domain, relaying over mutually
authenticated TLS (1.2+, each server's certificate from its own test CA, which the other
trusts). N concurrent clients submit M 10 KB messages to the sending server; the run ends
when all M are in the recipient's mailbox on the receiving server. Reports messages/s
end to end, end-to-end latency (submission start to storage in the recipient's mailbox),
submission latency, and checks that every message arrived exactly once.
Run as root (Postfix needs it); see README.md.
"""
import argparse
import json
import multiprocessing
import os
import re
import sqlite3
import sys
import time
from contextlib import closing
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from authority import Authority  # noqa: E402
from plexus_harness import Plexus, join_trust_space  # noqa: E402
from postfix_harness import Postfix  # noqa: E402
from smtp_submission import (MEMORY_CHECK_AND_CPU_ROWS, MemorySampler, cpu_busy_percent,  # noqa: E402
                             cpu_jiffies, message, percentile_ms, print_table, run_servers,
                             session)

ALPHA, BETA = "alpha.mssante.test", "beta.mssante.test"
SENDER = f"dr.bench@{ALPHA}"
RECIPIENT = f"ide.bench@{BETA}"
PASSWORD = "bench-password"
MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>\r\n]+>)", re.M | re.I)


# --- workload ------------------------------------------------------------------

def submitter(target, worker, count, barrier, results):
    """One client process: one TLS session, then `count` messages back to back. Reports each
    message's Message-ID with the wall-clock times its submission started and was acknowledged
    (wall clock: the receiving server's storage times are compared with them)."""
    sent, error = [], None
    try:
        s = session(target, SENDER)
        barrier.wait(timeout=60)
        for n in range(count):
            data = message(worker, n, SENDER, RECIPIENT)
            t0 = time.time()
            s.sendmail(SENDER, [RECIPIENT], data)
            sent.append((MESSAGE_ID.search(data).group(1).decode(), t0, time.time()))
        s.quit()
    except Exception as e:  # reported, not raised: the other clients' messages still count
        error = f"client {worker}: {type(e).__name__}: {e}"
        barrier.abort()
    results.put({"sent": sent, "error": error})


def run_relay(target, args, server_pids, receiver):
    """Submits the messages to the sending server, waits until the receiving server has
    stored them all (or args.timeout), and returns the figures. `receiver` counts what it
    stored (count()) and tells when each Message-ID was stored (arrivals(): a list of
    (Message-ID, wall-clock time), one per stored copy)."""
    shares = [args.messages // args.clients + (i < args.messages % args.clients) for i in range(args.clients)]
    # Processes, not threads: with threads the client's GIL caps the rate (see README).
    barrier = multiprocessing.Barrier(args.clients)
    results = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=submitter, args=(target, i, shares[i], barrier, results))
             for i in range(args.clients)]
    background = cpu_busy_percent(sample_for=1.0)
    busy_before = cpu_jiffies()
    sampler = MemorySampler(*server_pids)
    sampler.start()
    cpu_before = os.times()
    try:
        for p in procs:
            p.start()
        limit = time.monotonic() + 60 + args.timeout
        reports = [results.get(timeout=max(1, limit - time.monotonic())) for _ in procs]
        for p in procs:
            p.join(timeout=10)
        sent = {mid: (t0, t1) for r in reports for mid, t0, t1 in r["sent"]}
        deadline = time.monotonic() + args.timeout
        while receiver.count() < len(sent) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
        sampler.stop()
    cpu = os.times()
    busy = cpu_busy_percent(busy_before)
    arrivals = receiver.arrivals()
    arrived = {mid: t for mid, t in arrivals if mid in sent}
    start = min((t0 for t0, _ in sent.values()), default=0)
    end = max(arrived.values(), default=start)
    submitted_end = max((t1 for _, t1 in sent.values()), default=start)
    return {
        "clients": args.clients,
        "acked": len(sent),
        "stored": len(arrivals),
        "messages_per_s": round(len(arrived) / (end - start), 1) if end > start else 0,
        "submitted_per_s": round(len(sent) / (submitted_end - start), 1) if submitted_end > start else 0,
        "elapsed_s": round(end - start, 2),
        "p50_ms": percentile_ms([arrived[m] - sent[m][0] for m in arrived], 50),
        "p99_ms": percentile_ms([arrived[m] - sent[m][0] for m in arrived], 99),
        "submit_p50_ms": percentile_ms([t1 - t0 for t0, t1 in sent.values()], 50),
        "submit_p99_ms": percentile_ms([t1 - t0 for t0, t1 in sent.values()], 99),
        "peak_rss_kib": sampler.peak_rss,
        "peak_pss_kib": sampler.peak_pss,
        "client_cpu_s": round(cpu.children_user + cpu.children_system
                              - cpu_before.children_user - cpu_before.children_system, 1),
        "machine_cpu_busy_pct": busy,
        "background_cpu_busy_pct": background,
        "errors": [r["error"] for r in reports if r["error"]],
    }


# --- Plexus ------------------------------------------------------------------------

def store_rows(plexus, sql):
    """Rows of a query on an instance's SQLite store, read-only (plexusd may be running: WAL)."""
    with closing(sqlite3.connect(f"file:{plexus.dir / 'plexus.db'}?mode=ro", uri=True, timeout=10)) as db:
        return db.execute(sql).fetchall()


class EventLogReceiver:
    """What the receiving plexusd stored: its `message.received` events, appended in the
    commit that stores the message in the mailbox, with their time (microseconds)."""

    def __init__(self, plexus):
        self.plexus = plexus

    def count(self):
        return store_rows(self.plexus, "SELECT count(*) FROM events WHERE type = 'message.received'")[0][0]

    def arrivals(self):
        rows = store_rows(self.plexus, "SELECT object, time FROM events WHERE type = 'message.received'")
        return [(message_id.strip(), time_us / 1e6) for message_id, time_us in rows]


def bench_plexus(root, args):
    """alpha's plexusd takes the submissions (AUTH PLAIN) and relays them through its outbound
    queue to beta's MX: each trusts the other's development CA, lists the other's certificate
    DN in its whitelist and routes the other's domain to its MX port."""
    alpha, beta = Plexus(root / "plexus", ALPHA), Plexus(root / "plexus", BETA)
    alpha.add_mailbox(SENDER, "PER", "810000000001", PASSWORD)
    beta.add_mailbox(RECIPIENT, "PER", "810000000002")
    join_trust_space([alpha, beta])
    if args.per_destination:
        alpha.set_config("relay", "max_per_destination", str(args.per_destination))
        alpha.set_config("relay", "max_deliveries", str(max(20, args.per_destination)))
    beta.start()
    try:
        alpha.start()
        target = {"port": alpha.ports["submission"], "ca": str(alpha.ca), "password": PASSWORD}
        result = run_relay(target, args, [alpha.proc.pid, beta.proc.pid], EventLogReceiver(beta))
        result["queued"] = store_rows(alpha, "SELECT count(*) FROM outbound")[0][0]
    finally:
        alpha.stop()
        beta.stop()
    return result


# --- Postfix -------------------------------------------------------------------------

class MaildirReceiver:
    """What the receiving Postfix stored: the recipient's maildir files, each file's
    modification time being when virtual(8) wrote it."""

    def __init__(self, postfix):
        self.postfix = postfix

    def count(self):
        return self.postfix.delivered(RECIPIENT)

    def arrivals(self):
        stored = []
        for f in self.postfix.maildir_files(RECIPIENT):
            with f.open("rb") as m:
                found = MESSAGE_ID.search(m.read(8192))
            stored.append((found.group(1).decode() if found else f.name, f.stat().st_mtime))
        return stored


def bench_postfix(root, args):
    """alpha's Postfix takes the submissions and relays them to beta's Postfix, which requires
    a client certificate of alpha's CA and delivers into the recipient's maildir."""
    (root / "postfix-pki").mkdir()
    cas = {name: Authority(root / "postfix-pki", f"CA {name}") for name in (ALPHA, BETA)}
    beta = Postfix(root, BETA, [RECIPIENT], name="postfix-beta", hostname=f"mx.{BETA}")
    beta.use_certificate(*cas[BETA].issue("beta", f"/C=FR/O=Operateur beta/CN=mx.{BETA}", beta.hostname))
    beta.require_client_certificates(cas[ALPHA].cert)
    beta_master = beta.start()
    alpha = None
    try:
        alpha = Postfix(root, name="postfix-alpha", hostname=f"mx.{ALPHA}")
        alpha.use_certificate(*cas[ALPHA].issue("alpha", f"/C=FR/O=Operateur alpha/CN=mx.{ALPHA}", alpha.hostname))
        alpha.relay_to(BETA, beta, cas[BETA].cert)
        if args.per_destination:
            alpha.settings["smtp_destination_concurrency_limit"] = args.per_destination
        alpha_master = alpha.start()
        target = {"port": alpha.port, "ca": str(cas[ALPHA].cert), "password": None}
        result = run_relay(target, args, [alpha_master, beta_master], MaildirReceiver(beta))
        result["queued"] = alpha.queued() + beta.queued()
    finally:
        if alpha:
            alpha.stop()
        beta.stop()
    return result


# --- report --------------------------------------------------------------------------

ROWS = [("messages/s, end to end", "messages_per_s"), ("submitted/s", "submitted_per_s"),
        ("all delivered after (s)", "elapsed_s"),
        ("end-to-end p50 (ms)", "p50_ms"), ("end-to-end p99 (ms)", "p99_ms"),
        ("submission p50 (ms)", "submit_p50_ms"), ("submission p99 (ms)", "submit_p99_ms")] + MEMORY_CHECK_AND_CPU_ROWS


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=2000, help="messages per system, all clients (default 2000)")
    ap.add_argument("--clients", type=int, default=20, help="concurrent submission sessions (default 20)")
    ap.add_argument("--timeout", type=float, default=300,
                    help="seconds allowed for submitting, then for delivering (default 300)")
    ap.add_argument("--servers", default="plexus,postfix",
                    help="comma-separated subset of plexus,postfix (default plexus,postfix)")
    ap.add_argument("--per-destination", type=int,
                    help="parallel deliveries to beta, for both systems (default: each one's own, Plexus 4, Postfix 20)")
    ap.add_argument("--json", help="also write the results to this file")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (for debugging)")
    return ap.parse_args()


def main():
    args = parse_args()
    results = run_servers(args, {"plexus": bench_plexus, "postfix": bench_postfix},
                          f"{args.clients} clients, {args.messages} messages of 10 KB relayed {ALPHA} -> {BETA}",
                          "plexus-relay-bench-")
    if "plexus" in results and "postfix" in results:
        results["plexus_postfix_throughput_ratio"] = round(
            results["plexus"]["messages_per_s"] / results["postfix"]["messages_per_s"], 2)
    figures = {n: r for n, r in results.items() if isinstance(r, dict)}
    print_table(figures, ROWS)
    if "plexus_postfix_throughput_ratio" in results:
        print(f"end-to-end throughput ratio Plexus/Postfix: {results['plexus_postfix_throughput_ratio']}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    for name, r in figures.items():
        if r["stored"] < r["acked"]:
            print(f"{name}: {r['acked'] - r['stored']} of {r['acked']} not delivered within {args.timeout:g} s")
    # A relay run counts only if every acknowledged message reached the mailbox, once.
    ok = all(r["stored"] == r["acked"] and not r["errors"] for r in figures.values())
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
