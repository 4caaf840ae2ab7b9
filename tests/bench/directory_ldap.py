#!/usr/bin/env python3
"""Directory LDAP sync benchmark: the first sync of N entries seeded in a real slapd
with slapadd, then two incremental syncs after C changes each (modifies, adds, deletes
in equal thirds), both with `plexusctl directory sync`: the first with syncprov's session
log (the changes are sent, delete phase), the second after a slapd restart without one
(a present phase naming every entry). Before them, the floor: slapd sending the same
refreshOnly search to `ldapsearch` writing to /dev/null. Prints wall and CPU time
(plexusctl, and slapd's own), peak RSS of plexusctl; exits 1 when a count does not match.

    PLEXUS_BUILD_DIR=$PWD/build python3 tests/bench/directory_ldap.py --entries 1000000 --changes 10000 \
        --slapd-dir /var/tmp/plexus-bench-slapd
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from plexus_harness import PLEXUSCTL  # noqa: E402
from slapd_fixture import PEOPLE, READER_DN, READER_PASSWORD, Slapd, ldif_entry, person, person_dn  # noqa: E402
from test_directory_ldap import Directory, MAPPING, SUMMARY  # noqa: E402


def cpu_seconds():
    """User + system CPU time of the finished children: on a shared machine, wall time also counts waiting."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def slapd_cpu_seconds(slapd):
    """User + system CPU time slapd has used so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{slapd.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def floor(slapd):
    """What slapd alone takes to send the first sync: the same refreshOnly search over
    StartTLS, read by ldapsearch into /dev/null. Wall, ldapsearch CPU, slapd CPU."""
    attributes = sorted(set(MAPPING.values()))
    env = dict(os.environ, LDAPTLS_CACERT=str(slapd.ca))
    cpu, served = cpu_seconds(), slapd_cpu_seconds(slapd)
    start = time.monotonic()
    subprocess.run(["ldapsearch", "-x", "-ZZ", "-H", slapd.uri, "-D", READER_DN, "-w", READER_PASSWORD,
                    "-b", PEOPLE, "-LLL", "-E", "!sync=ro", "(objectClass=mssanteMailbox)", *attributes],
                   stdout=subprocess.DEVNULL, env=env, check=True, timeout=3600)
    return time.monotonic() - start, cpu_seconds() - cpu, slapd_cpu_seconds(slapd) - served


def timed_sync(directory, slapd):
    """One `plexusctl directory sync`: its own CPU time and peak RSS (wait4), and slapd's CPU meanwhile."""
    served = slapd_cpu_seconds(slapd)
    start = time.monotonic()
    with tempfile.TemporaryFile("w+") as out:
        # Not directory.sync(): its 60 s timeout is for tests; a 1 M-entry sync on a loaded machine may take longer.
        proc = subprocess.Popen([str(PLEXUSCTL), "--config", str(directory.plexus.dir / "plexus.conf"), "directory",
                                 "sync"], stdout=out, stderr=subprocess.STDOUT, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read()
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        sys.exit("sync failed: " + text)
    counts = dict(zip(("added", "changed", "deleted", "skipped", "unchanged"),
                      map(int, SUMMARY.search(text).groups())))
    return dict(wall=elapsed, cpu=usage.ru_utime + usage.ru_stime, slapd_cpu=slapd_cpu_seconds(slapd) - served,
                counts=counts, rss_kib=usage.ru_maxrss, text=text.strip())


def apply_changes(slapd, entries, changes, round_):
    """changes/3 modifies, adds and deletes, in one ldapmodify run; each round_ its own entries."""
    third = changes // 3
    modified = range(2 * round_ * third, (2 * round_ + 1) * third)
    deleted = range((2 * round_ + 1) * third, (2 * round_ + 2) * third)
    modify = "".join(f"dn: {person_dn(i)}\nchangetype: modify\nreplace: mssanteAddress\n"
                     f"mssanteAddress: changed{i}@sante.mssante.test\n-\n\n" for i in modified)
    add = "".join(ldif_entry(person_dn(i), person(i)).replace("\n", "\nchangetype: add\n", 1)
                  for i in range(entries + round_ * third, entries + (round_ + 1) * third))
    delete = "".join(f"dn: {person_dn(i)}\nchangetype: delete\n\n" for i in deleted)
    start = time.monotonic()
    slapd._tool("ldapmodify", modify + add + delete)
    return third, time.monotonic() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=100000)
    parser.add_argument("--changes", type=int, default=10000)
    parser.add_argument("--session-log", type=int, default=100000,
                        help="syncprov-sessionlog size for the first incremental sync (0: none)")
    parser.add_argument("--slapd-dir", help="keeps the seeded database there (seeded once per entry count)")
    parser.add_argument("--batch-size", type=int, default=20000, help="directory.ldap.batch_size of the syncs")
    parser.add_argument("--json")
    args = parser.parse_args()
    if 4 * (args.changes // 3) > args.entries:
        sys.exit("--changes may be at most 3/4 of --entries")

    with tempfile.TemporaryDirectory() as root:
        root = Path(root)
        slapd = Slapd(root / "slapd", session_log=args.session_log or None)
        start = time.monotonic()
        slapd.bulk_seed(args.entries, cache=args.slapd_dir)
        seed_seconds = time.monotonic() - start
        slapd.start()
        try:
            directory = Directory(root, slapd, "--batch-size", str(args.batch_size),
                                  "--max-delete-share", "0.5")
            floor_s, floor_cpu, floor_slapd_cpu = floor(slapd)
            first = timed_sync(directory, slapd)
            third, logged_change_s = apply_changes(slapd, args.entries, args.changes, 0)
            logged = timed_sync(directory, slapd)
            slapd.configure_session_log(None)  # restarts slapd: its cookies now need a present phase
            _, present_change_s = apply_changes(slapd, args.entries, args.changes, 1)
            present = timed_sync(directory, slapd)
            held = directory.query("SELECT count(*) FROM mailboxes")[0][0]
        finally:
            slapd.stop()

    def changed(sync):
        counts = sync["counts"]
        return counts["added"] == third and counts["changed"] == third and counts["deleted"] == third

    ok = first["counts"]["added"] == args.entries and changed(logged) and changed(present) and held == args.entries
    figures = {
        "entries": args.entries, "changes": 3 * third,
        "seed_s": round(seed_seconds, 1),
        "floor_ldapsearch_s": round(floor_s, 2), "floor_ldapsearch_cpu_s": round(floor_cpu, 2),
        "floor_slapd_cpu_s": round(floor_slapd_cpu, 2),
    }
    for name, sync in (("first_sync", first), ("incremental_sessionlog", logged),
                       ("incremental_present", present)):
        figures.update({f"{name}_s": round(sync["wall"], 2), f"{name}_cpu_s": round(sync["cpu"], 2),
                        f"{name}_slapd_cpu_s": round(sync["slapd_cpu"], 2),
                        f"{name}_peak_rss_mib": round(sync["rss_kib"] / 1024)})
    figures.update({
        "first_sync_entries_per_s": round(args.entries / first["wall"]),
        "first_sync_plexus_share": round(1 - floor_s / first["wall"], 2),
        "ldapmodify_s": round(logged_change_s + present_change_s, 1),
        "load_average_1min": round(os.getloadavg()[0], 1),
        "counts_ok": ok,
    })
    for sync in (first, logged, present):
        print(sync["text"])
    for key, value in figures.items():
        print(f"{key:36} {value}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
