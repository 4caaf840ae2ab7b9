"""SASL on submission: Pro Santé Connect tokens (XOAUTH2, OAUTHBEARER), client
certificates of APP accounts (EXTERNAL), and the events they leave: auth.login,
and one auth.logout per authenticated IMAP or submission session, however it ends."""
import base64
import collections
import imaplib
import json
import smtplib
import sqlite3
import subprocess

import pytest

from conftest import DOMAIN

MARTIN = f"dr.martin@{DOMAIN}"
DURAND = f"ide.durand@{DOMAIN}"
LABO = f"labo@{DOMAIN}"
LEAVER = f"dr.sortie@{DOMAIN}"


def xoauth2(user, token):
    return base64.b64encode(f"user={user}\x01auth=Bearer {token}\x01\x01".encode()).decode()


def oauthbearer(user, token):
    return base64.b64encode(f"n,a={user},\x01host=x\x01port=587\x01auth=Bearer {token}\x01\x01".encode()).decode()


def try_token(p, mechanism, response):
    s = p.smtp()
    code, text = s.docmd("AUTH", f"{mechanism} {response}")
    if code == 334:  # RFC 7628 error challenge: acknowledge it to get the verdict
        assert b"invalid_token" in base64.b64decode(text)
        code, text = s.docmd("")
    s.close()
    return code, text


def test_xoauth2_with_valid_token(plexus):
    code, text = try_token(plexus, "XOAUTH2", xoauth2(MARTIN, plexus.token("810000000001")))
    assert code == 235, text


def test_oauthbearer_with_valid_token(plexus):
    code, text = try_token(plexus, "OAUTHBEARER", oauthbearer(MARTIN, plexus.token("810000000001")))
    assert code == 235, text


def test_token_grants_delegated_organization(plexus):
    s = plexus.smtp()
    code, _ = s.docmd("AUTH", "XOAUTH2 " + xoauth2(f"secretariat@{DOMAIN}", plexus.token("810000000001")))
    assert code == 235
    assert s.mail(f"secretariat@{DOMAIN}")[0] == 250
    s.quit()


def test_refused_tokens(plexus, tmp_path):
    other_key = tmp_path / "other.key"
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out",
                    str(other_key)], check=True, capture_output=True)
    cases = {
        "expired": plexus.token("810000000001", lifetime=-600),
        "other person": plexus.token("810000000002"),
        "wrong issuer": plexus.token("810000000001", issuer="https://evil.test"),
        "wrong audience": plexus.token("810000000001", audience="other"),
        "foreign key": plexus.token("810000000001", key=other_key),
        "garbage": "not-a-jwt",
    }
    for name, token in cases.items():
        code, text = try_token(plexus, "XOAUTH2", xoauth2(MARTIN, token))
        assert code == 535 and b"5.7.8" in text, name
    log = plexus.log_text()
    for token in cases.values():
        assert token not in log


def test_external_with_app_certificate(plexus):
    cert, key, _ = plexus.app_cert
    s = plexus.smtp(cert=cert, key=key)
    assert "EXTERNAL" in s.esmtp_features["auth"]
    code, text = s.docmd("AUTH", "EXTERNAL =")
    assert code == 235, text
    s.sendmail(LABO, [MARTIN], b"Subject: CR biologie\r\n\r\nTSH 2.1\r\n")
    s.quit()
    assert "CR biologie" in plexus.messages(MARTIN)[-1]


def test_external_refused_for_other_identity(plexus):
    cert, key, _ = plexus.app_cert
    s = plexus.smtp(cert=cert, key=key)
    code, _ = s.docmd("AUTH", "EXTERNAL " + base64.b64encode(MARTIN.encode()).decode())
    assert code == 535
    s.quit()


def test_external_not_offered_without_certificate(plexus):
    s = plexus.smtp()
    assert "EXTERNAL" not in s.esmtp_features["auth"]
    assert s.docmd("AUTH", "EXTERNAL =")[0] == 504
    s.quit()


def test_authentication_events_are_recorded(plexus):
    db = sqlite3.connect(plexus.dir / "plexus.db")
    rows = db.execute("SELECT actor, outcome, detail FROM events WHERE type = 'auth.login'").fetchall()
    assert any(r[0] == MARTIN and r[1] == "success" for r in rows)
    assert any(r[1] == "failure" and "token refused" in r[2] for r in rows)
    assert not any("Bearer" in r[2] for r in rows)


def test_each_authenticated_session_ends_with_one_logout_event(plexus):
    """IMAP LOGOUT, an IMAP connection dropped, submission QUIT, a submission session
    idle past [limits] idle_timeout (3 s here), and IMAP sessions (one in IDLE, parked)
    and a submission session open when plexusd stops: one auth.logout each, saying how; none for sessions that
    never authenticated. Counted once plexusd has stopped, when every event is written."""
    plexus.add_mailbox(LEAVER, "PER", "810000000077", "sortie-password")
    with sqlite3.connect(plexus.dir / "plexus.db") as db:
        since = db.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()[0]
    idle = plexus.smtp()
    idle.login(LEAVER, "sortie-password")
    plexus.imap(user=LEAVER, password="sortie-password").logout()
    plexus.imap(user=LEAVER, password="sortie-password").shutdown()  # no LOGOUT
    quitting = plexus.smtp()
    quitting.login(LEAVER, "sortie-password")
    quitting.quit()
    plexus.imap().logout()
    with pytest.raises(imaplib.IMAP4.error):
        plexus.imap(user=LEAVER, password="wrong")
    with pytest.raises(smtplib.SMTPAuthenticationError):
        plexus.smtp().login(LEAVER, "wrong")
    plexus.smtp().quit()
    assert idle.getreply()[0] == 421  # 4.4.2 idle timeout
    idle.close()
    open_imap = plexus.imap(user=LEAVER, password="sortie-password")
    idling = plexus.imap(user=LEAVER, password="sortie-password")
    idling.select("INBOX")
    idling.send(b"i1 IDLE\r\n")
    assert idling.readline().startswith(b"+ ")
    open_smtp = plexus.smtp()
    open_smtp.login(LEAVER, "sortie-password")
    plexus.stop()
    for session in (open_imap, idling):
        session.shutdown()
    open_smtp.close()
    with sqlite3.connect(plexus.dir / "plexus.db") as db:
        rows = db.execute("SELECT actor, client, object, outcome, detail FROM events "
                          "WHERE type = 'auth.logout' AND id > ? ORDER BY id", (since,)).fetchall()
    plexus.start()
    assert all(actor for actor, *_ in rows), "no logout without a login"
    mine = [row for row in rows if row[0] == LEAVER]
    assert all(row[1:4] == ("127.0.0.1", LEAVER, "success") for row in mine), mine
    ended = collections.Counter((json.loads(row[4])["service"], json.loads(row[4])["reason"]) for row in mine)
    assert ended == collections.Counter([("imaps", "logout"), ("imaps", "closed"), ("submission", "logout"),
                                         ("submission", "timeout"), ("imaps", "shutdown"), ("imaps", "shutdown"),
                                         ("submission", "shutdown")]), mine
