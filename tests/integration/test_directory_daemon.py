"""The directory inside a running plexusd: the scheduled LDAP sync against a
real slapd (refreshAndPersist following adds, modifies, renames and deletes as
they happen, reconnecting after a slapd restart; refreshOnly on a short
interval; the safety brake waiting for the operator), and SMTP recipient
validation against the directory's copy."""
import signal
import time

from plexus_harness import Plexus, eventually
from slapd_fixture import PEOPLE, Slapd, person, person_dn
from directory_files import write_correspondance
from test_directory_ldap import Directory

DOMAIN = "hopital.mssante.test"
REMOTE = "clinique.mssante.test"


def enable(plexus, key, value):
    with open(plexus.dir / "plexus.conf", "a") as conf:
        conf.write(f"\n[directory]\n{key} = {value}\n")


def show(directory, address):
    """plexusctl directory show ADDRESS: its output, or None when unknown."""
    r = directory.plexus.ctl("directory", "show", address)
    return r.stdout if r.returncode == 0 else None


def test_persist_mode_follows_changes_reconnects_and_stops_promptly(tmp_path):
    server = Slapd(tmp_path / "slapd").start()
    directory = None
    try:
        server.seed(10)
        directory = Directory(tmp_path, server, "--mode", "refreshAndPersist")
        plexus = directory.plexus
        plexus.start()
        assert eventually(lambda: len(directory.mailboxes()) == 10, timeout=20), plexus.log_text()[-3000:]

        server.add(person_dn(50), person(50))
        assert eventually(lambda: show(directory, "ps50@sante.mssante.test"), timeout=10)
        server.modify(person_dn(1), mssanteAddress="modifie@sante.mssante.test")
        assert eventually(lambda: show(directory, "modifie@sante.mssante.test"), timeout=10)
        assert show(directory, "ps1@sante.mssante.test") is None
        renamed = server.entry_uuid(person_dn(2))
        server.rename(person_dn(2), "uid=ps-renamed")
        server.modify(f"uid=ps-renamed,{PEOPLE}", sn="Renomme")
        assert eventually(lambda: directory.query("SELECT last_name FROM persons WHERE source_key = ?", renamed)
                          == [("Renomme",)], timeout=10)
        assert directory.mailboxes()[renamed] == "ps2@sante.mssante.test"  # same identity
        server.delete(person_dn(3))
        assert eventually(lambda: show(directory, "ps3@sante.mssante.test") is None, timeout=10)
        assert len(directory.mailboxes()) == 10

        server.restart()  # plexusd's search is cut: it reconnects and resumes from its cookie
        server.add(person_dn(51), person(51))
        assert eventually(lambda: show(directory, "ps51@sante.mssante.test"), timeout=30), plexus.log_text()[-3000:]
        # The gauges follow each commit, just after it.
        metrics = eventually(lambda: (m := plexus.metrics())["plexus_directory_entries"] == 11 and m, timeout=10)
        assert metrics, plexus.metrics()
        assert metrics["plexus_directory_sync_failures_total"] >= 1
        assert abs(metrics["plexus_directory_last_sync_timestamp_seconds"] - time.time()) < 60
        assert "failed, the local copy is kept; retrying in 1s" in plexus.log_text()

        started = time.monotonic()
        plexus.stop()  # asserts exit 0 and no sanitizer report
        assert time.monotonic() - started < 10  # the sync thread polls its stop flag every 200 ms
    finally:
        if directory:
            directory.plexus.stop()
        server.stop()


def test_scheduled_refresh_only_and_the_safety_brake(tmp_path):
    server = Slapd(tmp_path / "slapd").start()
    directory = None
    try:
        server.seed(10)
        # Every 0.6 s; any deletion trips the brake, so that it holds even when a
        # sync runs between the deletions below.
        directory = Directory(tmp_path, server, "--sync-interval", "0.01", "--max-delete-share", "0.05")
        plexus = directory.plexus
        plexus.start()
        assert eventually(lambda: len(directory.mailboxes()) == 10, timeout=20), plexus.log_text()[-3000:]
        server.modify(person_dn(4), mssanteAddress="planifie@sante.mssante.test")
        assert eventually(lambda: show(directory, "planifie@sante.mssante.test"), timeout=10)
        assert plexus.events("directory.synced", "success")

        server.delete(*[person_dn(i) for i in range(5, 8)])
        assert plexus.events("directory.synced", "safety brake"), plexus.log_text()[-3000:]
        assert "safety brake" in plexus.log_text()
        assert len(directory.mailboxes()) == 10  # nothing deleted
        forced = directory.summary("--force")  # while plexusd runs (WAL, busy timeout)
        assert forced["deleted"] == 3, forced["text"]
        server.add(person_dn(60), person(60))  # plexusd resumes its schedule
        assert eventually(lambda: show(directory, "ps60@sante.mssante.test"), timeout=15), plexus.log_text()[-3000:]
        assert len(directory.mailboxes()) == 8

        # SIGHUP re-reads [directory.ldap]: the same source, now followed continuously.
        assert plexus.ctl("directory", "configure", "--mode", "refreshAndPersist").returncode == 0
        plexus.signal(signal.SIGHUP)
        assert eventually(lambda: "; following changes" in plexus.log_text(), timeout=10), plexus.log_text()[-3000:]
    finally:
        if directory:
            directory.plexus.stop()
        server.stop()


def test_remote_recipients_must_be_in_the_national_directory(tmp_path):
    plexus = Plexus(tmp_path, DOMAIN)
    plexus.add_mailbox(f"dr.martin@{DOMAIN}", "PER", "810000000001", "martin-password")
    plexus.add_mailbox(f"ide.durand@{DOMAIN}", "PER", "810000000002", "durand-password")
    peer_dn = plexus.issue_cert(f"mx.{REMOTE}")[2]
    plexus.write_whitelist([(DOMAIN, plexus.server_dn()), (REMOTE, peer_dn)])
    enable(plexus, "validate_remote_recipients", "true")
    plexus.start()
    try:
        def rcpt(address):
            with plexus.smtp() as s:
                s.login(f"dr.martin@{DOMAIN}", "martin-password")
                s.mail(f"dr.martin@{DOMAIN}")
                code, text = s.rcpt(address)
                return code, text.decode()

        listed, hidden, unlisted = f"listed@{REMOTE}", f"secret@{REMOTE}", f"unknown@{REMOTE}"
        code, text = rcpt(listed)  # nothing loaded yet: deferred, nobody bounced
        assert (code, text) == (451, f"4.3.0 <{listed}>: the national directory is not loaded here yet, "
                                     "try again later")

        national = tmp_path / "Extraction_Correspondance_MSSante.txt"
        base = {"Type BAL": "PER", "Identification Structure": "750000001", "Code profession": "10"}
        write_correspondance(national, [
            dict(base, **{"Adresse BAL": listed, "Identification nationale PP": "810000000101"}),
            dict(base, **{"Adresse BAL": hidden, "Identification nationale PP": "810000000102", "Liste rouge": "O"}),
        ], with_hidden=True)
        r = plexus.ctl("directory", "import", str(national))
        assert r.returncode == 0, r.stderr

        assert rcpt(listed)[0] == 250
        assert rcpt(hidden)[0] == 250  # liste rouge mailboxes exist
        assert rcpt(unlisted) == (550, f"5.1.1 <{unlisted}>: not an MSSanté mailbox in the national directory")
        assert rcpt(f"ide.durand@{DOMAIN}")[0] == 250  # local recipients: their usual checks only
        assert rcpt(f"nobody@{DOMAIN}")[0] == 550
        assert plexus.events("message.refused", "recipient not in the national directory")
    finally:
        plexus.stop()
