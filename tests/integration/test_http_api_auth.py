"""Authentication of the HTTPS API (/api/...) with curl: Basic with a mailbox
password, Bearer with a Pro Santé Connect token, X-Plexus-Mailbox for a
delegated organization; GET /api/whoami says who the credentials are."""
import json
import subprocess

from conftest import DOMAIN

MARTIN = f"dr.martin@{DOMAIN}"
SECRETARIAT = f"secretariat@{DOMAIN}"
CHALLENGE = 'Basic realm="plexus", Bearer realm="plexus"'


def api_get(plexus, path, *options):
    """(status, headers with lower-case names, body) of a GET with curl's extra options."""
    r = subprocess.run(["curl", "-sS", "-i", "--cacert", str(plexus.ca), "--resolve",
                        f"mail.{DOMAIN}:{plexus.ports['http']}:127.0.0.1", *options,
                        f"https://mail.{DOMAIN}:{plexus.ports['http']}{path}"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    head, _, body = r.stdout.partition("\n\n")  # text mode: CRLF read as LF
    status_line, *fields = head.splitlines()
    headers = {name.strip().lower(): value.strip() for name, _, value in (f.partition(":") for f in fields)}
    return int(status_line.split()[1]), headers, body


def bearer(token):
    return ["-H", f"Authorization: Bearer {token}"]


def test_whoami_with_basic(plexus):
    code, _, body = api_get(plexus, "/api/whoami", "-u", f"{MARTIN}:martin-password")
    assert code == 200, body
    assert json.loads(body) == {"address": MARTIN, "type": "PER", "method": "basic"}


def test_whoami_with_bearer(plexus):
    code, _, body = api_get(plexus, "/api/whoami", *bearer(plexus.token("810000000001")))
    assert code == 200, body
    assert json.loads(body) == {"address": MARTIN, "type": "PER", "method": "bearer"}


def test_bearer_for_a_delegated_organization(plexus):
    token = plexus.token("810000000001")
    code, _, body = api_get(plexus, "/api/whoami", *bearer(token), "-H", f"X-Plexus-Mailbox: {SECRETARIAT}")
    assert code == 200, body
    assert json.loads(body) == {"address": SECRETARIAT, "type": "ORG", "method": "bearer"}
    code, _, _ = api_get(plexus, "/api/whoami", *bearer(token), "-H", f"X-Plexus-Mailbox: ide.durand@{DOMAIN}")
    assert code == 401


def test_refusals_are_alike_and_challenge(plexus):
    wrong = api_get(plexus, "/api/whoami", "-u", f"{MARTIN}:wrong-password")
    unknown = api_get(plexus, "/api/whoami", "-u", f"nobody@{DOMAIN}:martin-password")
    expired = api_get(plexus, "/api/whoami", *bearer(plexus.token("810000000001", lifetime=-600)))
    for code, headers, body in (wrong, unknown, expired):
        assert code == 401
        assert headers["www-authenticate"] == CHALLENGE
        assert json.loads(body) == {"error": "authentication failed"}
    log = plexus.log_text()
    assert "API authentication failure" in log
    assert "wrong-password" not in log


def test_no_credentials_is_a_challenge(plexus):
    code, headers, body = api_get(plexus, "/api/whoami")
    assert code == 401
    assert headers["www-authenticate"] == CHALLENGE
    assert json.loads(body) == {"error": "authentication required"}


def test_health_and_metrics_stay_open(plexus):
    assert api_get(plexus, "/healthz")[0] == 200
    assert api_get(plexus, "/metrics")[0] == 200
