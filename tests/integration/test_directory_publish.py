"""plexusctl directory configure-publish / publish: this instance's own
mailboxes pushed to a real slapd (slapd_fixture, a writable branch of the test
suffix) as adds, modifications of what changed and deletions, and exported in
the national extraction's layout, read back by `directory import` elsewhere."""
import base64
import re
import sqlite3
import subprocess

import pytest

from plexus_harness import Plexus
from slapd_fixture import ADMIN_DN, ADMIN_PASSWORD, SUFFIX, Slapd

DOMAIN = "hopital.mssante.test"
BRANCH = f"ou=local,{SUFFIX}"
MAPPING = {
    "mailbox": "mssanteAddress", "mailbox_type": "mssanteMailboxType", "national_id": "healthNationalId",
    "last_name": "sn", "first_name": "givenName", "profession_label": "healthProfessionLabel",
    "finess": "structureFiness", "siret": "structureSiret", "structure_name": "structureName",
    "city": "structureCity", "service": "mssanteService", "hidden": "mssanteHidden",
}
ACTIVITY_HEADER = ("Identification nationale PP|Code civilité d'exercice|Nom d'exercice|Prénom d'exercice|"
                   "Code profession|Libellé profession|Code savoir-faire|Libellé savoir-faire|Code mode exercice")
SUMMARY = re.compile(r"(\d+) added, (\d+) changed, (\d+) removed, (\d+) unchanged(?:, (\d+) failed)?")
MARTIN, ACCUEIL, LABO = f"dr.martin@{DOMAIN}", f"accueil@{DOMAIN}", f"labo+resultats@{DOMAIN}"


@pytest.fixture(scope="module")
def slapd(tmp_path_factory):
    server = Slapd(tmp_path_factory.mktemp("slapd")).start()
    server.seed(0)
    server.add(BRANCH, {"objectClass": "organizationalUnit", "ou": "local"})
    yield server
    server.stop()


def counts(result):
    found = SUMMARY.search(result.stdout)
    assert found, result.stdout + result.stderr
    return tuple(int(n) for n in found.groups() if n is not None)


def import_names(plexus, tmp_path, last_name):
    """The directory's local copy knows Dr Martin (a PS_LibreAcces_Personne_activite file)."""
    path = tmp_path / "PS_LibreAcces_Personne_activite_1.txt"
    path.write_text(f"{ACTIVITY_HEADER}|\n810000000001|DR|{last_name}|Jeanne|10|Médecin|SM54|Médecine générale|L|\n",
                    encoding="utf-8")
    r = plexus.ctl("directory", "import", str(path), "--force")
    assert r.returncode == 0, r.stdout + r.stderr


def instance(tmp_path):
    tmp_path.mkdir(parents=True, exist_ok=True)
    plexus = Plexus(tmp_path, DOMAIN)
    plexus.add_mailbox(MARTIN, "PER", "810000000001")
    plexus.add_mailbox(ACCUEIL, "ORG", "750000001")
    plexus.add_mailbox(LABO, "APP", "750000002")
    import_names(plexus, tmp_path, "Martin")
    return plexus


def configure(plexus, slapd, uri=None):
    password = plexus.dir / "publish.password"
    password.write_text(ADMIN_PASSWORD + "\n")
    maps = [arg for field, attr in MAPPING.items() for arg in ("--map", f"{field}={attr}")]
    r = plexus.ctl("directory", "configure-publish", "--uri", uri or slapd.uri, "--base", BRANCH,
                   "--bind-dn", ADMIN_DN, "--password-file", str(password), "--ca", str(slapd.ca),
                   "--object-class", "mssantePublishedMailbox", "--object-class", "mssanteMailbox",
                   "--rdn", "mssanteAddress", *maps)
    assert r.returncode == 0, r.stdout + r.stderr


def publish(plexus, *flags, ok=True):
    r = plexus.ctl("directory", "publish", *flags)
    assert (r.returncode == 0) == ok, r.stdout + r.stderr
    return r


def entries(slapd):
    """DN -> {attribute: value} of the published branch, with entryCSN."""
    out = slapd._tool("ldapsearch", "", "-LLL", "-o", "ldif-wrap=no", "-b", BRANCH, "-s", "one",
                      "(objectClass=*)", "*", "entryCSN")
    found = {}
    for block in filter(None, out.strip().split("\n\n")):
        attrs = {}
        for line in block.splitlines():
            name, _, value = line.partition(":")
            if value.startswith(":"):
                value = base64.b64decode(value[1:].strip()).decode()
            attrs[name] = value.strip()
        found[attrs.pop("dn")] = attrs
    return found


def by_address(slapd):
    return {attrs["mssanteAddress"]: (dn, attrs) for dn, attrs in entries(slapd).items()}


def published_rows(plexus):
    with sqlite3.connect(plexus.dir / "directory.db") as db:
        return db.execute("SELECT address, dn FROM publication WHERE target LIKE 'ldap %' ORDER BY address").fetchall()


def test_publish_adds_then_applies_only_what_changed(tmp_path, slapd):
    plexus = instance(tmp_path)
    configure(plexus, slapd)
    assert counts(publish(plexus, "--dry-run")) == (3, 0, 0, 0, 0)
    assert entries(slapd) == {}

    assert counts(publish(plexus)) == (3, 0, 0, 0, 0)
    held = by_address(slapd)
    assert set(held) == {MARTIN, ACCUEIL, LABO}
    martin_dn, martin = held[MARTIN]
    assert martin_dn.lower() == f"mssanteaddress={MARTIN},{BRANCH}".lower()
    assert (martin["sn"], martin["givenName"], martin["mssanteMailboxType"]) == ("Martin", "Jeanne", "PER")
    assert (martin["healthNationalId"], martin["mssanteHidden"]) == ("810000000001", "FALSE")
    assert held[ACCUEIL][1]["structureFiness"] == "750000001"
    assert dict(published_rows(plexus))[LABO] == rf"mssanteaddress=labo\2Bresultats@{DOMAIN},{BRANCH}"  # RFC 4514

    # Nothing changed: no operation at all.
    assert counts(publish(plexus)) == (0, 0, 0, 3, 0)
    assert entries(slapd) == {dn: attrs for dn, attrs in held.values()}

    # A new name in the directory's copy: only that entry is modified.
    import_names(plexus, tmp_path, "Martin-Durand")
    assert counts(publish(plexus)) == (0, 1, 0, 2, 0)
    now = by_address(slapd)
    assert now[MARTIN][1]["sn"] == "Martin-Durand"
    assert now[MARTIN][1]["entryCSN"] != martin["entryCSN"]
    assert now[ACCUEIL] == held[ACCUEIL] and now[LABO] == held[LABO]

    # A mailbox removed, another one of another type now: one delete, one modify.
    for args in (("mailbox", "remove", LABO), ("mailbox", "remove", ACCUEIL),
                 ("mailbox", "add", ACCUEIL, "--type", "APP", "--finess", "750000009")):
        r = plexus.ctl(*args)
        assert r.returncode == 0, r.stderr
    # One of the three published is more than max_delete_share (0.2): the brake, then --force.
    before = entries(slapd)
    refused = publish(plexus, ok=False)
    assert "safety brake: this publication would remove 1 of the 3 mailboxes published" in refused.stderr, refused.stderr
    assert "--force" in refused.stderr
    assert entries(slapd) == before and len(published_rows(plexus)) == 3
    assert counts(publish(plexus, "--dry-run")) == (0, 1, 1, 1, 0)
    assert counts(publish(plexus, "--force")) == (0, 1, 1, 1, 0)
    now = by_address(slapd)
    assert set(now) == {MARTIN, ACCUEIL}
    assert (now[ACCUEIL][1]["mssanteMailboxType"], now[ACCUEIL][1]["structureFiness"]) == ("APP", "750000009")
    assert now[MARTIN][1]["entryCSN"] != martin["entryCSN"]
    assert [address for address, _ in published_rows(plexus)] == [ACCUEIL, MARTIN]

    for address in (MARTIN, ACCUEIL):
        assert plexus.ctl("mailbox", "remove", address).returncode == 0
    publish(plexus, ok=False)
    assert counts(publish(plexus, "--force")) == (0, 0, 2, 0, 0)
    assert entries(slapd) == {} and published_rows(plexus) == []


def test_server_down_changes_nothing_and_a_lost_state_does_not_duplicate(tmp_path, slapd):
    plexus = instance(tmp_path)
    configure(plexus, slapd)
    slapd.stop()
    try:
        r = publish(plexus, ok=False)
        assert "Can't contact LDAP server" in r.stderr and slapd.uri in r.stderr
    finally:
        slapd.start()
    assert published_rows(plexus) == []
    try:
        assert counts(publish(plexus)) == (3, 0, 0, 0, 0)
        assert len(published_rows(plexus)) == 3
        # The record of a publication lost (e.g. killed before it was written):
        # the entries found already there (68) are updated, not duplicated.
        with sqlite3.connect(plexus.dir / "directory.db") as db:
            db.execute("DELETE FROM publication")
        import_names(plexus, tmp_path, "Martin-Leroy")
        assert counts(publish(plexus)) == (3, 0, 0, 0, 0)
        held = by_address(slapd)
        assert len(entries(slapd)) == 3 and held[MARTIN][1]["sn"] == "Martin-Leroy"
    finally:
        for dn in entries(slapd):
            slapd.delete(dn)


def test_an_entry_refused_is_reported_and_the_others_published(tmp_path, slapd):
    plexus = instance(tmp_path)
    configure(plexus, slapd)
    # Someone else's entry at accueil's DN, of a class without the mailbox attributes:
    # the add finds it (68), the modify that follows is refused (65).
    blocked = f"mssanteAddress={ACCUEIL},{BRANCH}"
    slapd.add(blocked, {"objectClass": "mssantePublishedMailbox", "mssanteAddress": ACCUEIL})
    try:
        r = publish(plexus, ok=False)
        assert counts(r) == (2, 0, 0, 0, 1)
        assert re.search(rf"failed {re.escape(ACCUEIL)}: modify of {re.escape(blocked)} .*: "
                         "Object class violation", r.stdout, re.IGNORECASE), r.stdout
        assert [address for address, _ in published_rows(plexus)] == [MARTIN, LABO]
        assert counts(publish(plexus, ok=False)) == (0, 0, 0, 2, 1)  # only the refused one is tried again
    finally:
        for dn in entries(slapd):
            slapd.delete(dn)


def test_export_in_the_national_layout_reads_back_on_another_instance(tmp_path):
    plexus = instance(tmp_path / "a")
    path = plexus.dir / "Extraction_Correspondance_MSSante_export.txt"
    r = publish(plexus, "--export", str(path))
    assert counts(r) == (3, 0, 0, 0)
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[-1] == "" and len(lines) == 5
    header = lines[0].split("|")
    assert len(header) == 32 and header[:2] == ["Type BAL", "Adresse BAL"] and header[-1] == "Liste rouge"
    rows = [dict(zip(header, line.split("|"))) for line in lines[1:-1]]
    assert all(len(line.split("|")) == 32 for line in lines[1:-1])
    martin = next(row for row in rows if row["Adresse BAL"] == MARTIN)
    assert (martin["Type BAL"], martin["Identification nationale PP"], martin["Nom d'exercice"],
            martin["Liste rouge"]) == ("PER", "810000000001", "Martin", "N")

    (tmp_path / "b").mkdir()
    other = Plexus(tmp_path / "b", "autre.mssante.test")
    r = other.ctl("directory", "import", str(path))
    assert r.returncode == 0, r.stdout + r.stderr
    with sqlite3.connect(other.dir / "directory.db") as db:
        imported = db.execute("SELECT address, type, owner_national_id, owner_structure_id FROM mailboxes "
                              "ORDER BY address").fetchall()
    assert imported == [(ACCUEIL, "ORG", "", "750000001"), (MARTIN, "PER", "810000000001", ""),
                        (LABO, "APP", "", "750000002")]
    show = other.ctl("directory", "show", MARTIN)
    assert "Martin" in show.stdout, show.stdout

    assert plexus.ctl("mailbox", "remove", LABO).returncode == 0
    assert counts(publish(plexus, "--export", str(path), "--dry-run")) == (0, 0, 1, 2)
    assert len(path.read_text(encoding="utf-8").split("\n")) == 5  # a dry run writes nothing
    assert counts(publish(plexus, "--export", str(path))) == (0, 0, 1, 2)
    assert counts(publish(plexus, "--export", str(path))) == (0, 0, 0, 2)
    assert LABO not in path.read_text(encoding="utf-8")
