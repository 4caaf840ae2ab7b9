"""The MX service: other MSSanté operators over mutually authenticated TLS,
checked against the trust-space whitelist."""
import signal
import smtplib
import ssl
import subprocess
import time

import pytest

from conftest import DOMAIN, OTHER_DOMAIN, PEER_DOMAIN

DURAND = f"ide.durand@{DOMAIN}"


def peer_session(p, cert):
    return p.smtp("mx", cert=cert[0], key=cert[1], ehlo="mx." + PEER_DOMAIN)


def test_mx_requires_starttls(plexus):
    s = plexus.smtp("mx", starttls=False)
    code, text = s.mail("dr.x@" + PEER_DOMAIN)
    assert code == 530 and b"5.7.0" in text and b"STARTTLS" in text
    s.quit()


def test_mx_requires_client_certificate(plexus):
    s = plexus.smtp("mx")
    code, text = s.mail("dr.x@" + PEER_DOMAIN)
    # Temporary: the peer's mail waits for its certificate instead of bouncing.
    assert code == 451 and b"4.7.0" in text and b"certificate" in text
    s.quit()


def test_mx_accepts_listed_operator(plexus):
    s = peer_session(plexus, plexus.peer_cert)
    assert not s.has_extn("auth")
    raw = (f"From: dr.x@{PEER_DOMAIN}\r\nTo: {DURAND}\r\nSubject: depuis la clinique\r\n"
           f"X-MSS-INS: O\r\n\r\ncorps\r\n").encode()
    s.sendmail("dr.x@" + PEER_DOMAIN, [DURAND], raw)
    s.quit()
    rows = plexus.messages(DURAND)
    assert "depuis la clinique" in rows[-1]
    stored = plexus.message_bytes(DURAND, rows[-1].split()[0])
    assert b"with ESMTPS" in stored.split(b"\r\n\t", 2)[1]
    assert stored.endswith(raw)


def test_mx_refuses_certificate_not_listed_for_domain(plexus):
    # A trusted certificate, but listed for another domain than the sender's.
    s = peer_session(plexus, plexus.other_cert)
    code, text = s.mail("dr.x@" + PEER_DOMAIN)
    assert code == 550 and b"5.7.1" in text and b"not registered" in text
    s.quit()


def test_mx_refuses_domain_outside_trust_space(plexus):
    s = peer_session(plexus, plexus.peer_cert)
    code, text = s.mail("someone@gmail.com")
    assert code == 550 and b"5.7.1" in text and b"trust space" in text
    s.quit()


def test_mx_refuses_non_local_recipient(plexus):
    s = peer_session(plexus, plexus.peer_cert)
    assert s.mail("dr.x@" + PEER_DOMAIN)[0] == 250
    code, text = s.rcpt("dr.y@" + OTHER_DOMAIN)
    assert code == 550 and b"5.7.1" in text and b"relay not allowed" in text
    s.quit()


def test_mx_null_sender_from_listed_operator(plexus):
    s = peer_session(plexus, plexus.peer_cert)
    assert s.mail("")[0] == 250
    assert s.rcpt(DURAND)[0] == 250
    s.quit()


def test_mx_refuses_certificate_from_untrusted_ca(plexus, tmp_path):
    key, cert = tmp_path / "rogue.key", tmp_path / "rogue.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", f"/CN=mx.{PEER_DOMAIN}/O=Rogue/C=FR"],
                   check=True, capture_output=True)
    s = plexus.smtp("mx", starttls=False)
    with pytest.raises((ssl.SSLError, smtplib.SMTPServerDisconnected, ConnectionResetError)):
        s.starttls(context=plexus.tls_context(cert, key))
        s.ehlo("rogue")
        s.mail("dr.x@" + PEER_DOMAIN)


def test_whitelist_reloads_on_sighup(plexus):
    s = peer_session(plexus, plexus.peer_cert)
    new_domain = "nouveau.mssante.test"
    assert s.mail("dr.x@" + new_domain)[0] == 550
    s.quit()
    plexus.write_whitelist([(DOMAIN, plexus.server_dn()), (PEER_DOMAIN, plexus.peer_cert[2]),
                            (new_domain, plexus.peer_cert[2]), (OTHER_DOMAIN, plexus.other_cert[2])])
    plexus.signal(signal.SIGHUP)
    deadline = time.time() + 10
    while "reloaded" not in plexus.log_text() and time.time() < deadline:
        time.sleep(0.05)
    s = peer_session(plexus, plexus.peer_cert)
    assert s.mail("dr.x@" + new_domain)[0] == 250
    s.quit()
