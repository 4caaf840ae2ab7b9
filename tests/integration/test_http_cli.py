"""The HTTPS API (/healthz, /metrics, autoconfig) with curl, and plexusctl's behaviour."""
import http.client
import json
import subprocess
import time
from xml.etree import ElementTree

import pytest

from conftest import DOMAIN

MARTIN = f"dr.martin@{DOMAIN}"


def curl(plexus, path):
    r = subprocess.run(["curl", "-sS", "--cacert", str(plexus.ca), "--resolve",
                        f"mail.{DOMAIN}:{plexus.ports['http']}:127.0.0.1",
                        f"https://mail.{DOMAIN}:{plexus.ports['http']}{path}", "-w", "\n%{http_code}"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    body, _, code = r.stdout.rpartition("\n")
    return int(code), body


def test_healthz(plexus):
    code, body = curl(plexus, "/healthz")
    assert code == 200 and json.loads(body)["status"] == "ok"


def test_metrics_count_sessions_messages_refusals_and_commits(plexus):
    s = plexus.smtp()
    s.login(MARTIN, "martin-password")
    s.sendmail(MARTIN, [f"ide.durand@{DOMAIN}"], b"Subject: metrics\r\n\r\nx\r\n")
    s.mail(MARTIN)
    s.rcpt("nobody@" + DOMAIN)
    s.quit()
    code, text = curl(plexus, "/metrics")
    assert code == 200
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    assert values["plexus_smtp_messages_accepted_total"] >= 1
    assert values['plexus_smtp_messages_refused_total{reason="unknown_recipient"}'] >= 1
    assert values['plexus_sessions_total{listener="submission"}'] >= 1
    assert values["plexus_store_commit_seconds_count"] >= 1
    assert "plexus_smtp_bytes_received_total" in values
    assert values['plexus_sessions_active{listener="submission"}'] == 0


@pytest.mark.parametrize("path", ["/.well-known/autoconfig/mail/config-v1.1.xml", "/mail/config-v1.1.xml"])
def test_autoconfig_points_clients_at_this_instance(plexus, path):
    code, body = curl(plexus, path + "?emailaddress=dr.martin%40" + DOMAIN)
    assert code == 200
    root = ElementTree.fromstring(body)
    assert root.tag == "clientConfig"
    provider = root.find("emailProvider")
    assert [d.text for d in provider.findall("domain")] == [DOMAIN]
    servers = [(s.get("type"), int(s.find("port").text), s.find("socketType").text)
               for s in provider.findall("incomingServer") + provider.findall("outgoingServer")]
    assert servers == [("imap", plexus.ports["imaps"], "SSL"), ("imap", plexus.ports["imap"], "STARTTLS"),
                       ("smtp", plexus.ports["submissions"], "SSL"), ("smtp", plexus.ports["submission"], "STARTTLS")]
    assert {s.find("username").text for s in provider.iter() if s.find("username") is not None} == {"%EMAILADDRESS%"}


def test_unknown_path_is_404(plexus):
    assert curl(plexus, "/nothing")[0] == 404


def test_idle_keep_alive_connection_is_closed_after_five_seconds(plexus):
    """The server ends an idle keep-alive connection itself, well before a stop's
    10 s wait for its threads: a client holding one open must not leak a thread."""
    conn = http.client.HTTPSConnection("127.0.0.1", plexus.ports["http"], timeout=30,
                                       context=plexus.tls_context())
    conn.request("GET", "/healthz")  # HTTP/1.1: keep-alive unless asked otherwise
    response = conn.getresponse()
    assert response.status == 200 and response.getheader("Connection", "").lower() != "close"
    response.read()
    idle_since = time.monotonic()
    assert conn.sock.recv(1) == b""  # the server closes; an open one would block to the 30 s timeout
    assert 4 <= time.monotonic() - idle_since < 9
    conn.close()


def test_plain_http_is_refused(plexus):
    r = subprocess.run(["curl", "-sS", f"http://127.0.0.1:{plexus.ports['http']}/healthz"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 or "ok" not in r.stdout


def test_cli_lists_mailboxes(plexus):
    r = plexus.ctl("mailbox", "list")
    assert r.returncode == 0
    assert MARTIN in r.stdout and "secretariat@" + DOMAIN in r.stdout
    assert "810000000001" in r.stdout


def test_cli_errors_are_one_line(plexus):
    cases = [
        ("mailbox", "add", "bad address", "--type", "PER"),
        ("mailbox", "add", "x@" + DOMAIN, "--type", "XYZ"),
        ("mailbox", "add", "x@other.test", "--type", "PER"),
        ("mailbox", "add", MARTIN, "--type", "PER"),
        ("mailbox", "add", "y@" + DOMAIN, "--type", "PER", "--finess", "1"),
        ("mailbox", "show", "nobody@" + DOMAIN),
        ("delegate", "add", MARTIN, f"ide.durand@{DOMAIN}"),
        ("frobnicate",),
        ("mailbox", "list", "--bogus", "1"),
    ]
    for args in cases:
        r = plexus.ctl(*args)
        assert r.returncode != 0, args
        assert len(r.stderr.strip().splitlines()) == 1 and r.stderr.startswith("plexusctl: "), (args, r.stderr)
    r = plexus.ctl("init", "--dir", str(plexus.dir), "--domain", DOMAIN, config=False)
    assert r.returncode != 0 and "already" in r.stderr


def test_cli_remove_mailbox_deletes_its_messages(plexus):
    address = "temp@" + DOMAIN
    plexus.add_mailbox(address, "PER", "810000000099", "temp-password")
    s = plexus.smtp()
    s.login(address, "temp-password")
    s.sendmail(address, [address], b"Subject: to be removed\r\n\r\nx\r\n")
    s.quit()
    blobs_before = sum(1 for _ in (plexus.dir / "blobs").rglob("*") if _.is_file())
    r = plexus.ctl("mailbox", "remove", address)
    assert r.returncode == 0, r.stderr
    blobs_after = sum(1 for _ in (plexus.dir / "blobs").rglob("*") if _.is_file())
    assert blobs_after == blobs_before - 1
    assert address not in plexus.ctl("mailbox", "list").stdout


def test_passwd_changes_password(plexus):
    address = "pw@" + DOMAIN
    plexus.add_mailbox(address, "PER", "810000000098", "old-password")
    assert plexus.ctl("passwd", address, "--password-stdin", input="new-password\n").returncode == 0
    s = plexus.smtp()
    code, _ = s.login(address, "new-password")
    assert code == 235
    s.quit()
