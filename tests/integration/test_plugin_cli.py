"""plexusctl plugin add|remove|show and plexusctl plugins, on an instance's
configuration file and on the plugin_status / plugin_poison tables that a
running plexusd fills (written here with sqlite3: they are the contract)."""
import sqlite3
import time

import pytest

from plexus_harness import BUILD, Plexus

PLUGINS = BUILD / "tests/plugins"
NOOP = PLUGINS / "plexus-test-noop.so"


@pytest.fixture
def instance(tmp_path):
    return Plexus(tmp_path, "plugins.mssante.test")


def config_bytes(instance):
    return (instance.dir / "plexus.conf").read_bytes()


def plugin_rows(instance):
    """{name: columns} of `plexusctl plugins`."""
    r = instance.ctl("plugins")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    header = lines[0].split()
    rows = {}
    for line in lines[1:]:
        if line.startswith("  error: "):
            rows[last]["ERROR"] = line.removeprefix("  error: ")
            continue
        # STATE may be two words ("not loaded"); every other column is one.
        words = line.replace("not loaded", "not-loaded").split()
        last = words[0]
        rows[last] = dict(zip(header, words))
    return rows


def test_init_writes_an_empty_plugins_section(instance):
    text = config_bytes(instance).decode()
    assert "\n[plugins]\n" in text and "\nenabled =\n" in text
    r = instance.ctl("plugins")
    assert r.returncode == 0, r.stderr
    assert "no plugins enabled" in r.stdout


def test_add_writes_a_section_and_enables_it(instance):
    before = config_bytes(instance).decode()
    r = instance.ctl("plugin", "add", str(NOOP))
    assert r.returncode == 0, r.stderr
    assert "added plugin noop 1.0.0" in r.stdout and "restart plexusd to load it" in r.stdout
    text = config_bytes(instance).decode()
    assert "\nenabled = noop\n" in text
    assert text.endswith(
        "\n\n[plugin.noop]\n"
        "; noop 1.0.0, plugin ABI 1.0: Does nothing; for load and configuration tests\n"
        "; capabilities: none\n"
        f"path = {NOOP}\n"
        "; A verdict hook's time limit, and the attempts before an event is set aside as poison:\n"
        "; deadline_ms = 5000\n"
        "; event_max_attempts = 10\n")
    # Every other line is as init wrote it.
    assert text.replace("\nenabled = noop\n", "\nenabled =\n").startswith(before)
    rows = plugin_rows(instance)
    assert list(rows) == ["noop"]
    assert rows["noop"]["STATE"] == "not-loaded"
    assert rows["noop"]["POISON"] == "0"


def test_add_with_a_name_and_relative_path(instance, monkeypatch):
    assert instance.ctl("plugin", "add", str(NOOP)).returncode == 0
    monkeypatch.chdir(PLUGINS)
    r = instance.ctl("plugin", "add", "plexus-test-noop.so", "--name", "noop-2")
    assert r.returncode == 0, r.stderr
    text = config_bytes(instance).decode()
    assert "\nenabled = noop, noop-2\n" in text
    assert f"[plugin.noop-2]\n" in text and text.count(f"path = {NOOP}\n") == 2
    assert list(plugin_rows(instance)) == ["noop", "noop-2"]


def test_add_refuses_a_name_already_configured(instance):
    assert instance.ctl("plugin", "add", str(NOOP)).returncode == 0
    before = config_bytes(instance)
    r = instance.ctl("plugin", "add", str(NOOP))
    assert r.returncode == 1
    assert "a plugin named noop is already configured" in r.stderr
    assert config_bytes(instance) == before


def test_add_refuses_an_invalid_name(instance):
    before = config_bytes(instance)
    r = instance.ctl("plugin", "add", str(NOOP), "--name", "No_Op")
    assert r.returncode == 2 and "not a plugin name" in r.stderr
    assert config_bytes(instance) == before


@pytest.mark.parametrize("stem, expected", [
    ("abi_next_major", ["ABI 2.0", "ABI 1.0", "major versions must match"]),
    ("abi_next_minor", ["ABI 1.1", "ABI 1.0"]),
    ("not_a_plugin", ["is not a Plexus plugin", "plexus_plugin_entry"]),
    ("missing", ["does not exist"]),
])
def test_add_refuses_what_plexusd_could_not_load(instance, stem, expected):
    before = config_bytes(instance)
    r = instance.ctl("plugin", "add", str(PLUGINS / f"plexus-test-{stem}.so"))
    assert r.returncode == 1, r.stdout
    for text in expected:
        assert text in r.stderr
    assert config_bytes(instance) == before


def test_remove_gives_back_the_configuration(instance):
    before = config_bytes(instance)
    assert instance.ctl("plugin", "add", str(NOOP)).returncode == 0
    assert instance.ctl("plugin", "add", str(NOOP), "--name", "second").returncode == 0
    r = instance.ctl("plugin", "remove", "noop")
    assert r.returncode == 0, r.stderr
    assert "removed plugin noop" in r.stdout
    text = config_bytes(instance).decode()
    assert "[plugin.noop]" not in text and "\nenabled = second\n" in text
    assert instance.ctl("plugin", "remove", "second").returncode == 0
    assert config_bytes(instance) == before


def test_remove_unknown(instance):
    before = config_bytes(instance)
    r = instance.ctl("plugin", "remove", "ghost")
    assert r.returncode == 1
    assert "no plugin ghost" in r.stderr
    assert config_bytes(instance) == before


def test_remove_repairs_a_configuration_plexusd_refuses(instance):
    conf = instance.dir / "plexus.conf"
    conf.write_text(conf.read_text().replace("\nenabled =\n", "\nenabled = ghost\n"))
    r = instance.ctl("plugins")
    assert r.returncode == 1
    assert "plugin ghost is enabled in [plugins] but there is no [plugin.ghost] section with its path" in r.stderr
    assert instance.ctl("plugin", "remove", "ghost").returncode == 0
    assert instance.ctl("plugins").returncode == 0


def write_status(instance, name, path, state, error="", calls=0, failures=0, timeouts=0):
    now = int(time.time())
    with sqlite3.connect(instance.dir / "plexus.db") as db:
        db.execute("INSERT OR REPLACE INTO plugin_status (name, path, version, abi, capabilities, hooks, state, error,"
                   " loaded_at, updated_at, calls, failures, timeouts) VALUES (?, ?, '1.0.0', '1.0', 0,"
                   " 'message,consumer:audit', ?, ?, ?, ?, ?, ?, ?)",
                   (name, str(path), state, error, now, now, calls, failures, timeouts))


def test_plugins_shows_what_plexusd_reports(instance):
    assert instance.ctl("plugin", "add", str(NOOP)).returncode == 0
    assert instance.ctl("plugin", "add", str(NOOP), "--name", "broken").returncode == 0
    assert instance.ctl("plugin", "add", str(NOOP), "--name", "moved").returncode == 0
    write_status(instance, "noop", NOOP, "loaded", calls=7, failures=2, timeouts=1)
    write_status(instance, "broken", NOOP, "failed", error="init returned PLEXUS_ERR_INVALID: no api_key")
    write_status(instance, "moved", "/elsewhere/old.so", "loaded")
    with sqlite3.connect(instance.dir / "plexus.db") as db:
        db.executemany("INSERT INTO plugin_poison (plugin, consumer, event_id, attempts, error, set_aside_at)"
                       " VALUES ('noop', 'audit', ?, 10, ?, 1767225600)",
                       [(41, "registry answered 400"), (42, "malformed event")])
    rows = plugin_rows(instance)
    assert list(rows) == ["noop", "broken", "moved"]
    assert rows["noop"] == {"NAME": "noop", "VERSION": "1.0.0", "ABI": "1.0", "STATE": "loaded", "CALLS": "7",
                            "FAILURES": "2", "TIMEOUTS": "1", "POISON": "2", "HOOKS": "message,consumer:audit"}
    assert rows["broken"]["STATE"] == "failed"
    assert rows["broken"]["ERROR"] == "init returned PLEXUS_ERR_INVALID: no api_key"
    assert rows["moved"]["STATE"] == "not-loaded"  # plexusd runs another file than the one configured


def test_show_details_masks_secrets_and_lists_poison_events(instance):
    assert instance.ctl("plugin", "add", str(NOOP)).returncode == 0
    instance.set_config("plugin.noop", "api_key", "s3cret-value")
    instance.set_config("plugin.noop", "endpoint", "https://registry.test/xds")
    write_status(instance, "noop", NOOP, "loaded", calls=3)
    with sqlite3.connect(instance.dir / "plexus.db") as db:
        db.execute("INSERT INTO plugin_poison (plugin, consumer, event_id, attempts, error, set_aside_at)"
                   " VALUES ('noop', 'audit', 41, 10, 'registry answered 400', 1767225600)")
    r = instance.ctl("plugin", "show", "noop")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "s3cret-value" not in out
    assert "api_key = ***" in out and "endpoint = https://registry.test/xds" in out
    assert f"path = {NOOP}" in out
    for label, value in [("state", "loaded"), ("version", "1.0.0, plugin ABI 1.0"), ("capabilities", "none"),
                         ("calls", "3"), ("deadline_ms", "5000"), ("event_max_attempts", "10"),
                         ("description", "Does nothing; for load and configuration tests")]:
        assert any(line.split(None, 1) == [label, value] for line in out.splitlines()), (label, out)
    assert "poison events: 1" in out
    poison = [line.split() for line in out.splitlines() if line.strip().startswith("audit ")]
    assert poison == [["audit", "41", "10", "2026-01-01", "00:00:00", "registry", "answered", "400"]]


def test_show_unknown(instance):
    r = instance.ctl("plugin", "show", "ghost")
    assert r.returncode == 1 and "no plugin ghost is enabled" in r.stderr
