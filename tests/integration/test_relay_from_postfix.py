"""Debian's Postfix as a third operator's MTA sending to Plexus's MX: its
client certificate comes from a third CA that Plexus was told to trust
(plexusctl trust add), TLS is mandatory (smtp_tls_security_level = encrypt),
and its domain is listed with its DN. Refusals: no client certificate (the
mail waits in Postfix's queue), a DN the whitelist does not list (bounced)."""
import smtplib
import ssl
import time

import pytest

from authority import Authority
from plexus_harness import Plexus
from postfix_peer import operator_dn, operator_postfix

DOMAIN = "hopital.mssante.test"
DURAND = f"ide.durand@{DOMAIN}"
POSTFIX_DOMAIN = "tiers.mssante.test"
DR_P = f"dr.p@{POSTFIX_DOMAIN}"
NO_CERT = f"sans.certificat@{POSTFIX_DOMAIN}"
IMPOSTOR = f"imposteur@{POSTFIX_DOMAIN}"
IMPOSTOR_DN = "CN=mx.imposteur.mssante.test,O=Imposteur,C=FR"


@pytest.fixture(scope="module")
def plexus(tmp_path_factory):
    p = Plexus(tmp_path_factory.mktemp("from-postfix"), DOMAIN)
    p.add_mailbox(DURAND, "PER", "810000000002", "durand-password")
    p.third_ca = Authority(p.dir, "Tiers")
    r = p.ctl("trust", "add", str(p.third_ca.cert))
    assert r.returncode == 0, r.stderr
    p.write_whitelist([(DOMAIN, p.server_dn()), (POSTFIX_DOMAIN, operator_dn(POSTFIX_DOMAIN))])
    p.start()
    yield p
    p.stop()


@pytest.fixture(scope="module")
def postfix(plexus):
    """Sends everything to Plexus's MX; two senders go through transports with
    no client certificate and with one whose DN is not listed."""
    impostor = plexus.third_ca.issue("imposteur", "/C=FR/O=Imposteur/CN=mx.imposteur.mssante.test",
                                     dns_name="mx.imposteur.mssante.test")
    mx = f"[127.0.0.1]:{plexus.ports['mx']}"
    settings = {
        "default_transport": f"smtp:{mx}",
        "sender_dependent_default_transport_maps": f"inline:{{ {NO_CERT}=nocert:{mx}, {IMPOSTOR}=impostor:{mx} }}",
        "smtpd_tls_req_ccert": "no",  # the tests submit to it without a certificate
    }
    transports = {"nocert": "-o smtp_tls_cert_file= -o smtp_tls_key_file=",
                  "impostor": f"-o smtp_tls_cert_file={impostor[0]} -o smtp_tls_key_file={impostor[1]}"}
    with operator_postfix(POSTFIX_DOMAIN, [DR_P, NO_CERT, IMPOSTOR], plexus.third_ca, plexus.ca,
                          settings, transports) as pf:
        yield pf


def submit(postfix, sender, subject):
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    with smtplib.SMTP("127.0.0.1", postfix.port, local_hostname="poste.tiers.test", timeout=30) as s:
        s.starttls(context=ctx)
        s.sendmail(sender, [DURAND], f"From: {sender}\r\nTo: {DURAND}\r\nSubject: {subject}\r\n\r\n"
                                     "Bonjour de l'operateur tiers.\r\n".encode())


def test_postfix_delivers_to_a_plexus_mailbox_over_mutual_tls(plexus, postfix):
    submit(postfix, DR_P, "depuis postfix")
    sent = postfix.wait_for_log(f"to=<{DURAND}>", "status=sent")
    assert f"relay=127.0.0.1[127.0.0.1]:{plexus.ports['mx']}" in sent and "250 2.0.0 Ok: queued as" in sent, sent
    imap = plexus.imap(user=DURAND, password="durand-password")
    imap.select("INBOX")
    deadline = time.time() + 10
    while not (found := imap.search(None, "SUBJECT", '"depuis postfix"')[1][0].split()) and time.time() < deadline:
        time.sleep(0.2)
        imap.noop()
    [uid] = found
    message = imap.fetch(uid, "(RFC822)")[1][0][1]
    imap.logout()
    # Our trace field: Postfix's EHLO name over TLS; then Postfix's own, below it.
    ours = message.split(b"\r\n\tby ", 1)
    assert ours[0].startswith(f"Received: from mx.{POSTFIX_DOMAIN} ([127.0.0.1])".encode())
    assert b"with ESMTPS" in ours[1].split(b"\r\n", 1)[0]
    assert b"Bonjour de l'operateur tiers." in message


def test_postfix_without_a_client_certificate_keeps_the_mail_deferred(plexus, postfix):
    submit(postfix, NO_CERT, "sans certificat")
    deferred = postfix.wait_for_log(f"to=<{DURAND}>", "status=deferred")
    assert "said: 451 4.7.0 A client certificate of the MSSant" in deferred, deferred
    assert postfix.queued() >= 1  # still there, for the next attempt
    assert [(NO_CERT, f"mx.{POSTFIX_DOMAIN}")] == [
        (actor, obj) for actor, obj, _ in plexus.events("message.refused", "no client certificate")]
    assert f"sent MAIL FROM:<{NO_CERT}> without a client certificate" in plexus.log_text()
    assert not any("sans certificat" in row for row in plexus.messages(DURAND))


def test_postfix_with_a_dn_not_listed_for_its_domain_is_refused(plexus, postfix):
    submit(postfix, IMPOSTOR, "imposture")
    bounced = postfix.wait_for_log(f"to=<{DURAND}>", "status=bounced")
    assert (f"said: 550 5.7.1 Certificate {IMPOSTOR_DN} is not registered for domain {POSTFIX_DOMAIN}"
            in bounced), bounced
    assert [(IMPOSTOR, POSTFIX_DOMAIN)] == [
        (actor, obj) for actor, obj, _ in plexus.events("message.refused", f"certificate DN not listed: {IMPOSTOR_DN}")]
    # The bounce reaches the sender's mailbox at Postfix.
    deadline = time.time() + 30
    while not postfix.maildir_messages(IMPOSTOR) and time.time() < deadline:
        time.sleep(0.2)
    [notice] = postfix.maildir_messages(IMPOSTOR)
    assert b"Certificate " + IMPOSTOR_DN.encode() in notice and b"imposture" in notice
    assert not any("imposture" in row for row in plexus.messages(DURAND))
