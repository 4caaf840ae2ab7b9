"""Loops and abuse: the hop-count limit (RFC 5321 6.3), no relay for clients
that are neither authenticated nor a listed operator, and the outbound rate
limit per authenticated sender. One instance with small limits."""
import re
import socket

import pytest

from plexus_harness import Plexus

DOMAIN = "hopital.mssante.test"
PEER_DOMAIN = "clinique.mssante.test"
UNLISTED_DOMAIN = "inconnu.mssante.test"
MARTIN = f"dr.martin@{DOMAIN}"
RAPIDE = f"dr.rapide@{DOMAIN}"
LABO = f"labo@{DOMAIN}"
DURAND = f"ide.durand@{DOMAIN}"
MAX_HOPS = 5
RATE, APP_RATE = 2, 3


@pytest.fixture(scope="module")
def plexus(tmp_path_factory):
    p = Plexus(tmp_path_factory.mktemp("abuse"), DOMAIN)
    for address, rpps in ((MARTIN, "810000000001"), (RAPIDE, "810000000003"), (DURAND, "810000000002")):
        p.add_mailbox(address, "PER", rpps, address.split("@")[0] + "-password")
    p.add_mailbox(LABO, "APP", "750000002")
    p.app_cert = p.issue_cert(LABO)
    p.peer_cert = p.issue_cert(f"mx.{PEER_DOMAIN}")
    p.stranger_cert = p.issue_cert(f"mx.{UNLISTED_DOMAIN}")  # our CA, but not in the whitelist
    p.write_whitelist([(DOMAIN, p.server_dn()), (PEER_DOMAIN, p.peer_cert[2])])
    p.set_config("smtp", "max_hops", str(MAX_HOPS))
    p.set_config("relay", "sender_rate_limit", str(RATE))
    p.set_config("relay", "app_sender_rate_limit", str(APP_RATE))
    # The peer is down: whatever is queued for it stays queued.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    assert p.ctl("route", "set", PEER_DOMAIN, f"127.0.0.1:{closed_port}").returncode == 0
    p.start()
    yield p
    p.stop()


def login(p, address):
    s = p.smtp()
    s.login(address, address.split("@")[0] + "-password")
    return s


def queued(p):
    """{(queue id, domain): sender} of `plexusctl queue list`."""
    r = p.ctl("queue", "list")
    assert r.returncode == 0, r.stderr
    return {(w[1], w[3]): w[4] for w in (line.split() for line in r.stdout.splitlines()[1:-1])}


def with_hops(count, subject):
    trace = "".join(f"Received: from relais{i}.example by relais{i + 1}.example; Mon, 30 Nov 2026 10:00:0{i} +0000\r\n"
                    for i in range(count))
    return f"{trace}From: {MARTIN}\r\nTo: {DURAND}\r\nSubject: {subject}\r\n\r\nboucle ?\r\n".encode()


def test_too_many_hops_is_refused_as_a_loop(plexus):
    before = len(plexus.messages(DURAND))
    s = login(plexus, MARTIN)
    # Ours makes MAX_HOPS Received: fields: still fine.
    s.sendmail(MARTIN, [DURAND], with_hops(MAX_HOPS - 1, "juste assez"))
    s.mail(MARTIN)
    s.rcpt(DURAND)
    code, text = s.data(with_hops(MAX_HOPS, "une de trop"))
    assert (code, text) == (554, b"5.4.6 Too many hops (6), mail loop?")
    s.quit()
    rows = plexus.messages(DURAND)
    assert len(rows) == before + 1 and "juste assez" in rows[-1]
    [(actor, obj, detail)] = plexus.events("message.refused", "too many hops")
    assert actor == MARTIN and obj == MARTIN and '"hops":6' in detail and f'"max_hops":{MAX_HOPS}' in detail


def test_mx_relays_for_nobody(plexus):
    remote = f"dr.x@{PEER_DOMAIN}"
    # Without STARTTLS, without a certificate, with a certificate no whitelist entry
    # names: never past MAIL FROM, so never a remote recipient.
    plain = plexus.smtp("mx", starttls=False)
    assert plain.mail(f"dr.y@{PEER_DOMAIN}")[0] == 530
    assert plain.rcpt(remote)[0] == 503
    plain.quit()
    anonymous = plexus.smtp("mx")
    code, text = anonymous.mail(f"dr.y@{PEER_DOMAIN}")
    assert code == 451 and text.startswith(b"4.7.0 A client certificate"), text
    assert anonymous.rcpt(remote)[0] == 503
    anonymous.quit()
    cert, key, _ = plexus.stranger_cert
    stranger = plexus.smtp("mx", cert=cert, key=key, ehlo=f"mx.{UNLISTED_DOMAIN}")
    code, text = stranger.mail(f"dr.y@{UNLISTED_DOMAIN}")
    assert code == 550 and text.startswith(b"5.7.1") and b"not in the MSSant" in text, text
    code, text = stranger.mail("")  # bounces only from known operators
    assert code == 550 and text.startswith(b"5.7.1"), text
    assert stranger.rcpt(remote)[0] == 503
    stranger.quit()
    # A listed operator, for a recipient that is not ours.
    cert, key, _ = plexus.peer_cert
    peer = plexus.smtp("mx", cert=cert, key=key, ehlo=f"mx.{PEER_DOMAIN}")
    assert peer.mail(f"dr.y@{PEER_DOMAIN}")[0] == 250
    code, text = peer.rcpt(f"dr.z@{UNLISTED_DOMAIN}")
    assert (code, text) == (550, f"5.7.1 <dr.z@{UNLISTED_DOMAIN}>: not a local mailbox; relay not allowed".encode())
    code, text = peer.rcpt(remote)
    assert code == 550 and text.startswith(b"5.7.1"), text
    peer.quit()
    assert not [sender for sender in queued(plexus).values() if not sender.endswith("@" + DOMAIN)]
    [(actor, obj, _)] = plexus.events("message.refused", "no client certificate")
    assert (actor, obj) == (f"dr.y@{PEER_DOMAIN}", "client.test")  # the sender and the EHLO name


def test_submission_relays_to_listed_domains_only(plexus):
    s = login(plexus, MARTIN)
    s.mail(MARTIN)
    code, text = s.rcpt(f"dr.z@{UNLISTED_DOMAIN}")
    assert (code, text) == (550, f"5.7.1 <dr.z@{UNLISTED_DOMAIN}>: domain {UNLISTED_DOMAIN} is not in the "
                                 "MSSanté trust space".encode())
    assert s.rcpt(f"dr.x@{PEER_DOMAIN}") == (250, b"2.1.5 Recipient OK (relayed in the trust space)")
    code, text = s.data(f"From: {MARTIN}\r\nTo: dr.x@{PEER_DOMAIN}\r\nSubject: relais\r\n\r\nbonjour\r\n".encode())
    s.quit()
    assert code == 250, text
    queue_id = re.search(rb"queued as (\w+)", text).group(1).decode()
    assert queued(plexus)[(queue_id, PEER_DOMAIN)] == MARTIN


def rcpt_codes(s, recipients):
    return [s.rcpt(address)[0] for address in recipients]


def test_sender_rate_limit_counts_remote_recipients_per_account(plexus):
    remote = [f"dr.{n}@{PEER_DOMAIN}" for n in ("a", "b", "c")]
    s = login(plexus, RAPIDE)
    s.mail(RAPIDE)
    assert rcpt_codes(s, remote[:RATE]) == [250] * RATE
    code, text = s.rcpt(remote[RATE])
    assert code == 450 and text.startswith(f"4.7.1 <{remote[RATE]}>: sending rate limit reached".encode()), text
    assert b"try again later" in text
    assert s.rcpt(DURAND)[0] == 250  # local recipients are not counted
    code, text = s.data(f"From: {RAPIDE}\r\nSubject: trois\r\n\r\ncorps\r\n".encode())
    assert code == 250, text
    s.quit()
    # The count is the account's, across sessions.
    s = login(plexus, RAPIDE)
    s.mail(RAPIDE)
    assert s.rcpt(remote[0])[0] == 450
    s.quit()
    events = plexus.events("message.refused", "sender rate limit", count=2)
    assert [(actor, obj) for actor, obj, _ in events] == [(RAPIDE, remote[RATE]), (RAPIDE, remote[0])]
    assert f'"limit_per_hour":{RATE}' in events[0][2]
    # APP accounts have their own limit.
    cert, key, _ = plexus.app_cert
    app = plexus.smtp(cert=cert, key=key)
    assert app.docmd("AUTH", "EXTERNAL =")[0] == 235
    app.mail(LABO)
    assert rcpt_codes(app, [f"lab{i}@{PEER_DOMAIN}" for i in range(APP_RATE + 1)]) == [250] * APP_RATE + [450]
    app.quit()
