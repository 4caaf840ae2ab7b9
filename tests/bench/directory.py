#!/usr/bin/env python3
"""Directory benchmark: import of a generated Extraction_Correspondance_MSSante
(default 1,000,000 lines) with plexusctl, a re-import carrying N changes, then
address lookup and free-text search latency (p50/p99) measured in-process by
build/tests/tools/directory-bench on the imported database. See README.md."""
import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from directory_files import generated_lines, write_correspondance  # noqa: E402
from plexus_harness import BUILD, PLEXUSCTL, Plexus  # noqa: E402


def with_changes(lines, changes):
    """The same lines, the first `changes` persons renamed."""
    for i, values in enumerate(lines):
        if i < changes and values.get("Nom d'exercice"):
            values = dict(values, **{"Nom d'exercice": values["Nom d'exercice"] + "-CHANGÉ"})
        yield values


def cpu_seconds():
    """User + system CPU time of the finished children: on a shared machine, wall time also counts waiting."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_import(plexus, path):
    cpu = cpu_seconds()
    started = time.monotonic()
    # Not plexus.ctl(): its 60 s timeout is for tests; a 1 M-line import may take longer.
    r = subprocess.run([str(PLEXUSCTL), "--config", str(plexus.dir / "plexus.conf"), "directory", "import", str(path),
                        "--force"], capture_output=True, text=True, timeout=3600)
    elapsed = time.monotonic() - started
    if r.returncode != 0:
        sys.exit("import failed: " + r.stderr)
    print(r.stdout.rstrip())
    return elapsed, cpu_seconds() - cpu


def measure(args, database):
    """directory-bench's figures on this database (it prints JSON)."""
    r = subprocess.run([str(BUILD / "tests/tools/directory-bench"), str(database), str(args.lookups),
                        str(args.searches), str(args.slowest)], capture_output=True, text=True, errors="replace", timeout=600)
    if r.returncode != 0:
        sys.exit("directory-bench failed: " + r.stdout + r.stderr)
    return json.loads(r.stdout)


def report(args, figures, database, first=None, again=None):
    with open("/proc/loadavg") as loadavg:
        load = loadavg.read().split()[0]
    print()
    print(f"| figure ({figures['mailboxes']} mailboxes, load {load}) | value | aim |")
    print("|---|---:|---:|")
    if first is not None:
        print(f"| first import (wall / CPU) | {first[0]:.1f} / {first[1]:.1f} s | |")
    if again is not None:
        print(f"| re-import, {args.changes} changes (wall / CPU) | {again[0]:.1f} / {again[1]:.1f} s | |")
    for kind in figures["latency_us"]:
        p = figures["latency_us"][kind]
        aim = "p99 ≤ 100 µs" if kind == "lookup" else "p99 ≤ 5 ms"
        print(f"| {kind} p50 / p99 / p99.9 (µs) | {p['p50']:.0f} / {p['p99']:.0f} / {p['p99.9']:.0f} | {aim} |")
    print(f"| database size | {database.stat().st_size >> 20} MiB | |")
    for kind, searches in figures.get("slowest", {}).items():
        print(f"\nslowest {kind} (each tier's FTS5 query run again alone: µs, candidates):")
        for s in searches:
            filters = "".join(f" {name}={s[name]!r}" for name in ("profession", "city") if s[name])
            tiers = "; ".join(f"{t['match']} {t['us']:.0f} µs {t['rows']}" for t in s["tiers"])
            print(f"  {s['us']:.0f} µs {s['text']!r}{filters}: {tiers}")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--changes", type=int, default=10_000)
    parser.add_argument("--lookups", type=int, default=20_000)
    parser.add_argument("--searches", type=int, default=2_000)
    parser.add_argument("--slowest", type=int, default=5, help="slowest searches shown per kind, with their tiers")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--database", type=Path,
                        help="directory database to measure; made by importing into it when it does not exist, kept")
    args = parser.parse_args()

    if args.database and args.database.exists():
        print(f"measuring {args.database}, not imported again")
        report(args, measure(args, args.database), args.database)
        return
    root = Path(tempfile.mkdtemp(prefix="plexus-directory-bench-"))
    try:
        plexus = Plexus(root, "bench.mssante.test")
        path = root / "Extraction_Correspondance_MSSante_bench.txt"
        started = time.monotonic()
        write_correspondance(path, generated_lines(args.lines, hidden_share=0.01), with_hidden=True)
        print(f"generated {args.lines} lines ({path.stat().st_size >> 20} MiB) in {time.monotonic() - started:.1f} s")

        first = timed_import(plexus, path)
        again = None
        if args.changes:
            write_correspondance(path, with_changes(generated_lines(args.lines, hidden_share=0.01), args.changes),
                                 with_hidden=True)
            again = timed_import(plexus, path)

        database = plexus.dir / "directory.db"
        if args.database:
            shutil.copyfile(database, args.database)
        report(args, measure(args, database), database, first, again)
    finally:
        if args.keep:
            print("kept", root)
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
