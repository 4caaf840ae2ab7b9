#!/usr/bin/env python3
"""Directory refreshAndPersist benchmark: plexusd follows a real slapd seeded with N
entries (slapadd); prints how long a single ldapmodify takes to reach plexusd's copy
(p50/p99 over --singles changes, one at a time) and how long a burst of --burst
modifies in one ldapmodify run takes to be applied. Exits 1 when a change is missed.

    PLEXUS_BUILD_DIR=$PWD/build python3 tests/bench/directory_persist.py --entries 10000 --singles 50 --burst 2000
"""
import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from slapd_fixture import Slapd, person_dn  # noqa: E402
from test_directory_ldap import Directory  # noqa: E402


def wait_for(directory, sql, expected, timeout=120, poll=0.002):
    """Seconds until `sql` returns `expected` in plexusd's copy (polled every `poll` s), None on timeout."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if directory.query(sql)[0][0] == expected:
            return time.monotonic() - start
        time.sleep(poll)
    return None


def modify_ldif(numbers, tag):
    return "".join(f"dn: {person_dn(i)}\nchangetype: modify\nreplace: mssanteAddress\n"
                   f"mssanteAddress: {tag}{i}@sante.mssante.test\n-\n\n" for i in numbers)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=10000)
    parser.add_argument("--singles", type=int, default=50)
    parser.add_argument("--burst", type=int, default=2000)
    parser.add_argument("--json")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as root:
        root = Path(root)
        slapd = Slapd(root / "slapd")
        slapd.bulk_seed(args.entries)
        slapd.start()
        directory = None
        try:
            directory = Directory(root, slapd, "--mode", "refreshAndPersist")
            start = time.monotonic()
            directory.plexus.start()
            loaded = wait_for(directory, "SELECT count(*) FROM mailboxes", args.entries, timeout=600, poll=0.1)
            first_s = time.monotonic() - start if loaded is not None else None
            latencies = []
            for n in range(args.singles):
                slapd._tool("ldapmodify", modify_ldif([n], "single"))
                applied = wait_for(directory, "SELECT count(*) FROM mailboxes WHERE address = "
                                   f"'single{n}@sante.mssante.test'", 1, timeout=30)
                if applied is not None:
                    latencies.append(applied)
            burst = range(args.singles, args.singles + args.burst)
            start = time.monotonic()
            slapd._tool("ldapmodify", modify_ldif(burst, "burst"))
            ldapmodify_s = time.monotonic() - start
            applied = wait_for(directory, "SELECT count(*) FROM mailboxes WHERE address LIKE 'burst%'", len(burst))
            burst_s = ldapmodify_s + applied if applied is not None else None
        finally:
            if directory:
                directory.plexus.stop()
            slapd.stop()

    ok = first_s is not None and len(latencies) == args.singles and burst_s is not None
    latencies.sort()
    figures = {
        "entries": args.entries,
        "first_load_s": round(first_s, 2) if first_s else None,
        "single_change_p50_ms": round(1000 * statistics.median(latencies), 1) if latencies else None,
        "single_change_p99_ms": round(1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))], 1)
        if latencies else None,
        "burst_changes": args.burst,
        "burst_ldapmodify_s": round(ldapmodify_s, 2),
        "burst_applied_after_s": round(burst_s, 2) if burst_s else None,
        "counts_ok": ok,
    }
    for key, value in figures.items():
        print(f"{key:28} {value}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
