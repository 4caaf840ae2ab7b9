"""plexusctl directory configure / sync against a real slapd (slapd_fixture):
RFC 4533 refreshOnly with the cookie kept in the directory database, deletes
through the present phase, renames keeping identity, the safety brake, a kill
during a sync, a server that is down, malformed entries, and the RFC 2696
paged fallback on a slapd without syncprov."""
import re
import signal
import sqlite3
import subprocess
import time

import pytest

from plexus_harness import PLEXUSCTL, Plexus
from slapd_fixture import PEOPLE, READER_DN, Slapd, person, person_dn

MAPPING = {
    "national_id": "healthNationalId", "civility": "healthCivility", "last_name": "sn",
    "first_name": "givenName", "profession_code": "healthProfessionCode",
    "profession_label": "healthProfessionLabel", "specialty_label": "healthSpecialty",
    "practice_mode": "healthPracticeMode", "finess": "structureFiness", "siret": "structureSiret",
    "structure_name": "structureName", "address": "structureAddress", "city": "structureCity",
    "department": "structureDepartment", "mailbox": "mssanteAddress", "mailbox_type": "mssanteMailboxType",
    "service": "mssanteService", "hidden": "mssanteHidden",
}
SUMMARY = re.compile(r"(\d+) added, (\d+) changed, (\d+) deleted, (\d+) skipped, (\d+) unchanged")


class Directory:
    """A Plexus instance (not running: plexusctl alone) with one LDAP source."""

    def __init__(self, root, slapd, *extra):
        self.plexus = Plexus(root, "hopital.mssante.test")
        self.db = self.plexus.dir / "directory.db"
        maps = [arg for field, attr in MAPPING.items() for arg in ("--map", f"{field}={attr}")]
        r = self.plexus.ctl("directory", "configure", "--uri", slapd.uri, "--base", PEOPLE,
                            "--bind-dn", READER_DN, "--password-file", str(slapd.reader_password_file),
                            "--filter", "(objectClass=mssanteMailbox)", "--ca", str(slapd.ca), "--name", "region",
                            *maps, *extra)
        assert r.returncode == 0, r.stderr

    def sync(self, *flags, ok=True):
        r = self.plexus.ctl("directory", "sync", *flags)
        assert (r.returncode == 0) == ok, r.stdout + r.stderr
        return r

    def summary(self, *flags):
        r = self.sync(*flags)
        added, changed, deleted, skipped, unchanged = map(int, SUMMARY.search(r.stdout).groups())
        return dict(added=added, changed=changed, deleted=deleted, skipped=skipped, unchanged=unchanged,
                    text=r.stdout)

    def query(self, sql, *args):
        with sqlite3.connect(self.db) as db:
            return db.execute(sql, args).fetchall()

    def mailboxes(self):
        """source key -> address of the source's mailboxes."""
        return dict(self.query("SELECT source_key, address FROM mailboxes WHERE source = 'ldap:region'"))

    def sync_state(self):
        rows = self.query("SELECT state FROM sync_state WHERE source = 'ldap:region'")
        return rows[0][0] if rows else None


@pytest.fixture(scope="module")
def slapd(tmp_path_factory):
    server = Slapd(tmp_path_factory.mktemp("slapd")).start()
    server.seed(40)
    yield server
    server.stop()


@pytest.fixture
def directory(tmp_path, slapd):
    return Directory(tmp_path, slapd)


def test_first_sync_then_adds_modifies_renames_and_deletes(directory, slapd):
    first = directory.summary()
    assert (first["added"], first["deleted"], first["skipped"]) == (40, 0, 0), first["text"]
    assert "full refresh" in first["text"]
    assert directory.sync_state().startswith("rfc4533 ")
    held = directory.mailboxes()
    assert len(held) == 40
    renamed_uuid = slapd.entry_uuid(person_dn(2))
    assert held[renamed_uuid] == "ps2@sante.mssante.test"
    names = directory.query("SELECT last_name, city FROM persons p JOIN structures s USING (source, source_key) "
                            "WHERE p.source_key = ?", slapd.entry_uuid(person_dn(3)))
    assert names == [("Nom3", "Lyon")]

    again = directory.summary()
    assert (again["added"], again["changed"], again["deleted"]) == (0, 0, 0), again["text"]
    assert "incremental" in again["text"]

    deleted_uuid = slapd.entry_uuid(person_dn(4))
    modified_uuid = slapd.entry_uuid(person_dn(1))
    slapd.add(person_dn(100), person(100))
    slapd.modify(person_dn(1), mssanteAddress="nouvelle.adresse@sante.mssante.test", sn="Nouveau")
    slapd.rename(person_dn(2), "uid=ps-renamed")
    slapd.delete(person_dn(4))
    changes = directory.summary()
    assert (changes["added"], changes["changed"], changes["deleted"]) == (1, 1, 1), changes["text"]
    held = directory.mailboxes()
    assert len(held) == 40
    assert deleted_uuid not in held
    assert held[modified_uuid] == "nouvelle.adresse@sante.mssante.test"
    assert held[renamed_uuid] == "ps2@sante.mssante.test"  # same identity after the rename
    assert slapd.entry_uuid(f"uid=ps-renamed,{PEOPLE}") == renamed_uuid
    assert directory.query("SELECT last_name FROM persons WHERE source_key = ?", modified_uuid) == [("Nouveau",)]


def test_provider_restart_between_syncs_still_removes_deleted_entries(tmp_path, slapd):
    directory = Directory(tmp_path, slapd)
    directory.sync()
    before = directory.mailboxes()
    gone = [slapd.entry_uuid(person_dn(i)) for i in (10, 11)]
    slapd.delete(person_dn(10), person_dn(11))
    slapd.restart()
    result = directory.summary()
    assert result["deleted"] == 2, result["text"]
    after = directory.mailboxes()
    assert set(before) - set(after) == set(gone)


def copy_of(directory):
    """Every record of the copy and its search row, keyed by entryUUID (row ids differ between copies)."""
    tables = {table: sorted(row[1:] for row in directory.query(f"SELECT * FROM {table}"))  # row[0]: id
              for table in ("persons", "structures", "mailboxes")}
    tables["mailbox_search"] = sorted(directory.query(
        "SELECT m.source_key, s.* FROM mailbox_search s JOIN mailboxes m ON m.id = s.rowid"))
    return tables


def test_first_load_gives_the_same_copy_as_upserts(tmp_path, slapd):
    slapd.modify(person_dn(7), mssanteHidden="TRUE")  # no search row
    try:
        bulk = Directory(tmp_path / "bulk", slapd)
        assert bulk.summary()["added"] > 30
        # The other copy holds the Lyon third first, so the rest comes through probes and upserts.
        upserted = Directory(tmp_path / "upserted", slapd)
        lyon = upserted.plexus.ctl("directory", "configure", "--filter",
                                   "(&(objectClass=mssanteMailbox)(structureCity=Lyon))")
        assert lyon.returncode == 0, lyon.stderr
        assert 0 < upserted.summary()["added"] < 30
        everything = upserted.plexus.ctl("directory", "configure", "--filter", "(objectClass=mssanteMailbox)")
        assert everything.returncode == 0, everything.stderr
        upserted.sync("--full")
        assert copy_of(upserted) == copy_of(bulk)
        assert len(copy_of(bulk)["mailbox_search"]) == len(bulk.mailboxes()) - 1
    finally:
        slapd.modify(person_dn(7), mssanteHidden="FALSE")


def test_session_log_sends_only_the_changes(tmp_path):
    server = Slapd(tmp_path / "slapd", session_log=100).start()
    try:
        server.seed(10)
        directory = Directory(tmp_path, server)
        assert directory.summary()["added"] == 10
        gone = {server.entry_uuid(person_dn(i)) for i in (3, 4)}
        server.modify(person_dn(1), mssanteAddress="autre@sante.mssante.test")
        server.delete(person_dn(3), person_dn(4))
        server.add(person_dn(10), person(10))
        before = directory.mailboxes()
        changes = directory.summary()
        assert "incremental" in changes["text"]
        assert (changes["added"], changes["changed"], changes["deleted"], changes["unchanged"]) == (1, 1, 2, 0), \
            changes["text"]
        after = directory.mailboxes()
        assert set(before) - set(after) == gone and len(after) == 9
    finally:
        server.stop()


def test_safety_brake_stops_a_mass_deletion_until_forced(tmp_path):
    server = Slapd(tmp_path / "slapd").start()
    try:
        server.seed(20)
        directory = Directory(tmp_path, server)
        directory.sync()
        state = directory.sync_state()
        server.delete(*[person_dn(i) for i in range(5)])  # 25 % > 20 %
        refused = directory.sync(ok=False)
        assert "safety brake" in refused.stderr and "5 of the 20" in refused.stderr
        assert len(directory.mailboxes()) == 20 and directory.sync_state() == state
        forced = directory.summary("--force")
        assert forced["deleted"] == 5
        assert len(directory.mailboxes()) == 15
    finally:
        server.stop()


def test_server_down_gives_a_clear_error_and_keeps_the_copy(directory, slapd):
    directory.sync()
    held, state = directory.mailboxes(), directory.sync_state()
    slapd.stop()
    try:
        r = directory.sync(ok=False)
        assert "Can't contact LDAP server" in r.stderr and slapd.uri in r.stderr
    finally:
        slapd.start()
    assert directory.mailboxes() == held and directory.sync_state() == state


def test_malformed_entries_are_skipped_and_counted(tmp_path, slapd):
    slapd.add(f"uid=no-address,{PEOPLE}", person(200, uid="no-address", mssanteAddress=None))
    slapd.add(f"uid=no-id,{PEOPLE}", person(201, uid="no-id", healthNationalId=None))
    try:
        directory = Directory(tmp_path, slapd)
        result = directory.summary()
        assert result["skipped"] == 2, result["text"]
        assert "uid=no-address" in result["text"] and "no mailbox address" in result["text"]
        assert "PER mailbox without a national id" in result["text"]
        assert "ps201@sante.mssante.test" not in directory.mailboxes().values()
    finally:
        slapd.delete(f"uid=no-address,{PEOPLE}", f"uid=no-id,{PEOPLE}")


def test_metacharacters_are_data_and_bad_mappings_are_refused(tmp_path, slapd):
    hostile = "O'Brien*)(uid=*))\\00'; DROP TABLE mailboxes; --"
    slapd.add(f"uid=hostile,{PEOPLE}", person(300, uid="hostile", sn=hostile, structureName=hostile))
    try:
        directory = Directory(tmp_path, slapd)
        directory.sync()
        uuid = slapd.entry_uuid(f"uid=hostile,{PEOPLE}")
        assert directory.query("SELECT last_name FROM persons WHERE source_key = ?", uuid) == [(hostile,)]
        assert directory.query("SELECT name FROM structures WHERE source_key = ?", uuid) == [(hostile,)]
        r = directory.plexus.ctl("directory", "configure", "--map", "mailbox=mail)(uid=*")
        assert r.returncode != 0 and "not an attribute name" in r.stderr
        assert "mssanteAddress" in (directory.plexus.dir / "plexus.conf").read_text()
    finally:
        slapd.delete(f"uid=hostile,{PEOPLE}")


def test_killed_sync_resumes_without_losing_entries(tmp_path):
    server = Slapd(tmp_path / "slapd")
    server.bulk_seed(3000)
    server.start()
    try:
        directory = Directory(tmp_path, server, "--batch-size", "100")
        proc = subprocess.Popen([str(PLEXUSCTL), "--config", str(directory.plexus.dir / "plexus.conf"),
                                 "directory", "sync"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.time() + 30
        committed = 0
        while time.time() < deadline and proc.poll() is None:
            if directory.db.exists():
                try:
                    committed = directory.query("SELECT count(*) FROM mailboxes")[0][0]
                except sqlite3.OperationalError:
                    committed = 0  # schema not created yet
            if committed:
                break
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL, "the sync ended before it could be killed"
        kept = len(directory.mailboxes())
        assert 0 < kept < 3000
        assert directory.sync_state() is None  # the cookie never passed uncommitted work
        resumed = directory.summary()
        assert resumed["added"] == 3000 - kept and resumed["unchanged"] == kept, resumed["text"]
        assert len(directory.mailboxes()) == 3000
        # The first load was interrupted half way: every mailbox still got its search row.
        assert directory.query("SELECT count(*) FROM mailbox_search")[0][0] == 3000
    finally:
        server.stop()


def test_paged_fallback_without_syncprov(tmp_path):
    server = Slapd(tmp_path / "slapd", syncprov=False, size_limit=25).start()
    try:
        server.seed(60)
        directory = Directory(tmp_path, server, "--page-size", "10")
        first = directory.summary()
        assert "paged full read" in first["text"] and first["added"] == 60, first["text"]
        assert directory.sync_state() == "paged"
        server.modify(person_dn(5), mssanteAddress="modifie@sante.mssante.test")
        server.delete(person_dn(6), person_dn(7))
        second = directory.summary()
        assert (second["added"], second["changed"], second["deleted"]) == (0, 1, 2), second["text"]
        assert "modifie@sante.mssante.test" in directory.mailboxes().values()
        assert len(directory.mailboxes()) == 58
    finally:
        server.stop()


def test_sasl_external_over_ldaps_and_certificate_checking(tmp_path, slapd):
    directory = Directory(tmp_path, slapd)
    r = directory.plexus.ctl("directory", "configure", "--uri", slapd.ldaps_uri, "--sasl-external",
                             "--cert", str(slapd.client_cert), "--key", str(slapd.client_key))
    assert r.returncode == 0, r.stderr
    assert "bind_dn" not in (directory.plexus.dir / "plexus.conf").read_text()
    first = directory.summary()
    assert first["added"] >= 30 and first["added"] == len(directory.mailboxes()), first["text"]

    other_ca = tmp_path / "other-ca.crt"
    other_ca.write_bytes((directory.plexus.dir / "pki/ca.crt").read_bytes())  # trusts another CA only
    assert directory.plexus.ctl("directory", "configure", "--ca", str(other_ca)).returncode == 0
    refused = directory.sync(ok=False)
    assert "SASL EXTERNAL bind failed" in refused.stderr and "Can't contact LDAP server" in refused.stderr
