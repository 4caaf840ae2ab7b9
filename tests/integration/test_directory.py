"""The national directory's local copy: plexusctl directory import/search/show on
generated Extraction_Correspondance_MSSante files (diff, safety brake, header
change, malformed lines), and GET /api/directory/search over HTTPS with curl."""
import json
import urllib.parse

import pytest

from conftest import DOMAIN
from directory_files import CORRESPONDANCE_COLUMNS, generated_lines, write_correspondance
from test_http_api_auth import api_get

MARTIN = f"dr.martin@{DOMAIN}"
GENERATED = 200


def known_lines():
    """Three entries the tests look for, then generated ones."""
    base = {"Type BAL": "PER", "Identification Structure": "750000001", "Code profession": "10",
            "Libelle profession": "Médecin", "Raison sociale structure BAL": "Hôpital Saint-Louis",
            "Code postal structure BAL": "75010", "Ligne acheminement structure BAL": "75010 PARIS",
            "Département structure BAL": "75"}
    return [
        dict(base, **{"Adresse BAL": "helene.eveillard@aphp.mssante.fr", "Identification nationale PP": "810009990001",
                      "Nom d'exercice": "ÉVEILLARD", "Prénom d'exercice": "Hélène", "Civilite exercice": "DR"}),
        dict(base, **{"Adresse BAL": "secret@aphp.mssante.fr", "Identification nationale PP": "810009990002",
                      "Nom d'exercice": "ZORGLUB", "Prénom d'exercice": "Anne", "Liste rouge": "O"}),
        dict(base, **{"Type BAL": "ORG", "Adresse BAL": "urgences@aphp.mssante.fr",
                      "Service de rattachement": "Urgences adultes", "Code profession": "",
                      "Libelle profession": ""}),
    ]


def ctl(plexus, *args):
    return plexus.ctl("directory", *args)


@pytest.fixture(scope="module")
def imported(plexus, tmp_path_factory):
    path = tmp_path_factory.mktemp("national") / "Extraction_Correspondance_MSSante_20261201.txt"
    lines = known_lines() + list(generated_lines(GENERATED))
    write_correspondance(path, lines, with_hidden=True)
    r = ctl(plexus, "import", str(path))
    assert r.returncode == 0, r.stderr
    return path, lines, r.stdout


def test_first_import_reports_its_counts(imported):
    _, _, output = imported
    assert f"{GENERATED + 3} lines, 0 skipped" in output
    assert f"mailboxes: {GENERATED + 3} added, 0 changed, 0 deleted" in output


def test_search_ignores_accents_and_case_and_hides_liste_rouge(plexus, imported):
    r = ctl(plexus, "search", "helene eveil")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("helene.eveillard@aphp.mssante.fr\tPER\tHélène ÉVEILLARD\tMédecin\t75010 PARIS\n")
    assert r.stdout.endswith("1 mailbox\n")
    assert "secret@" not in ctl(plexus, "search", "zorglub").stdout
    r = ctl(plexus, "search", "urgences", "--city", "paris", "--limit", "5")
    assert "urgences@aphp.mssante.fr\tORG" in r.stdout
    r = ctl(plexus, "search", 'lef" OR NEAR(*:^-', "--profession", "médecin")
    assert r.returncode == 0, r.stderr


def test_show_by_address_and_by_national_id(plexus, imported):
    r = ctl(plexus, "show", "HELENE.EVEILLARD@aphp.mssante.fr")
    assert r.returncode == 0, r.stderr
    assert "type: PER" in r.stdout and "owner: Hélène ÉVEILLARD (810009990001)" in r.stdout
    assert "structure: Hôpital Saint-Louis (750000001)" in r.stdout
    r = ctl(plexus, "show", "810009990002")  # an operator sees hidden entries, flagged
    assert r.returncode == 0, r.stderr
    assert "mailbox secret@aphp.mssante.fr" in r.stdout and "liste rouge: yes" in r.stdout
    r = ctl(plexus, "show", "nobody@aphp.mssante.fr")
    assert r.returncode == 1 and "not in the directory" in r.stderr


def test_http_search_authenticated(plexus, imported):
    query = urllib.parse.urlencode({"q": "Hélène Éveil", "city": "Paris", "limit": "10"})
    code, _, body = api_get(plexus, f"/api/directory/search?{query}", "-u", f"{MARTIN}:martin-password")
    assert code == 200, body
    found = json.loads(body)
    assert found["count"] >= 1
    first = found["results"][0]
    assert first["address"] == "helene.eveillard@aphp.mssante.fr"
    assert (first["type"], first["nationalId"], first["city"]) == ("PER", "810009990001", "PARIS")
    code, _, body = api_get(plexus, "/api/directory/search?q=zorglub", "-u", f"{MARTIN}:martin-password")
    assert code == 200 and json.loads(body)["count"] == 0


def test_http_search_refusals(plexus, imported):
    code, headers, _ = api_get(plexus, "/api/directory/search?q=helene")
    assert code == 401 and "Basic" in headers["www-authenticate"]
    auth = ["-u", f"{MARTIN}:martin-password"]
    for bad in ("q=" + "a" * 300, "q=helene&limit=0", "q=helene&limit=1000", "q=helene&color=red", "q=%22*%5E"):
        code, _, body = api_get(plexus, f"/api/directory/search?{bad}", *auth)
        assert code == 400, (bad, body)
    hostile = urllib.parse.quote('lef" OR "x" NEAR(a b) name:* ^-')
    code, _, body = api_get(plexus, f"/api/directory/search?q={hostile}", *auth)
    assert code == 200 and json.loads(body)["count"] == 0


def test_reimport_is_a_diff_with_a_safety_brake(plexus, imported, tmp_path):
    path, lines, _ = imported
    changed = [dict(v) for v in lines]
    changed[0]["Nom d'exercice"] = "ÉVEILLARD-MARTIN"
    del changed[-1]
    changed.append(dict(changed[0], **{"Adresse BAL": "nouveau@aphp.mssante.fr",
                                       "Identification nationale PP": "810009990003"}))
    changed.insert(5, {"Adresse BAL": "pas-une-adresse", "Type BAL": "PER"})
    write_correspondance(path, changed, with_hidden=True)
    r = ctl(plexus, "import", str(path))
    assert r.returncode == 0, r.stderr
    assert "1 skipped" in r.stdout and "no valid mailbox address" in r.stdout
    assert "mailboxes: 1 added, 0 changed, 1 deleted" in r.stdout
    assert "persons: 1 added, 1 changed" in r.stdout
    assert "ÉVEILLARD-MARTIN" in ctl(plexus, "show", "810009990001").stdout

    half = tmp_path / "Extraction_Correspondance_MSSante_half.txt"
    write_correspondance(half, changed[: len(changed) // 2], with_hidden=True)
    r = ctl(plexus, "import", str(half))
    assert r.returncode == 1 and "--force" in r.stderr
    assert ctl(plexus, "show", lines[-2]["Adresse BAL"]).returncode == 0  # nothing deleted

    renamed = tmp_path / "Extraction_Correspondance_MSSante_renamed.txt"
    columns = [("Adresse de la BAL" if c == "Adresse BAL" else c) for c in CORRESPONDANCE_COLUMNS]
    write_correspondance(renamed, [], columns=columns)
    r = ctl(plexus, "import", str(renamed))
    assert r.returncode == 1 and "lacks the columns: Adresse BAL" in r.stderr
    assert ctl(plexus, "show", "helene.eveillard@aphp.mssante.fr").returncode == 0
