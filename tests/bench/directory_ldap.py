#!/usr/bin/env python3
"""Directory LDAP sync benchmark: the first sync of N entries seeded in a real slapd
with slapadd, then an incremental sync after C changes (modifies, adds, deletes in
equal thirds), both with `plexusctl directory sync`. Prints the figures (wall time,
entries/s, peak RSS of plexusctl); exits 1 when a count does not match.

    PLEXUS_BUILD_DIR=$PWD/build python3 tests/bench/directory_ldap.py --entries 1000000 --changes 10000
"""
import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from plexus_harness import PLEXUSCTL  # noqa: E402
from slapd_fixture import Slapd, ldif_entry, person, person_dn  # noqa: E402
from test_directory_ldap import Directory, SUMMARY  # noqa: E402


def cpu_seconds():
    """User + system CPU time of the finished children: on a shared machine, wall time also counts waiting."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_sync(directory):
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    cpu = cpu_seconds()
    start = time.monotonic()
    # Not directory.sync(): its 60 s timeout is for tests; a 1 M-entry sync on a loaded machine may take longer.
    result = subprocess.run([str(PLEXUSCTL), "--config", str(directory.plexus.dir / "plexus.conf"), "directory",
                             "sync"], capture_output=True, text=True, timeout=3600)
    elapsed = time.monotonic() - start
    if result.returncode != 0:
        sys.exit("sync failed: " + result.stdout + result.stderr)
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    counts = dict(zip(("added", "changed", "deleted", "skipped", "unchanged"),
                      map(int, SUMMARY.search(result.stdout).groups())))
    return elapsed, cpu_seconds() - cpu, counts, max(before, peak_kib), result.stdout.strip()


def apply_changes(slapd, entries, changes):
    """changes/3 modifies, adds and deletes, each in one ldapmodify run."""
    third = changes // 3
    modify = "".join(f"dn: {person_dn(i)}\nchangetype: modify\nreplace: mssanteAddress\n"
                     f"mssanteAddress: changed{i}@sante.mssante.test\n-\n\n" for i in range(0, third))
    add = "".join(ldif_entry(person_dn(i), person(i)).replace("\n", "\nchangetype: add\n", 1)
                  for i in range(entries, entries + third))
    delete = "".join(f"dn: {person_dn(i)}\nchangetype: delete\n\n" for i in range(third, 2 * third))
    start = time.monotonic()
    slapd._tool("ldapmodify", modify + add + delete)
    return third, time.monotonic() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=100000)
    parser.add_argument("--changes", type=int, default=10000)
    parser.add_argument("--json")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as root:
        root = Path(root)
        slapd = Slapd(root / "slapd")
        start = time.monotonic()
        slapd.bulk_seed(args.entries)
        seed_seconds = time.monotonic() - start
        slapd.start()
        try:
            directory = Directory(root, slapd, "--batch-size", "20000",
                                  "--max-delete-share", "0.5")
            first_s, first_cpu, first, first_rss, first_text = timed_sync(directory)
            third, change_seconds = apply_changes(slapd, args.entries, args.changes)
            incr_s, incr_cpu, incr, incr_rss, incr_text = timed_sync(directory)
            held = directory.query("SELECT count(*) FROM mailboxes")[0][0]
        finally:
            slapd.stop()

    ok = (first["added"] == args.entries and incr["added"] == third and incr["changed"] == third
          and incr["deleted"] == third and held == args.entries - third + third)
    figures = {
        "entries": args.entries, "changes": 3 * third,
        "slapadd_s": round(seed_seconds, 1),
        "first_sync_s": round(first_s, 2), "first_sync_cpu_s": round(first_cpu, 2),
        "first_sync_entries_per_s": round(args.entries / first_s),
        "first_sync_peak_rss_mib": round(first_rss / 1024),
        "ldapmodify_s": round(change_seconds, 1),
        "incremental_sync_s": round(incr_s, 2), "incremental_sync_cpu_s": round(incr_cpu, 2),
        "incremental_peak_rss_mib": round(incr_rss / 1024),
        "load_average_1min": round(os.getloadavg()[0], 1),
        "counts_ok": ok,
    }
    print(first_text)
    print(incr_text)
    for key, value in figures.items():
        print(f"{key:28} {value}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
