"""Plugins loaded into a running plexusd: the SDK's example built out of tree,
and tests/plugins/policy.cpp, which drives every kind of hook and host service
from its configuration and from the messages it sees."""
import base64
import json
import re
import signal
import smtplib
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from plexus_harness import BUILD, Plexus
from sdk_example import build_example_plugin
from test_imap_access import Imap, message

DOMAIN = "hopital.mssante.test"
PEER = "clinique.mssante.test"
MARTIN = f"dr.martin@{DOMAIN}"
DURAND = f"ide.durand@{DOMAIN}"
ROBOT = f"telesuivi@{DOMAIN}"
INTERNE = f"interne@{DOMAIN}"  # the test policy refuses its logins
TEST_PLUGINS = BUILD / "tests/plugins"


def plugin_path(stem):
    return TEST_PLUGINS / f"plexus-test-{stem}.so"


def add_plugin(p, path, name=None, **values):
    args = ["plugin", "add", str(path)] + (["--name", name] if name else [])
    r = p.ctl(*args)
    assert r.returncode == 0, r.stderr
    section = f"plugin.{name or Path(path).stem.removeprefix('plexus-test-').removeprefix('plexus-')}"
    for key, value in values.items():
        p.set_config(section, key, str(value))


def wait_for(predicate, timeout=10, step=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


def api(p, path, user=MARTIN, password="martin-password", method="GET", data=None, headers=False):
    args = ["curl", "-sS", "--cacert", str(p.ca), "--resolve", f"mail.{DOMAIN}:{p.ports['http']}:127.0.0.1",
            "-X", method, "-w", "\n%{http_code}"] + (["-i"] if headers else [])
    if user:
        args += ["-u", f"{user}:{password}"]
    if data is not None:
        args += ["--data-binary", data]
    r = subprocess.run(args + [f"https://mail.{DOMAIN}:{p.ports['http']}{path}"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    body, _, code = r.stdout.rpartition("\n")
    return int(code), body


def metrics(p):
    code, text = api(p, "/metrics", user=None)
    assert code == 200
    return {name: float(value) for name, value in
            (line.rsplit(" ", 1) for line in text.splitlines() if line and not line.startswith("#"))}


def db_rows(p, sql, *args):
    db = sqlite3.connect(f"file:{p.dir / 'plexus.db'}?mode=ro", uri=True)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


def fetch_inbox(p, user, password):
    """Every INBOX message's header block, over IMAP."""
    c = p.imap(user=user, password=password)
    try:
        c.select("INBOX", readonly=True)
        typ, data = c.uid("SEARCH", None, "ALL")
        uids = data[0].split()
        headers = []
        for uid in uids:
            typ, parts = c.uid("FETCH", uid, "(BODY.PEEK[HEADER])")
            headers.append(parts[0][1].decode(errors="replace"))
        return headers
    finally:
        c.logout()


def send(p, subject, to=DURAND, body="Bonjour,\r\nrésultats joints.\r\n"):
    s = p.smtp()
    s.login(MARTIN, "martin-password")
    try:
        return s.sendmail(MARTIN, [to], message(subject, body))
    finally:
        s.quit()


def refusal(p, subject):
    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(p, subject)
    return refused.value.smtp_code, refused.value.smtp_error.decode()


@pytest.fixture(scope="module")
def p(tmp_path_factory):
    root = tmp_path_factory.mktemp("plugins")
    example = build_example_plugin(root / "sdk")
    plexus = Plexus(root, DOMAIN)
    plexus.add_mailbox(MARTIN, "PER", "810000000001", "martin-password")
    plexus.add_mailbox(DURAND, "PER", "810000000002", "durand-password")
    plexus.add_mailbox(ROBOT, "APP", "750000003")
    plexus.add_mailbox(INTERNE, "PER", "810000000003", "interne-password")
    peer_cert = plexus.issue_cert(f"mx.{PEER}")
    plexus.write_whitelist([(DOMAIN, plexus.server_dn()), (PEER, peer_cert[2])])
    plexus.events_file = root / "events.log"
    plexus.pause_file = root / "pause"
    plexus.block_file = root / "block"
    add_plugin(plexus, example, name="example")
    add_plugin(plexus, plugin_path("policy"), name="policy", deadline_ms=400, event_max_attempts=3,
               reject_recipient=f"refuse-me@{PEER}", defer_sender=f"secretariat@{DOMAIN}", refuse_login=INTERNE, submit_as=ROBOT,
               events_file=plexus.events_file, pause_file=plexus.pause_file, block_file=plexus.block_file)
    plexus.start()
    yield plexus
    plexus.stop()


def test_plexusctl_lists_the_loaded_plugins(p):
    r = p.ctl("plugins")
    assert r.returncode == 0, r.stderr
    lines = {line.split()[0]: line for line in r.stdout.splitlines() if line.split()}
    assert "loaded" in lines["policy"] and "1.2.3" in lines["policy"], r.stdout
    assert "loaded" in lines["example"], r.stdout
    hooks = db_rows(p, "SELECT hooks FROM plugin_status WHERE name = 'policy'")[0][0]
    assert hooks == "connect,mail_from,rcpt_to,message,auth,consumer:log,consumer:poison,timer,http"


def test_headers_added_by_plugins_are_seen_over_imap(p):
    send(p, "Compte rendu")
    headers = wait_for(lambda: [h for h in fetch_inbox(p, DURAND, "durand-password") if "Compte rendu" in h])
    assert headers, "message not delivered"
    assert re.search(r"^X-Plexus-Example: .+", headers[-1], re.M), headers[-1]
    assert re.search(r"^X-Policy-Parts: 1\r?$", headers[-1], re.M), headers[-1]


def test_a_rejecting_rcpt_hook_code_reaches_the_client(p):
    s = p.smtp()
    s.login(MARTIN, "martin-password")
    s.mail(MARTIN)
    code, text = s.rcpt(f"refuse-me@{PEER}")
    assert (code, text.decode()) == (550, "5.7.1 Recipient refused by the test policy")
    assert s.rcpt(DURAND)[0] == 250  # the session goes on
    s.quit()


def test_a_deferring_mail_from_hook(p):
    p.add_mailbox(f"secretariat@{DOMAIN}", "ORG", "750000001")
    assert p.ctl("delegate", "add", f"secretariat@{DOMAIN}", MARTIN).returncode == 0
    s = p.smtp()
    s.login(MARTIN, "martin-password")
    code, text = s.mail(f"secretariat@{DOMAIN}")
    assert (code, text.decode()) == (450, "4.7.1 Sender paused by the test policy")
    assert s.mail(MARTIN)[0] == 250
    s.quit()


def test_message_verdicts_reject_and_defer(p):
    assert refusal(p, "[reject] ordonnance") == (554, "5.7.1 Message refused by the test policy")
    assert refusal(p, "[defer] ordonnance") == (451, "4.7.1 Try again later (plugin policy)")


@pytest.mark.parametrize("trigger", ["[error]", "[throw]", "[sleep]"])
def test_a_failing_plugin_degrades_to_a_temporary_failure(p, trigger):
    before = db_rows(p, "SELECT count(*) FROM events WHERE type = 'plugin.failed'")[0][0]
    code, text = refusal(p, f"{trigger} bilan")
    assert code == 451 and text.startswith("4.3.0 "), text
    send(p, "after a failure")  # the server lives on: the next message goes through
    failed = wait_for(lambda: db_rows(p, "SELECT object, outcome FROM events WHERE type = 'plugin.failed' "
                                         "ORDER BY id")[before:])
    assert failed and failed[0][0] == "message"
    expected = {"[error]": "the test policy was asked to fail", "[throw]": "thrown by the test policy",
                "[sleep]": "deadline"}[trigger]
    assert expected in failed[0][1]


def test_failures_are_counted_for_the_operator(p):
    for trigger in ("[error]", "[sleep]"):
        refusal(p, f"{trigger} compteur")
    values = metrics(p)
    assert values['plexus_plugin_hook_failures_total{plugin="policy",hook="message"}'] >= 2
    assert values['plexus_plugin_hook_calls_total{plugin="policy",hook="message"}'] >= 2
    row = wait_for(lambda: [r for r in db_rows(p, "SELECT failures, timeouts FROM plugin_status WHERE name = 'policy'")
                            if r[0] >= 2 and r[1] >= 1], timeout=12)
    assert row, db_rows(p, "SELECT * FROM plugin_status")


def test_take_over_accepts_without_storing(p):
    before = len(fetch_inbox(p, DURAND, "durand-password"))
    s = p.smtp()
    s.login(MARTIN, "martin-password")
    s.mail(MARTIN)
    s.rcpt(DURAND)
    code, text = s.data(message("[takeover] transmission"))
    s.quit()
    assert (code, text.decode()) == (250, "2.0.0 Ok: delivered (plugin policy)")
    assert len(fetch_inbox(p, DURAND, "durand-password")) == before
    keys = db_rows(p, "SELECT key, length(value) FROM plugin_storage WHERE plugin = 'policy' AND key LIKE 'taken/%'")
    assert keys and keys[0][1] > 100


def test_replaced_content_is_what_is_stored(p):
    send(p, "[replace] données sensibles", body="NIR 1 84 12 75 123 456 78\r\n")
    headers = wait_for(lambda: [h for h in fetch_inbox(p, DURAND, "durand-password")
                                if "replaced by the test policy" in h])
    assert headers and "X-Policy-Parts" in headers[-1]


def test_authentication_hook_refuses_a_login(p):
    c = Imap(p)
    status, _ = c.run(f'LOGIN {INTERNE} interne-password')
    assert status == "NO [AUTHENTICATIONFAILED] Login refused by the test policy", status
    c.close()
    s = p.smtp()
    with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
        s.login(INTERNE, "interne-password")
    assert refused.value.smtp_code == 535
    s.login(MARTIN, "martin-password")  # others still log in
    s.quit()


def test_connect_hook_refuses_connections(p):
    p.block_file.write_text("")
    try:
        with pytest.raises(smtplib.SMTPConnectError) as refused:
            smtplib.SMTP("127.0.0.1", p.ports["submission"], timeout=10)
        assert refused.value.smtp_code == 554
        assert b"refused by the test policy" in refused.value.smtp_error
    finally:
        p.block_file.unlink()
    smtplib.SMTP("127.0.0.1", p.ports["submission"], timeout=10).quit()


def test_http_routes_sit_behind_the_api_authentication(p):
    assert api(p, "/api/plugins/policy/whoami") == (200, json.dumps({"identity": MARTIN}))
    code, _ = api(p, "/api/plugins/policy/whoami", user=None)
    assert code == 401
    code, _ = api(p, "/api/plugins/policy/whoami", password="wrong")
    assert code == 401
    assert api(p, "/api/plugins/nosuch/whoami")[0] == 404
    assert api(p, "/api/plugins/policy/nosuch")[0] == 404
    assert api(p, "/api/plugins/policy/whoami", method="POST", data="x")[0] == 405


def test_timer_and_storage(p):
    code, body = api(p, "/api/plugins/policy/ticks", headers=True)
    head, _, json_body = body.partition("\n\n")  # text mode: CRLF read as LF
    assert code == 200 and re.search(r"^cache-control: no-store$", head, re.M | re.I), head
    assert json.loads(json_body)["framing_refused"] is True
    first = json.loads(json_body)["ticks"]
    assert wait_for(lambda: json.loads(api(p, "/api/plugins/policy/ticks")[1])["ticks"] >= first + 3, timeout=5)


def test_submission_from_the_technical_identity(p):
    code, body = api(p, "/api/plugins/policy/submit", method="POST", data=DURAND)
    assert code == 200, body
    assert re.fullmatch(r"[0-9a-f]{12}", json.loads(body)["queue_id"])
    headers = wait_for(lambda: [h for h in fetch_inbox(p, DURAND, "durand-password") if "alert from the test policy" in h])
    assert headers and f"From: {ROBOT}" in headers[-1] and "(Plexus plugin policy)" in headers[-1]
    # A recipient outside the trust space is refused (PLEXUS_ERR_DENIED), a local unknown one not found.
    assert api(p, "/api/plugins/policy/submit", method="POST", data="x@elsewhere.example")[1] == \
        json.dumps({"status": 4, "queue_id": ""})
    assert json.loads(api(p, "/api/plugins/policy/submit", method="POST", data=f"nobody@{DOMAIN}")[1])["status"] == 2


def test_workspace_mailbox_and_acl_management(p):
    team = f"equipe-diabete@{DOMAIN}"
    assert api(p, "/api/plugins/policy/workspace", method="POST", data=team)[0] == 201
    assert api(p, "/api/plugins/policy/workspace", method="POST", data=team) == (409, json.dumps({"status": 3}))
    c = p.imap(user=MARTIN, password="martin-password")
    typ, listed = c.list()
    c.logout()
    assert any(f"Shared/{team}/Team".encode() in line for line in listed), "\n".join(map(repr, listed))
    actors = db_rows(p, "SELECT type, actor FROM events WHERE object LIKE ? ORDER BY id", f"{team}%")
    assert ("mailbox.created", "plugin:policy") in actors and ("acl.changed", "plugin:policy") in actors


def test_directory_search(p):
    code, body = api(p, "/api/plugins/policy/directory?q=dr.mar")
    assert code == 200 and json.loads(body) == [MARTIN]


def test_consumers_see_events_in_order_and_poison_is_set_aside(p):
    assert api(p, "/api/plugins/policy/audit", method="POST", data="poison-42")[0] == 200
    assert api(p, "/api/plugins/policy/audit", method="POST", data="dossier-7")[0] == 200
    def checked():
        lines = [l for l in p.events_file.read_text().splitlines() if "workspace.checked" in l]
        return lines if sum(("poison-42" in l) + ("dossier-7" in l) for l in lines) >= 2 else None
    logged = wait_for(checked)
    assert [l.split()[2] for l in logged[-2:]] == ["poison-42", "dossier-7"]
    ids = [int(l.split()[0]) for l in p.events_file.read_text().splitlines()]
    assert ids == sorted(ids)
    poisoned = wait_for(lambda: db_rows(p, "SELECT consumer, error FROM plugin_poison WHERE plugin = 'policy'"))
    assert poisoned and poisoned[0][0] == "poison" and "poisonous object" in poisoned[0][1]
    r = p.ctl("plugin", "show", "policy")
    assert r.returncode == 0 and "poisonous object" in r.stdout, r.stdout


def test_a_paused_consumer_catches_up_in_order(p):
    p.pause_file.write_text("")
    try:
        start = db_rows(p, "SELECT max(id) FROM events")[0][0]
        for i in range(3):
            send(p, f"pendant la panne {i}")
        assert wait_for(lambda: metrics(p).get('plexus_plugin_event_backlog{plugin="policy",consumer="log"}', 0) >= 3)
    finally:
        p.pause_file.unlink()
    expected = [r[0] for r in db_rows(p, "SELECT id FROM events WHERE id > ? AND (type LIKE 'message.%' OR "
                                         "type LIKE 'plugin.%') ORDER BY id", start)]
    got = wait_for(lambda: [int(l.split()[0]) for l in p.events_file.read_text().splitlines()
                            if int(l.split()[0]) > start] if len(expected) else None)
    assert got[:len(expected)] == expected


def new_instance(root, **plugins):
    plexus = Plexus(root, DOMAIN)
    plexus.add_mailbox(MARTIN, "PER", "810000000001", "martin-password")
    plexus.add_mailbox(DURAND, "PER", "810000000002", "durand-password")
    return plexus


def test_consumer_gets_every_event_after_kill_9(tmp_path):
    plexus = new_instance(tmp_path)
    events_file = tmp_path / "events.log"
    add_plugin(plexus, plugin_path("policy"), name="policy", events_file=events_file,
               pause_file=tmp_path / "pause", block_file=tmp_path / "block")
    plexus.start()
    try:
        for i in range(10):
            send(plexus, f"avant {i}")
        plexus.stop(signal.SIGKILL)
        plexus.start()
        for i in range(5):
            send(plexus, f"après {i}")
        expected = {r[0] for r in db_rows(plexus, "SELECT id FROM events WHERE type = 'message.received'")}
        assert len(expected) == 15
        seen = wait_for(lambda: expected <= {int(l.split()[0]) for l in events_file.read_text().splitlines()})
        assert seen, sorted(expected - {int(l.split()[0]) for l in events_file.read_text().splitlines()})
    finally:
        plexus.stop()


@pytest.mark.parametrize("stem,message,status", [
    ("abi_next_major", r"built for plugin ABI 2\.0; this plexusd provides ABI 1\.0",
     r"built for plugin ABI 2\.0; this plexusd provides ABI 1\.0"),
    ("overreach", r"a message hook needs capability message_hook, which the plugin's descriptor does not declare",
     r"init\(\) failed: error 4: the host refused the message hook"),
])
def test_plexusd_refuses_to_start_with_a_bad_plugin(tmp_path, stem, message, status):
    plexus = new_instance(tmp_path)
    # Written by hand: plexusctl plugin add refuses such plugins itself.
    conf = plexus.dir / "plexus.conf"
    conf.write_text(conf.read_text() + f"\n[plugin.bad]\npath = {plugin_path(stem)}\n")
    plexus.set_config("plugins", "enabled", "bad")
    with pytest.raises(RuntimeError) as failed:
        plexus.start()
    assert re.search(message, str(failed.value)), str(failed.value)
    rows = db_rows(plexus, "SELECT state, error FROM plugin_status WHERE name = 'bad'")
    assert rows and rows[0][0] == "failed" and re.search(status, rows[0][1]), rows


def test_a_stored_message_read_part_by_part(p):
    attachment = "HbA1c=7.2% le 2026-11-30, glycemie a jeun 1.31 g/L"
    encoded = base64.b64encode(attachment.encode()).decode()
    raw = (f"From: {MARTIN}\r\nTo: {DURAND}\r\nSubject: Bilan avec PJ\r\nMIME-Version: 1.0\r\n"
           "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n\r\nVoir la piece jointe.\r\n--b1\r\n"
           "Content-Type: text/plain; name=\"cr.txt\"\r\nContent-Disposition: attachment; filename=\"cr.txt\"\r\n"
           f"Content-Transfer-Encoding: base64\r\n\r\n{encoded[:20]}\r\n{encoded[20:]}\r\n--b1--\r\n")
    s = p.smtp()
    s.login(MARTIN, "martin-password")
    s.sendmail(MARTIN, [DURAND], raw.encode())
    s.quit()
    c = p.imap(user=DURAND, password="durand-password")
    c.select("INBOX", readonly=True)
    uid = wait_for(lambda: c.uid("SEARCH", None, "SUBJECT", '"Bilan avec PJ"')[1][0].split())[-1].decode()
    c.logout()
    start = db_rows(p, "SELECT max(id) FROM events")[0][0]
    code, body = api(p, f"/api/plugins/policy/message?mailbox={DURAND}&uid={uid}")
    assert code == 200, body
    read = json.loads(body)
    assert read["subject"] == "Bilan avec PJ"
    assert read["parts"] == [["", "multipart/mixed", ""], ["1", "text/plain", ""], ["2", "text/plain", "cr.txt"]]
    assert read["attachment"] == attachment
    # Reading a mailbox is audited like any access, with the plugin as actor.
    assert wait_for(lambda: db_rows(p, "SELECT actor, object FROM events WHERE id > ? AND type = 'message.read'",
                                    start)) == [("plugin:policy", DURAND)]
    assert api(p, f"/api/plugins/policy/message?mailbox={DURAND}&uid=999999") == (404, json.dumps({"status": 2}))
