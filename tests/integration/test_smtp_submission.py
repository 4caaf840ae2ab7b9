"""SMTP submission (587 STARTTLS, 465 implicit TLS) with real clients."""
import base64
import smtplib
import ssl
import subprocess
import time
from email.message import EmailMessage
from email.policy import SMTP

import pytest

from conftest import DOMAIN, PEER_DOMAIN
from plexus_harness import raw_session

MARTIN = f"dr.martin@{DOMAIN}"
DURAND = f"ide.durand@{DOMAIN}"


def message(sender, to, subject, body="Bonjour,\r\nrésultats en pièce jointe.\r\n", headers=None):
    m = EmailMessage()
    m["From"] = sender
    m["To"] = to
    m["Subject"] = subject
    m["Message-ID"] = f"<{time.time_ns()}@test>"
    for k, v in (headers or {}).items():
        m[k] = v
    m.set_content(body)
    return m


def login(p, service="submission"):
    s = p.smtp(service)
    s.login(MARTIN, "martin-password")
    return s


def test_ehlo_before_tls_offers_starttls_not_auth(plexus):
    s = plexus.smtp(starttls=False)
    assert s.has_extn("starttls")
    assert not s.has_extn("auth")
    for ext in ("pipelining", "size", "enhancedstatuscodes", "8bitmime", "dsn", "smtputf8", "chunking"):
        assert s.has_extn(ext), ext
    s.quit()


def test_auth_before_tls_is_refused(plexus):
    s = raw_session("127.0.0.1", plexus.ports["submission"])
    assert s.reply()[0] == 220
    s.send("EHLO c\r\n")
    s.reply()
    s.send("AUTH PLAIN " + base64.b64encode(f"\0{MARTIN}\0martin-password".encode()).decode() + "\r\n")
    code, text, _ = s.reply()
    assert code == 530 and "5.7.0" in text
    s.send("MAIL FROM:<%s>\r\n" % MARTIN)
    code, text, _ = s.reply()
    assert code == 530 and "5.7.0" in text
    s.close()


def test_after_tls_auth_mechanisms_are_offered(plexus):
    s = plexus.smtp()
    mechanisms = s.esmtp_features["auth"].split()
    assert {"PLAIN", "LOGIN", "XOAUTH2", "OAUTHBEARER"} <= set(mechanisms)
    assert not s.has_extn("starttls")
    s.quit()


def test_mail_without_auth_is_refused(plexus):
    s = plexus.smtp()
    code, text = s.mail(MARTIN)
    assert code == 530 and b"5.7.0" in text
    s.quit()


def test_submit_and_read_back_byte_for_byte(plexus):
    s = login(plexus)
    body = "Compte rendu.\r\n.ligne qui commence par un point\r\n..deux points\r\nfin\r\n"
    raw = (f"From: {MARTIN}\r\nTo: {DURAND}\r\nSubject: CR consultation\r\nMessage-ID: <rb1@test>\r\n"
           f"X-MSS-NIL: PLEXUS-TEST\r\nX-MSS-CODECDA: 11488-4\r\nMIME-Version: 1.0\r\n"
           f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}").encode()
    before = len(plexus.messages(DURAND))
    s.sendmail(MARTIN, [DURAND], raw)
    s.quit()
    rows = plexus.messages(DURAND)
    assert len(rows) == before + 1
    uid = rows[-1].split()[0]
    stored = plexus.message_bytes(DURAND, uid)
    assert stored.startswith(b"Received: from client.test ([127.0.0.1])\r\n\tby mail.hopital.mssante.test (Plexus) with ESMTPSA")
    # Everything after our Received header is the client's message, untouched (dots unstuffed).
    assert stored.endswith(raw), stored[-300:]
    assert b"X-MSS-NIL: PLEXUS-TEST\r\n" in stored


def test_blobs_are_encrypted_at_rest(plexus):
    marker = "PATIENT-SECRET-" + str(time.time_ns())
    s = login(plexus)
    s.send_message(message(MARTIN, DURAND, marker, body=marker * 50))
    s.quit()
    found = subprocess.run(["grep", "-rl", marker, str(plexus.dir / "blobs")], capture_output=True)
    assert found.returncode == 1, found.stdout
    assert marker in plexus.messages(DURAND)[-1]


def test_implicit_tls_submissions(plexus):
    s = plexus.smtp("submissions")
    s.login(MARTIN, "martin-password")
    s.send_message(message(MARTIN, DURAND, "via 465"))
    s.quit()
    assert "via 465" in plexus.messages(DURAND)[-1]


def test_auth_login_mechanism(plexus):
    s = plexus.smtp()
    s.user, s.password = MARTIN, "martin-password"
    code, _ = s.auth("LOGIN", s.auth_login, initial_response_ok=False)
    assert code == 235
    s.quit()


def test_wrong_password(plexus):
    s = plexus.smtp()
    with pytest.raises(smtplib.SMTPAuthenticationError) as e:
        s.login(MARTIN, "not-the-password")
    assert e.value.smtp_code == 535 and b"5.7.8" in e.value.smtp_error
    with pytest.raises(smtplib.SMTPAuthenticationError):
        s.login("nobody@" + DOMAIN, "x")
    s.quit()
    assert "martin-password" not in plexus.log_text()


def test_forbidden_sender(plexus):
    s = login(plexus)
    code, text = s.mail(DURAND)
    assert code == 553 and b"5.7.1" in text
    s.quit()


def test_delegate_sends_as_organization(plexus):
    s = login(plexus)
    s.send_message(message(f"secretariat@{DOMAIN}", DURAND, "de la part du secretariat"),
                   from_addr=f"secretariat@{DOMAIN}")
    s.quit()
    assert "de la part du secretariat" in plexus.messages(DURAND)[-1]


def test_unknown_local_recipient(plexus):
    s = login(plexus)
    s.mail(MARTIN)
    code, text = s.rcpt("personne@" + DOMAIN)
    assert code == 550 and b"5.1.1" in text
    s.quit()


def test_remote_recipient_must_be_in_trust_space(plexus):
    s = login(plexus)
    s.mail(MARTIN)
    code, text = s.rcpt("someone@gmail.com")
    assert code == 550 and b"5.7.1" in text and b"trust space" in text
    code, _ = s.rcpt("dr.x@" + PEER_DOMAIN, options=["NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;dr.x@" + PEER_DOMAIN])
    assert code == 250
    code, _ = s.data(message(MARTIN, "dr.x@" + PEER_DOMAIN, "vers la clinique").as_bytes(policy=SMTP))
    assert code == 250
    s.quit()


def test_message_size_limits(plexus):
    s = login(plexus)
    code, text = s.mail(MARTIN, ["SIZE=999999999"])
    assert code == 552 and b"5.3.4" in text
    s.rset()
    s.mail(MARTIN)
    s.rcpt(DURAND)
    big = b"Subject: big\r\n\r\n" + (b"x" * 990 + b"\r\n") * 55000  # > 50 MiB
    code, text = s.data(big)
    assert code == 552 and b"5.3.4" in text
    s.noop()  # the session is still usable
    s.quit()


def test_invalid_parameters(plexus):
    s = login(plexus)
    code, text = s.mail(MARTIN, ["BODY=BINARYMIME"])
    assert code == 555
    code, text = s.mail(MARTIN, ["RET=SOME"])
    assert code == 501
    code, text = s.mail(MARTIN, ["FOO=BAR"])
    assert code == 555 and b"5.5.4" in text
    code, text = s.docmd("MAIL", "FROM:" + MARTIN)  # no angle brackets
    assert code == 501 and b"5.5.4" in text
    code, text = s.docmd("RCPT", "TO:<%s>" % DURAND)
    assert code == 503 and b"5.5.1" in text
    s.quit()


def test_non_ascii_address_needs_smtputf8(plexus):
    s = login(plexus)
    s.command_encoding = "utf-8"
    s.mail(MARTIN)
    code, text = s.rcpt("hélène@" + PEER_DOMAIN)
    assert code == 553 and b"5.6.7" in text
    s.rset()
    s.mail(MARTIN, ["SMTPUTF8"])
    code, _ = s.rcpt("hélène@" + PEER_DOMAIN)
    assert code == 250
    s.quit()


def test_bdat_chunking(plexus):
    s = login(plexus)
    s.mail(MARTIN)
    s.rcpt(DURAND)
    part1 = b"Subject: chunked\r\nFrom: " + MARTIN.encode() + b"\r\n\r\nfirst "
    part2 = b"second\r\n.\r\nnot the end\r\n"
    s.send(b"BDAT %d\r\n" % len(part1) + part1)
    assert s.getreply()[0] == 250
    s.send(b"BDAT %d LAST\r\n" % len(part2) + part2)
    code, text = s.getreply()
    assert code == 250, text
    s.quit()
    uid = plexus.messages(DURAND)[-1].split()[0]
    assert plexus.message_bytes(DURAND, uid).endswith(part1 + part2)


def test_swaks_submission(plexus):
    r = subprocess.run(["swaks", "--server", f"127.0.0.1:{plexus.ports['submission']}", "--tls",
                        "--tls-ca-path", str(plexus.ca), "--auth", "PLAIN", "--auth-user", MARTIN,
                        "--auth-password", "martin-password", "--from", MARTIN, "--to", DURAND,
                        "--header", "Subject: swaks test", "--pipeline"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "250 2.0.0 Ok: queued" in r.stdout
    assert "swaks test" in plexus.messages(DURAND)[-1]


def test_mailbox_full_is_a_temporary_refusal(plexus):
    small = "petit@" + DOMAIN
    r = plexus.ctl("mailbox", "add", small, "--type", "PER", "--rpps", "810000000077", "--quota-mb", "1")
    assert r.returncode == 0, r.stderr
    s = login(plexus)
    s.sendmail(MARTIN, [small], b"Subject: fills it\r\n\r\n" + (b"q" * 998 + b"\r\n") * 1100)
    s.mail(MARTIN)
    code, text = s.rcpt(small)
    assert code == 452 and b"4.2.2" in text
    assert s.rcpt(DURAND)[0] == 250  # other recipients are unaffected
    s.quit()


def test_tls_below_1_2_is_refused(plexus):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")  # let the client itself offer TLS 1.1
    ctx.minimum_version = ssl.TLSVersion.TLSv1
    ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    with pytest.raises((ssl.SSLError, ConnectionResetError)):
        smtplib.SMTP_SSL("127.0.0.1", plexus.ports["submissions"], context=ctx, timeout=10)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    s = smtplib.SMTP_SSL("127.0.0.1", plexus.ports["submissions"], context=ctx, timeout=10)
    assert s.sock.version() == "TLSv1.2"
    s.quit()
