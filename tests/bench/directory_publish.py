#!/usr/bin/env python3
"""Directory publication benchmark: N local mailboxes (accounts written straight
into the main database: publication reads nothing else of them) published with
`plexusctl directory publish` to a real slapd (slapd_fixture): the first
publication (N adds), a second one with nothing changed, one after C changes of
mailbox type, then the export in the national layout. Prints wall times and
entries/s; exits 1 when a count does not match.

    PLEXUS_BUILD_DIR=$PWD/build python3 tests/bench/directory_publish.py --mailboxes 10000 --changes 100
"""
import argparse
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from slapd_fixture import Slapd  # noqa: E402
from test_directory_publish import BRANCH, DOMAIN, configure, counts, publish  # noqa: E402
from plexus_harness import Plexus  # noqa: E402


def seed_accounts(plexus, count):
    with sqlite3.connect(plexus.dir / "plexus.db") as db:
        db.executemany("INSERT INTO accounts (address, type, national_id, structure_id, quota_bytes, created_at) "
                       "VALUES (?, 'PER', ?, NULL, 0, 0)",
                       ((f"ps{i}@{DOMAIN}", f"8{10000000000 + i}") for i in range(count)))


def timed(plexus, *flags):
    start = time.monotonic()
    result = publish(plexus, *flags)
    return time.monotonic() - start, counts(result)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mailboxes", type=int, default=10000)
    parser.add_argument("--changes", type=int, default=100)
    args = parser.parse_args()
    n, c = args.mailboxes, args.changes
    ok = True
    with tempfile.TemporaryDirectory() as root:
        slapd = Slapd(Path(root) / "slapd").start()
        try:
            slapd.seed(0)
            slapd.add(BRANCH, {"objectClass": "organizationalUnit", "ou": "local"})
            plexus = Plexus(root, DOMAIN)
            seed_accounts(plexus, n)
            configure(plexus, slapd)
            runs = [("first publication", timed(plexus), (n, 0, 0, 0, 0)),
                    ("nothing changed", timed(plexus), (0, 0, 0, n, 0))]
            with sqlite3.connect(plexus.dir / "plexus.db") as db:
                db.execute("UPDATE accounts SET type = 'CAB' WHERE id <= ?", (c,))
            runs.append((f"{c} changed", timed(plexus), (0, c, 0, n - c, 0)))
            runs.append(("export", timed(plexus, "--export", str(Path(root) / "export.txt")), (n, 0, 0, 0)))
            for name, (seconds, got), expected in runs:
                touched = sum(got[:3]) or got[3]
                print(f"{name:20} {seconds:7.2f} s  {touched / seconds:9.0f} entries/s  {got}")
                ok = ok and got == expected
        finally:
            slapd.stop()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
