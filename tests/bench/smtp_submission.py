#!/usr/bin/env python3
"""Submission benchmark: Plexus and Debian's Postfix side by side, same workload.

Each server gets N concurrent clients, each holding one STARTTLS session and sending
10 KB messages back to back for a fixed time after a warm-up. Reports messages/s,
p50/p99 latency (MAIL FROM to the 250 after DATA), peak server memory, and checks that
every acknowledged message reached the recipient's mailbox. Traffic stays on 127.0.0.1.
`--servers plexus,plexus-example` measures the cost of a message hook: the SDK's example
plugin, which adds a header to every message (the blob is written again);
`plexus-atna` loads the ATNA audit plugin sending to rsyslog over TLS (tests/bench/atna_audit.py).
Run as root (Postfix needs it); see README.md.
"""
import argparse
import json
import multiprocessing
import os
import shutil
import smtplib
import ssl
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from plexus_harness import BUILD, PLEXUSCTL, PLEXUSD, Plexus  # noqa: E402
from postfix_harness import Postfix  # noqa: E402

DOMAIN = "bench.mssante.test"
SENDER = f"dr.bench@{DOMAIN}"
RECIPIENT = f"ide.bench@{DOMAIN}"
PASSWORD = "bench-password"
MESSAGE_SIZE = 10 * 1024


# --- workload ------------------------------------------------------------------

def message(worker, n, sender=SENDER, recipient=RECIPIENT):
    """A ~10 KB plain-text report with the headers a mail client would send."""
    head = (f"From: Dr Bench <{sender}>\r\n"
            f"To: IDE Bench <{recipient}>\r\n"
            f"Subject: Compte rendu de consultation {worker}-{n}\r\n"
            "Date: Mon, 2 Mar 2026 09:30:00 +0100\r\n"
            f"Message-ID: <bench.{os.getpid()}.{worker}.{n}@{DOMAIN}>\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=us-ascii\r\n"
            "Content-Transfer-Encoding: 7bit\r\n"
            "User-Agent: plexus-bench\r\n\r\n")
    line = "Patient vu en consultation ce jour, examen clinique sans particularite. TA 12/8.\r\n"
    body = line * ((MESSAGE_SIZE - len(head)) // len(line))
    return (head + body).encode()


def session(target, sender=SENDER):
    """One SMTP session on target["port"]: STARTTLS (TLS 1.2+), EHLO, AUTH when target["password"]."""
    ctx = ssl.create_default_context(cafile=target["ca"])
    ctx.check_hostname = False
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    s = smtplib.SMTP("127.0.0.1", target["port"], local_hostname="client.bench.test", timeout=30)
    s.starttls(context=ctx)
    s.ehlo("client.bench.test")
    if target["password"]:
        s.login(sender, target["password"])
    return s


def client(target, worker, timing, barrier, results):
    """One client process: one TLS session, then messages back to back until the window closes."""
    acked, latencies, error = 0, [], None
    try:
        s = session(target)
        barrier.wait(timeout=60)
        # Every client starts its clock at the barrier, so the windows line up.
        window_start = time.monotonic() + timing["warmup"]
        window_end = window_start + timing["seconds"]
        while acked < timing["max_per_client"]:
            data = message(worker, acked)
            t0 = time.monotonic()
            s.sendmail(SENDER, [RECIPIENT], data)
            t1 = time.monotonic()
            acked += 1
            if t1 >= window_end:
                break
            if t1 >= window_start:
                latencies.append(t1 - t0)
        s.quit()
    except Exception as e:  # reported, not raised: the other clients' figures still count
        error = f"client {worker}: {type(e).__name__}: {e}"
        barrier.abort()
    results.put({"acked": acked, "latencies": latencies, "error": error})


def run_load(target, args, root_pid):
    """Runs the clients against one server while sampling its memory; returns the figures."""
    timing = {"warmup": args.warmup, "seconds": args.seconds,
              "max_per_client": -(-args.max_messages // args.clients)}
    # Processes, not threads: with threads the client's GIL caps the rate (see README).
    barrier = multiprocessing.Barrier(args.clients)
    results = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=client, args=(target, i, timing, barrier, results))
             for i in range(args.clients)]
    background = cpu_busy_percent(sample_for=1.0)
    busy_before = cpu_jiffies()
    sampler = MemorySampler(root_pid)
    sampler.start()
    cpu_before = os.times()
    try:
        for p in procs:
            p.start()
        # Connecting, the barrier and the socket timeouts are each bounded by 60 s or less.
        limit = time.monotonic() + 60 + args.warmup + args.seconds + 60
        reports = [results.get(timeout=max(1, limit - time.monotonic())) for _ in procs]
        for p in procs:
            p.join(timeout=10)
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
        sampler.stop()
    cpu = os.times()
    busy = cpu_busy_percent(busy_before)
    latencies = sorted(x for r in reports for x in r["latencies"])
    window = len(latencies)
    return {
        "clients": args.clients,
        "seconds": args.seconds,
        "acked": sum(r["acked"] for r in reports),
        "window_messages": window,
        "messages_per_s": round(window / args.seconds, 1),
        "p50_ms": percentile_ms(latencies, 50),
        "p99_ms": percentile_ms(latencies, 99),
        "peak_rss_kib": sampler.peak_rss,
        "peak_pss_kib": sampler.peak_pss,
        "client_cpu_s": round(cpu.children_user + cpu.children_system
                              - cpu_before.children_user - cpu_before.children_system, 1),
        "machine_cpu_busy_pct": busy,
        "background_cpu_busy_pct": background,
        "errors": [r["error"] for r in reports if r["error"]],
    }


def percentile_ms(seconds, p):
    """The p-th percentile of durations in seconds, in ms; None without enough samples."""
    if p == 50:
        return round(statistics.median(seconds) * 1000, 2) if seconds else None
    return round(statistics.quantiles(seconds, n=100)[p - 1] * 1000, 2) if len(seconds) > 1 else None


# --- machine -------------------------------------------------------------------

def cpu_jiffies():
    """(busy, total) CPU time of the whole machine, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def cpu_busy_percent(since=None, sample_for=0.0):
    """Machine CPU busy % since an earlier cpu_jiffies(), or over the next sample_for seconds.
    Before a run it shows other work on the machine (builds) that would skew the figures."""
    if since is None:
        since = cpu_jiffies()
        time.sleep(sample_for)
    busy, total = cpu_jiffies()
    return round(100 * (busy - since[0]) / max(1, total - since[1]), 1)


# --- memory --------------------------------------------------------------------

def process_tree(root_pid):
    """root_pid and all its live descendants."""
    children = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [root_pid]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def proc_kib(path, field):
    """A 'Field:  123 kB' value from a /proc file, 0 if the process is gone."""
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class MemorySampler:
    """Peak over periodic samples of the summed VmHWM (peak RSS) and Pss of the live
    processes of one or more trees. Pss shares pages between processes, so it does not
    count a multi-process server's shared libraries once per process as RSS does."""

    def __init__(self, *root_pids, interval=0.25):
        self.root_pids, self.interval = root_pids, interval
        self.peak_rss = self.peak_pss = 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        self.done.set()
        self.thread.join()
        self.sample()

    def loop(self):
        while not self.done.wait(self.interval):
            self.sample()

    def sample(self):
        pids = [pid for root in self.root_pids for pid in process_tree(root)]
        self.peak_rss = max(self.peak_rss, sum(proc_kib(f"/proc/{p}/status", "VmHWM") for p in pids))
        self.peak_pss = max(self.peak_pss, sum(proc_kib(f"/proc/{p}/smaps_rollup", "Pss") for p in pids))


# --- Plexus ------------------------------------------------------------------------

EXAMPLE_PLUGIN = BUILD / "sdk/plexus-sdk-example.so"
ATNA_PLUGIN = BUILD / "plugins/atna-audit/plexus-atna-audit.so"


def bench_plexus(root, args, plugin=None, settings=None, label=None):
    """One Plexus run; `plugin` loaded with `settings` in its section when given."""
    p = Plexus(Path(root) / (label or ("with-plugin" if plugin else "plain")), DOMAIN)
    p.add_mailbox(SENDER, "PER", "810000000001", PASSWORD)
    p.add_mailbox(RECIPIENT, "PER", "810000000002")
    if plugin:
        r = p.ctl("plugin", "add", str(plugin))
        assert r.returncode == 0, r.stderr
        for key, value in (settings or {}).items():
            p.set_config(f"plugin.{Path(plugin).stem.removeprefix('plexus-')}", key, str(value))
    p.start()
    try:
        target = {"port": p.ports["submission"], "ca": str(p.ca), "password": PASSWORD}
        result = run_load(target, args, p.proc.pid)
    finally:
        p.stop()
    result["stored"] = len(p.messages(RECIPIENT))
    result["queued"] = 0  # local delivery is synchronous: stored before the 250
    return result


def atna_settings(repo, pki):
    """The ATNA plugin sending to `repo` (rsyslog_fixture.Rsyslog) over TLS with a client certificate."""
    return {"audit_source_id": "plexus-bench", "transports": "tls", "tls_host": "127.0.0.1",
            "tls_port": repo.tls_port, "tls_server_name": "localhost", "tls_ca_file": pki.ca,
            "tls_cert_file": pki.client_cert, "tls_key_file": pki.client_key}


def bench_plexus_atna(root, args):
    """Plexus with the ATNA audit plugin sending every event to rsyslog over TLS
    (the audit trail's cost on ingest). Adds the audit records rsyslog received."""
    from rsyslog_fixture import Rsyslog, make_pki
    pki = make_pki(Path(root) / "atna-pki")
    with Rsyslog(Path(root) / "atna-rsyslog", pki) as repo:
        result = bench_plexus(root, args, ATNA_PLUGIN, atna_settings(repo, pki), "with-atna")
        result["audit_records"] = len(repo.messages())
    return result


# --- Postfix -------------------------------------------------------------------------

def bench_postfix(root, args):
    pf = Postfix(root, DOMAIN, [RECIPIENT])
    try:
        master = pf.start()
        target = {"port": pf.port, "ca": str(pf.certificate), "password": None}
        result = run_load(target, args, master)
        pf.wait_delivery(RECIPIENT, result["acked"])
        result["stored"], result["queued"] = pf.delivered(RECIPIENT), pf.queued()
    finally:
        pf.stop()
    return result


# --- report --------------------------------------------------------------------------

MEMORY_CHECK_AND_CPU_ROWS = [
    ("peak RSS, sum (MiB)", "peak_rss_kib"), ("peak PSS, sum (MiB)", "peak_pss_kib"),
    ("acknowledged", "acked"), ("in mailbox", "stored"), ("still queued", "queued"),
    ("client CPU (s)", "client_cpu_s"), ("machine CPU busy (%)", "machine_cpu_busy_pct"),
    ("CPU busy before run (%)", "background_cpu_busy_pct")]
SUBMISSION_ROWS = [("messages/s", "messages_per_s"), ("p50 latency (ms)", "p50_ms"),
                   ("p99 latency (ms)", "p99_ms")] + MEMORY_CHECK_AND_CPU_ROWS


def print_table(results, rows=SUBMISSION_ROWS):
    """One column per server; then, per server, whether every acknowledged message is
    in the mailbox or still queued, and the clients' errors."""
    names = list(results)
    width = max(12, *(len(n) + 2 for n in names))
    print(f"\n{'':24}" + "".join(f"{n:>{width}}" for n in names))
    for label, key in rows:
        cells = []
        for n in names:
            v = results[n][key]
            cells.append(f"{v / 1024:{width}.1f}" if key.endswith("_kib") else f"{v!s:>{width}}")
        print(f"{label:24}" + "".join(cells))
    for n in names:
        r = results[n]
        status = "OK" if r["stored"] + r["queued"] == r["acked"] else "MISMATCH"
        print(f"{n}: {r['acked']} acknowledged, {r['stored']} in mailbox, {r['queued']} queued: {status}")
        for e in r["errors"]:
            print(f"{n}: {e}")


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20, help="measured window per server (default 20)")
    ap.add_argument("--warmup", type=float, default=3, help="unmeasured sending before the window (default 3)")
    ap.add_argument("--clients", type=int, default=20, help="concurrent sessions (default 20)")
    ap.add_argument("--max-messages", type=int, default=200000, help="cap per server, all clients (default 200000)")
    ap.add_argument("--servers", default="plexus,postfix",
                    help="comma-separated subset of plexus,plexus-example,plexus-atna,postfix (default plexus,postfix)")
    ap.add_argument("--json", help="also write the results to this file")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (for debugging)")
    return ap.parse_args()


def run_servers(args, runners, workload, prefix):
    """{name: runners[name](root, args)} for each of args.servers, one after the other, in
    one temporary root (removed unless --keep); `workload` describes the run."""
    servers = args.servers.split(",")
    if any(name.startswith("plexus") for name in servers) and not (PLEXUSD.exists() and PLEXUSCTL.exists()):
        sys.exit(f"{PLEXUSD} or {PLEXUSCTL} missing: build first (make build) or set PLEXUS_BUILD_DIR")
    # Not /tmp's mkdtemp default mode: Postfix's unprivileged processes must traverse it.
    root = Path(tempfile.mkdtemp(prefix=prefix))
    root.chmod(0o755)
    results = {}
    try:
        for name in servers:
            print(f"{name}: {workload} ...", flush=True)
            results[name] = runners[name](root, args)
    finally:
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    return results


def main():
    args = parse_args()
    runners = {"plexus": bench_plexus, "postfix": bench_postfix,
               "plexus-example": lambda root, a: bench_plexus(root, a, EXAMPLE_PLUGIN),
               "plexus-atna": bench_plexus_atna}
    results = run_servers(args, runners,
                          f"{args.clients} clients, {args.warmup:g} s warm-up, {args.seconds:g} s measured",
                          "plexus-bench-")
    if "plexus" in results and "postfix" in results:
        results["plexus_postfix_throughput_ratio"] = round(
            results["plexus"]["messages_per_s"] / results["postfix"]["messages_per_s"], 2)
    if "plexus" in results and "plexus-example" in results:
        results["example_plugin_throughput_ratio"] = round(
            results["plexus-example"]["messages_per_s"] / results["plexus"]["messages_per_s"], 2)
    print_table({n: r for n, r in results.items() if isinstance(r, dict)})
    if "plexus_postfix_throughput_ratio" in results:
        print(f"throughput ratio Plexus/Postfix: {results['plexus_postfix_throughput_ratio']}")
    if "example_plugin_throughput_ratio" in results:
        print(f"throughput ratio with/without the example plugin: {results['example_plugin_throughput_ratio']}")
    if "plexus" in results and "plexus-atna" in results:
        results["atna_plugin_throughput_ratio"] = round(
            results["plexus-atna"]["messages_per_s"] / results["plexus"]["messages_per_s"], 2)
        print(f"throughput ratio with/without the ATNA plugin: {results['atna_plugin_throughput_ratio']}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    ok = all(r["stored"] + r["queued"] == r["acked"] and not r["errors"]
             for r in results.values() if isinstance(r, dict))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
