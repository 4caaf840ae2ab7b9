"""CRLs kept current from a CA's publication point (tls.crl_sources over HTTPS):
fetched at start, by plexusctl trust crl refresh (taken on SIGHUP) and on a
schedule; a source that fails keeps the last good CRL."""
import re
import shutil
import signal
import smtplib
import sqlite3
import ssl
import time

import pytest

from authority import Authority, subject_of
from https_site import HttpsSite
from plexus_harness import Plexus, eventually

DOMAIN = "hopital.crl.test"
PARTNER_DOMAIN = "partenaire.crl.test"
PARTNER_CA = "C=FR,O=Plexus tests,CN=Partner CA"  # RFC 4514 writes the last RDN first
CRL_NAME = "partner.crl"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pki")
    partner = Authority(folder, "Partner CA")
    return {"folder": folder, "site": Authority(folder, "Site CA"), "partner": partner,
            "a": partner.issue("mx-a", f"/CN=mx-a.{PARTNER_DOMAIN}/O=Partner/C=FR"),
            "b": partner.issue("mx-b", f"/CN=mx-b.{PARTNER_DOMAIN}/O=Partner/C=FR")}


@pytest.fixture(scope="module")
def site(pki):
    s = HttpsSite(pki["folder"], pki["site"], "crl-site")
    yield s
    s.close()


def publish(pki, site, version, revoke=()):
    """The partner CA publishes a new CRL (DER, as CAs do) at its publication point."""
    crl = pki["partner"].crl(f"crl-{version}.der", revoke=revoke, der=True)
    shutil.copy(crl, site.dir / CRL_NAME)


@pytest.fixture(scope="module")
def plexus(tmp_path_factory, pki, site):
    p = Plexus(tmp_path_factory.mktemp("plexus"), DOMAIN)
    p.write_whitelist([(DOMAIN, p.server_dn()), (PARTNER_DOMAIN, subject_of(pki["a"][0])),
                       (PARTNER_DOMAIN, subject_of(pki["b"][0]))])
    assert p.ctl("trust", "add", str(pki["partner"].cert)).returncode == 0
    publish(pki, site, 1)
    p.crl_url = site.address(CRL_NAME)
    r = p.ctl("trust", "crl", "source", "add", p.crl_url, "--ca", str(pki["site"].cert))
    assert r.returncode == 0, r.stderr
    p.set_config("tls", "crl_refresh_minutes", "0")  # the schedule is turned on by a test
    p.start()
    yield p
    p.stop()


def accepted(p, cert):
    """Whether the MX takes a MAIL FROM over STARTTLS with this client certificate."""
    try:
        s = p.smtp("mx", cert=cert[0], key=cert[1], ehlo="mx." + PARTNER_DOMAIN)
        code = s.mail("dr.y@" + PARTNER_DOMAIN)[0]
        s.quit()
        return code == 250
    except (ssl.SSLError, smtplib.SMTPServerDisconnected, ConnectionResetError):
        return False


def logged_after(p, start, pattern, timeout=15):
    """The log written since `start` once it matches `pattern` (fails after `timeout` s)."""
    tail = eventually(lambda: (lambda t: t if re.search(pattern, t) else None)(p.log_text()[start:]), timeout)
    assert tail, f"no {pattern!r} in the log: {p.log_text()[start:][-3000:]}"
    return tail


def sighup(p):
    start = len(p.log_text())
    p.signal(signal.SIGHUP)
    tail = logged_after(p, start, r"reloaded; |reload failed")
    assert "reload failed" not in tail, tail


def crl_events(p):
    with sqlite3.connect(p.dir / "plexus.db") as db:
        return db.execute("SELECT object, outcome FROM events WHERE type = 'trust.crl_refreshed' ORDER BY id").fetchall()


def test_sources_are_configured_and_fetched_at_start(plexus, pki):
    r = plexus.ctl("trust", "crl", "source", "add", plexus.crl_url.replace("https:", "http:"))
    assert r.returncode == 1 and "only https:// URLs" in r.stderr
    r = plexus.ctl("trust", "crl", "source", "add", plexus.crl_url)
    assert r.returncode == 1 and "is a CRL source already" in r.stderr
    r = plexus.ctl("trust", "crl", "source", "list")
    assert r.returncode == 0 and plexus.crl_url in r.stdout and "at start and on SIGHUP only" in r.stdout
    conf = (plexus.dir / "plexus.conf").read_text()
    assert f"crl_sources = {plexus.crl_url}\n" in conf and re.search(r"^crl = .*crl\.pem$", conf, re.M)

    assert re.search(rf"CRL of {PARTNER_CA} \(updated .*, 0 revoked\) installed from {plexus.crl_url}",
                     plexus.log_text())
    assert accepted(plexus, pki["a"])
    sample = f'plexus_crl_source_last_success_timestamp_seconds{{source="{plexus.crl_url}"}}'
    assert abs(plexus.metrics()[sample] - time.time()) < 120
    assert (plexus.crl_url, "success") in crl_events(plexus)


def test_refresh_from_the_cli_then_sighup_refuses_a_revoked_peer(plexus, pki, site):
    publish(pki, site, 2, revoke=[pki["a"][0]])
    r = plexus.ctl("trust", "crl", "refresh")
    assert r.returncode == 0, r.stderr
    assert f"installed the CRL of {PARTNER_CA}" in r.stdout and "1 revoked" in r.stdout
    assert "CRLs changed" in r.stdout and "SIGHUP" in r.stdout
    r = plexus.ctl("trust", "crl", "refresh")
    assert r.returncode == 0 and "is unchanged" in r.stdout and "no change" in r.stdout

    sighup(plexus)
    start = len(plexus.log_text())
    assert not accepted(plexus, pki["a"])
    logged_after(plexus, start, r"certificate verify failed: certificate revoked \(depth 0: .*CN=mx-a\.")
    assert accepted(plexus, pki["b"])  # same CA, not revoked


def test_the_schedule_takes_a_new_crl_without_signal(plexus, pki, site):
    plexus.set_config("tls", "crl_refresh_seconds", "1")
    sighup(plexus)
    start = len(plexus.log_text())
    publish(pki, site, 3, revoke=[pki["b"][0]])
    assert eventually(lambda: not accepted(plexus, pki["b"]), timeout=15)
    logged_after(plexus, start, rf"CRL of {PARTNER_CA} .*2 revoked\) installed from")
    assert "TLS contexts reloaded with the new CRLs" in plexus.log_text()[start:]


def test_a_failing_source_keeps_the_last_good_crl(plexus, pki, site):
    held = (plexus.dir / "pki/crl.pem").read_bytes()
    failures = f'plexus_crl_refresh_failures_total{{source="{plexus.crl_url}"}}'
    before = plexus.metrics().get(failures, 0)
    kept = rf"CRL refresh from {re.escape(plexus.crl_url)} failed, keeping the CRLs held in \S+crl\.pem: "

    start = len(plexus.log_text())
    (site.dir / CRL_NAME).write_bytes(b"<html><body>502 Bad Gateway</body></html>")
    logged_after(plexus, start, kept + ".*holds no CRL")
    start = len(plexus.log_text())
    shutil.copy(pki["site"].crl("site.crl"), site.dir / CRL_NAME)  # signed by a CA we do not trust
    logged_after(plexus, start, kept + "the CRL issuer C=FR,O=Plexus tests,CN=Site CA is not a trust anchor")
    start = len(plexus.log_text())
    site.close()
    logged_after(plexus, start, kept + ".*(Connection refused|connection refused)")

    assert (plexus.dir / "pki/crl.pem").read_bytes() == held
    assert not accepted(plexus, pki["a"]) and not accepted(plexus, pki["b"])
    assert plexus.metrics()[failures] >= before + 3
    assert any(obj == plexus.crl_url and "not a trust anchor" in outcome for obj, outcome in crl_events(plexus))
    r = plexus.ctl("trust", "crl", "refresh")
    assert r.returncode == 1 and "failed, the CRLs held are kept" in r.stderr

    assert plexus.ctl("trust", "crl", "source", "remove", plexus.crl_url).returncode == 0
    r = plexus.ctl("trust", "crl", "source", "list")
    assert r.returncode == 0 and "no CRL sources" in r.stdout
    assert (plexus.dir / "pki/crl.pem").read_bytes() == held  # the CRLs it gave stay
