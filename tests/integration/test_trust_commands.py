"""Operating the trust space: the whitelist refreshed over HTTPS (checksum, last
good copy kept), trust anchors and CRLs, static routes and the instance
certificate, with plexusctl against a running plexusd."""
import hashlib
import re
import signal
import smtplib
import sqlite3
import ssl
import subprocess
import time
import urllib.request

import pytest

from authority import Authority, subject_of
from https_site import HttpsSite
from plexus_harness import Plexus

DOMAIN = "hopital.trust.test"
PEER_DOMAIN = "clinique.trust.test"
PARTNER_DOMAIN = "partenaire.trust.test"
MARTIN = f"dr.martin@{DOMAIN}"
NS = "https://listeblanche.mssante.fr/schema"


def whitelist_xml(entries):
    domains = "".join(f"<Domaine><Nom>{d}</Nom><Description>test</Description>"
                      f"<DNCertificatOperateur>{dn.replace('&', '&amp;').replace('<', '&lt;')}</DNCertificatOperateur>"
                      f"<DateMAJ>2026-01-01T00:00:00Z</DateMAJ></Domaine>" for d, dn in entries)
    return (f'<?xml version="1.0" encoding="UTF-8"?><ListeBlancheMSSante xmlns="{NS}">'
            f"<DateDeGeneration>2026-02-01T00:00:00Z</DateDeGeneration><ListeDomaines>{domains}"
            f"</ListeDomaines></ListeBlancheMSSante>")


class Publisher(HttpsSite):
    """The agency's site: the list and its SHA-256 file over HTTPS on 127.0.0.1."""

    def __init__(self, folder, ca):
        super().__init__(folder, ca)
        self.url = self.address("listeblanchemssante.xml")
        self.checksum_url = self.url + ".sha256"

    def publish(self, entries, checksum_of=None):
        """Publishes the list; its checksum file describes `checksum_of` (default: the list itself)."""
        xml = whitelist_xml(entries).encode()
        (self.dir / "listeblanchemssante.xml").write_bytes(xml)
        digest = hashlib.sha256(checksum_of if checksum_of is not None else xml).hexdigest()
        (self.dir / "listeblanchemssante.xml.sha256").write_text(f"{digest}  listeblanchemssante.xml\n")


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pki")
    return {"folder": folder, "site": Authority(folder, "Site CA"), "partner": Authority(folder, "Partner CA")}


@pytest.fixture(scope="module")
def site(pki):
    publisher = Publisher(pki["folder"], pki["site"])
    yield publisher
    publisher.close()


@pytest.fixture(scope="module")
def plexus(tmp_path_factory):
    p = Plexus(tmp_path_factory.mktemp("plexus"), DOMAIN)
    p.add_mailbox(MARTIN, "PER", "810000000001", "martin-password")
    p.peer_cert = p.issue_cert(f"mx.{PEER_DOMAIN}")
    p.write_whitelist([(DOMAIN, p.server_dn()), (PEER_DOMAIN, p.peer_cert[2])])
    p.start()
    yield p
    p.stop()


def listed(p, *extra):
    return [(DOMAIN, p.server_dn()), (PEER_DOMAIN, p.peer_cert[2]), *extra]


def sighup_and_wait(p, text):
    """SIGHUP, then waits for `text` in what plexusd logs afterwards; returns that log."""
    start = len(p.log_text())
    p.signal(signal.SIGHUP)
    deadline = time.time() + 30
    while time.time() < deadline:
        tail = p.log_text()[start:]
        if text in tail and "reload" in tail:
            return tail
        time.sleep(0.05)
    raise AssertionError(f"no {text!r} after SIGHUP: {p.log_text()[start:]}")


def rcpt(p, address):
    s = p.smtp("submission")
    s.login(MARTIN, "martin-password")
    s.mail(MARTIN)
    code, text = s.rcpt(address)
    s.quit()
    return code, text


def metrics(p):
    ctx = ssl.create_default_context(cafile=str(p.ca))
    ctx.check_hostname = False
    with urllib.request.urlopen(f"https://127.0.0.1:{p.ports['http']}/metrics", context=ctx, timeout=10) as r:
        return r.read().decode()


def events(p, prefix):
    with sqlite3.connect(p.dir / "plexus.db") as db:
        return db.execute("SELECT type, object, outcome FROM events WHERE type LIKE ? ORDER BY id",
                          (prefix + "%",)).fetchall()


def test_whitelist_source_refresh_show_and_check(plexus, site, pki):
    site.publish(listed(plexus, ("nouveau.trust.test", plexus.peer_cert[2])))
    r = plexus.ctl("whitelist", "source", site.url.replace("https:", "http:"))
    assert r.returncode == 1 and "only https:// URLs" in r.stderr
    r = plexus.ctl("whitelist", "source", site.url, "--checksum", site.checksum_url, "--ca", str(pki["site"].cert))
    assert r.returncode == 0, r.stderr
    conf = (plexus.dir / "plexus.conf").read_text()
    assert f"whitelist_source = {site.url}\n" in conf and f"whitelist_checksum = {site.checksum_url}\n" in conf

    r = plexus.ctl("whitelist", "refresh")
    assert r.returncode == 0, r.stderr
    assert "3 domains" in r.stdout and "SIGHUP" in r.stdout
    r = plexus.ctl("whitelist", "show")
    assert r.returncode == 0, r.stderr
    assert re.search(r"^domains\s+3 ", r.stdout, re.M) and site.url in r.stdout
    assert "2026-02-01T00:00:00Z" in r.stdout and "s ago)" in r.stdout
    r = plexus.ctl("whitelist", "check", "NOUVEAU.trust.test")
    assert r.returncode == 0 and plexus.peer_cert[2] in r.stdout
    r = plexus.ctl("whitelist", "check", "inconnu.trust.test")
    assert r.returncode == 1 and "not in the trust-space whitelist" in r.stdout
    assert ("admin.whitelist.source_set", site.url, "success") in events(plexus, "admin.whitelist")


def test_running_plexusd_takes_the_new_list_on_sighup(plexus, site):
    code, text = rcpt(plexus, "dr.x@ajoute.trust.test")
    assert code == 550 and b"5.7.1" in text and b"trust space" in text
    site.publish(listed(plexus, ("nouveau.trust.test", plexus.peer_cert[2]),
                        ("ajoute.trust.test", plexus.peer_cert[2])))
    sighup_and_wait(plexus, "whitelist: 4 domains from " + site.url)
    assert rcpt(plexus, "dr.x@ajoute.trust.test")[0] == 250
    assert "plexus_whitelist_domains 4" in metrics(plexus)
    assert ("trust.whitelist_refreshed", site.url, "success") in events(plexus, "trust.whitelist")


def test_a_bad_checksum_keeps_the_previous_list(plexus, site):
    failures = re.search(r"^plexus_whitelist_refresh_failures_total (\d+)", metrics(plexus), re.M)
    before = int(failures.group(1)) if failures else 0
    # The new list drops ajoute.trust.test, and the checksum file describes another document.
    site.publish(listed(plexus, ("autre.trust.test", plexus.peer_cert[2])), checksum_of=b"corrupted")
    log = sighup_and_wait(plexus, "checksum mismatch")
    assert "keeping the current list (4 domains)" in log
    assert rcpt(plexus, "dr.x@ajoute.trust.test")[0] == 250
    assert rcpt(plexus, "dr.x@autre.trust.test")[0] == 550
    after = re.search(r"^plexus_whitelist_refresh_failures_total (\d+)", metrics(plexus), re.M)
    assert int(after.group(1)) == before + 1
    refreshed = events(plexus, "trust.whitelist_refreshed")
    assert refreshed[-1][1] == site.url and "checksum mismatch" in refreshed[-1][2]
    r = plexus.ctl("whitelist", "refresh")
    assert r.returncode == 1 and "checksum mismatch" in r.stderr
    assert "ajoute.trust.test" in (plexus.dir / "whitelist.xml").read_text()  # the last good copy


def partner_session(p, cert):
    return p.smtp("mx", cert=cert[0], key=cert[1], ehlo="mx." + PARTNER_DOMAIN)


def test_trust_add_refuses_a_certificate_that_is_not_a_ca(plexus, pki):
    leaf, _ = pki["partner"].issue("not-a-ca", "/CN=not-a-ca.partner.test/O=Partner/C=FR")
    before = (plexus.dir / "pki/ca.crt").read_text()
    r = plexus.ctl("trust", "add", str(leaf))
    assert r.returncode == 1 and "not a CA certificate" in r.stderr
    r = plexus.ctl("trust", "add", str(plexus.dir / "nothing.pem"))
    assert r.returncode == 1 and "nothing.pem" in r.stderr
    assert (plexus.dir / "pki/ca.crt").read_text() == before


def test_a_new_trust_anchor_takes_effect_on_sighup(plexus, pki, site):
    partner = pki["partner"]
    plexus.partner_a = partner.issue("mx-a", f"/CN=mx-a.{PARTNER_DOMAIN}/O=Partner/C=FR")
    plexus.partner_b = partner.issue("mx-b", f"/CN=mx-b.{PARTNER_DOMAIN}/O=Partner/C=FR")
    site.publish(listed(plexus, (PARTNER_DOMAIN, subject_of(plexus.partner_a[0])),
                        (PARTNER_DOMAIN, subject_of(plexus.partner_b[0]))))
    with pytest.raises((ssl.SSLError, smtplib.SMTPServerDisconnected, ConnectionResetError)):
        s = partner_session(plexus, plexus.partner_a)
        s.mail("dr.y@" + PARTNER_DOMAIN)

    partner_ca = subject_of(partner.cert)
    r = plexus.ctl("trust", "add", str(partner.cert))
    assert r.returncode == 0, r.stderr
    assert partner_ca in r.stdout
    r = plexus.ctl("trust", "add", str(partner.cert))
    assert r.returncode == 1 and "trust anchor already" in r.stderr
    r = plexus.ctl("trust", "list")
    assert r.returncode == 0 and partner_ca in r.stdout and "sha256" in r.stdout

    sighup_and_wait(plexus, "reloaded; whitelist has 3 domains")
    s = partner_session(plexus, plexus.partner_a)
    assert s.mail("dr.y@" + PARTNER_DOMAIN)[0] == 250
    assert s.rcpt(MARTIN)[0] == 250
    s.quit()
    assert events(plexus, "admin.trust")[-1][:2] == ("admin.trust.anchor_added", partner_ca)


def test_a_crl_revokes_a_client_certificate(plexus, pki):
    partner = pki["partner"]
    r = plexus.ctl("trust", "crl", "add", str(pki["site"].crl("site.crl")))
    assert r.returncode == 1 and "is not a trust anchor" in r.stderr

    # The first CRL sets tls.crl in the configuration, which SIGHUP reads: no restart
    # (the revocation below, on SIGHUP again, proves that plexusd uses that file).
    r = plexus.ctl("trust", "crl", "add", str(partner.crl("first.crl")))
    assert r.returncode == 0, r.stderr
    assert "SIGHUP" in r.stdout and "CN=Plexus dev CA" in r.stdout  # the dev CA has no CRL: warned
    assert re.search(r"^crl = .*crl\.pem$", (plexus.dir / "plexus.conf").read_text(), re.M)
    sighup_and_wait(plexus, "reloaded")
    s = partner_session(plexus, plexus.partner_a)
    assert s.mail("dr.y@" + PARTNER_DOMAIN)[0] == 250
    s.quit()

    r = plexus.ctl("trust", "crl", "add", str(partner.crl("second.crl", revoke=[plexus.partner_a[0]])))
    assert r.returncode == 0, r.stderr
    assert "1 revoked" in r.stdout and "replaced" in r.stdout and "SIGHUP" in r.stdout
    sighup_and_wait(plexus, "reloaded")
    with pytest.raises((ssl.SSLError, smtplib.SMTPServerDisconnected, ConnectionResetError)):
        s = partner_session(plexus, plexus.partner_a)
        s.mail("dr.y@" + PARTNER_DOMAIN)
    s = partner_session(plexus, plexus.partner_b)  # same CA, not revoked
    assert s.mail("dr.y@" + PARTNER_DOMAIN)[0] == 250
    s.quit()
    r = plexus.ctl("trust", "list")
    assert "CRLs (" in r.stdout and "revoked  1" in r.stdout


def test_routes_are_kept_in_the_routes_section(plexus):
    r = plexus.ctl("route", "list")
    assert r.returncode == 0 and "no static routes" in r.stdout
    assert plexus.ctl("route", "set", PARTNER_DOMAIN, "127.0.0.1:2525").returncode == 0
    assert plexus.ctl("route", "set", "Relais.trust.test", "[::1]:25").returncode == 0
    assert plexus.ctl("route", "set", PARTNER_DOMAIN, "mx.partenaire.trust.test:26").returncode == 0
    conf = (plexus.dir / "plexus.conf").read_text()
    section = conf[conf.index("[routes]"):]
    assert f"{PARTNER_DOMAIN} = mx.partenaire.trust.test:26\n" in section
    assert "relais.trust.test = [::1]:25" in section
    r = plexus.ctl("route", "list")
    assert re.search(rf"^{PARTNER_DOMAIN}\s+mx.partenaire.trust.test:26$", r.stdout, re.M)
    assert re.search(r"^relais.trust.test\s+\[::1\]:25$", r.stdout, re.M)

    for domain, target in [(PARTNER_DOMAIN, "127.0.0.1"), (PARTNER_DOMAIN, "127.0.0.1:0"),
                           (PARTNER_DOMAIN, "127.0.0.1:65536"), ("bad_domain!", "127.0.0.1:25"),
                           (PARTNER_DOMAIN, "bad host:25"), (PARTNER_DOMAIN, "::1:25"), (DOMAIN, "127.0.0.1:25")]:
        r = plexus.ctl("route", "set", domain, target)
        assert r.returncode == 2, (domain, target, r.stdout)
    assert plexus.ctl("route", "remove", PARTNER_DOMAIN).returncode == 0
    r = plexus.ctl("route", "remove", PARTNER_DOMAIN)
    assert r.returncode == 1 and "no route for" in r.stderr
    r = plexus.ctl("route", "list")
    assert PARTNER_DOMAIN not in r.stdout and "relais.trust.test" in r.stdout
    assert plexus.ctl("route", "remove", "relais.trust.test").returncode == 0
    assert "[routes]" not in (plexus.dir / "plexus.conf").read_text()
    assert [e[0] for e in events(plexus, "admin.route")] == ["admin.route.set"] * 3 + ["admin.route.removed"] * 2


def test_cert_show_prints_the_dn_the_whitelist_lists(plexus):
    r = plexus.ctl("cert", "show")
    assert r.returncode == 0, r.stderr
    assert re.search(r"^subject\s+(.*)$", r.stdout, re.M).group(1) == plexus.server_dn()
    assert re.search(r"^issuer\s+CN=Plexus dev CA", r.stdout, re.M)
    fingerprint = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in",
                                  str(plexus.dir / "pki/server.crt")], capture_output=True, text=True).stdout
    assert fingerprint.strip().split("=", 1)[1] in r.stdout
    assert f"{DOMAIN}: lists this certificate" in r.stdout
