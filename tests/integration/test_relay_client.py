"""The relay client (relay::SmtpRelayClient) against a real plexusd MX, through
relay-probe: mutual TLS, the peer's DN against the whitelist, per-recipient
outcomes, DSN parameters, and the failures that must stay temporary."""
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from plexus_harness import BUILD, Plexus
from authority import Authority
from postfix_peer import operator_dn, operator_postfix

PROBE = BUILD / "tests/tools/relay-probe"
SENDER_DOMAIN = "hopital.mssante.test"
PEER_DOMAIN = "clinique.mssante.test"
SENDER = f"dr.martin@{SENDER_DOMAIN}"
DR_X = f"dr.x@{PEER_DOMAIN}"
DR_Y = f"dr.y@{PEER_DOMAIN}"


@pytest.fixture(scope="module")
def peer(tmp_path_factory):
    """The receiving operator: a plexusd whose MX knows our sending certificate
    (issued by its development CA) as the operator of SENDER_DOMAIN."""
    p = Plexus(tmp_path_factory.mktemp("relay-peer"), PEER_DOMAIN)
    p.add_mailbox(DR_X, "PER", "810000000101")
    p.add_mailbox(DR_Y, "PER", "810000000102")
    p.sender_cert = p.issue_cert(f"mx.{SENDER_DOMAIN}")
    p.write_whitelist([(PEER_DOMAIN, p.server_dn()), (SENDER_DOMAIN, p.sender_cert[2])])
    p.start()
    yield p
    p.stop()


@pytest.fixture(scope="module")
def stranger(tmp_path_factory):
    """An operator whose certificate comes from another CA than the peer's."""
    p = Plexus(tmp_path_factory.mktemp("relay-stranger"), PEER_DOMAIN)
    p.write_whitelist([(PEER_DOMAIN, p.server_dn())])
    p.start()
    yield p
    p.stop()


def whitelist_xml(entries):
    domains = "".join(
        f"<Domaine><Nom>{d}</Nom><Description>test</Description>"
        f"<DNCertificatOperateur>{dn}</DNCertificatOperateur><DateMAJ>2026-01-01T00:00:00Z</DateMAJ></Domaine>"
        for d, dn in entries)
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            '<ListeBlancheMSSante xmlns="https://listeblanche.mssante.fr/schema">'
            f"<DateDeGeneration>2026-01-01T00:00:00Z</DateDeGeneration><ListeDomaines>{domains}"
            "</ListeDomaines></ListeBlancheMSSante>")


class Probe:
    """relay-probe's configuration: our certificate, the peer's CA as trust
    anchor, a whitelist, and a static route to the port under test."""

    def __init__(self, directory, peer, port=None, listed_dn=None, crl=None, timeout=5):
        self.dir = Path(directory)
        cert, key, _ = peer.sender_cert
        (self.dir / "whitelist.xml").write_text(whitelist_xml([(PEER_DOMAIN, listed_dn or peer.server_dn())]))
        (self.dir / "probe.conf").write_text(
            f"[server]\nhostname = mx.{SENDER_DOMAIN}\n"
            f"[tls]\ncertificate = {cert}\nkey = {key}\ntrust_anchors = {peer.ca}\n"
            + (f"crl = {crl}\n" if crl else "") +
            f"[trust]\nwhitelist = {self.dir / 'whitelist.xml'}\n"
            f"[relay]\nconnect_timeout_seconds = {timeout}\ncommand_timeout_seconds = {timeout}\n"
            f"data_timeout_seconds = {timeout}\n"
            f"[routes]\n{PEER_DOMAIN} = 127.0.0.1:{port or peer.ports['mx']}\n")

    def run(self, recipients, body=None, subject="relais", extra=()):
        """recipients: addresses, or (address, [options]) pairs. Returns
        (header fields, {recipient: (outcome, reply)})."""
        raw = body or (f"From: {SENDER}\r\nTo: {DR_X}\r\nSubject: {subject}\r\n\r\nBonjour.\r\n").encode()
        message = self.dir / "message.eml"
        message.write_bytes(raw)
        args = [str(PROBE), "--config", str(self.dir / "probe.conf"), "--from", SENDER,
                "--message", str(message), *extra]
        for recipient in recipients:
            address, options = recipient if isinstance(recipient, tuple) else (recipient, [])
            args += ["--to", address, *options]
        r = subprocess.run(args, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        fields, outcomes = {}, {}
        for line in r.stdout.splitlines():
            name, _, rest = line.partition("\t")
            if name in ("remote-host", "peer-took-dsn"):
                fields[name] = rest
            else:
                outcome, _, reply = rest.partition("\t")
                outcomes[name] = (outcome, reply)
        return fields, outcomes


def stored(peer, address, subject):
    rows = [row for row in peer.messages(address) if subject in row]
    assert rows, peer.messages(address)
    return peer.message_bytes(address, rows[-1].split()[0])


def test_delivers_to_every_recipient_in_one_transaction(peer, tmp_path):
    fields, outcomes = Probe(tmp_path, peer).run([DR_X, DR_Y], subject="deux destinataires")
    assert outcomes[DR_X][0] == "delivered" and outcomes[DR_Y][0] == "delivered", outcomes
    assert outcomes[DR_X][1].startswith("250 2.0.0 Ok: queued as ")
    assert outcomes[DR_X][1] == outcomes[DR_Y][1]  # one transaction
    assert fields["remote-host"] == f"127.0.0.1 [127.0.0.1]:{peer.ports['mx']}"
    for address in (DR_X, DR_Y):
        message = stored(peer, address, "deux destinataires")
        # The peer saw mutual TLS and our EHLO name.
        assert b"from mx.hopital.mssante.test" in message and b"with ESMTPS" in message


def test_message_bytes_arrive_intact_with_dot_stuffing(peer, tmp_path):
    lines = [f"Subject: points\r\nFrom: {SENDER}\r\n\r\n".encode(), b".ligne qui commence par un point\r\n",
             b"..deux points\r\n", b".\r\n", "accentué é\r\n".encode()]
    lines += [(b"%06d " % i) + b"x" * 90 + b"\r\n" for i in range(30000)]  # ~3 MB: several blob segments
    raw = b"".join(lines)
    _, outcomes = Probe(tmp_path, peer).run([DR_X], body=raw)
    assert outcomes[DR_X][0] == "delivered", outcomes
    assert stored(peer, DR_X, "points").endswith(raw)


def test_unknown_recipient_is_permanent_with_the_peers_reply(peer, tmp_path):
    unknown = f"nobody@{PEER_DOMAIN}"
    _, outcomes = Probe(tmp_path, peer).run([DR_X, unknown], subject="inconnu")
    assert outcomes[DR_X][0] == "delivered"
    assert outcomes[unknown] == ("permanent", f"550 5.1.1 <{unknown}>: no such mailbox here")
    stored(peer, DR_X, "inconnu")


def test_dsn_parameters_are_passed_on(peer, tmp_path):
    fields, outcomes = Probe(tmp_path, peer).run(
        [(DR_X, ["--notify", "SUCCESS,FAILURE", "--orcpt", f"rfc822;{DR_X}"]), (DR_Y, ["--notify", "NEVER"])],
        subject="dsn", extra=["--envid", "QQ314159", "--ret", "HDRS"])
    assert fields["peer-took-dsn"] == "yes"
    assert outcomes[DR_X][0] == "delivered" and outcomes[DR_Y][0] == "delivered", outcomes


def test_malformed_dsn_parameter_reaches_the_peer(peer, tmp_path):
    # Proof that NOTIFY is really sent: the peer checks it and refuses this one.
    _, outcomes = Probe(tmp_path, peer).run([(DR_X, ["--notify", "SOMETIMES"])])
    assert outcomes[DR_X] == ("permanent", "501 5.5.4 Malformed NOTIFY parameter")


def test_peer_dn_not_listed_for_the_domain_is_temporary(peer, tmp_path):
    listed = "CN=mx.ailleurs.mssante.test,O=Ailleurs,C=FR"
    _, outcomes = Probe(tmp_path, peer, listed_dn=listed).run([DR_X, DR_Y])
    for address in (DR_X, DR_Y):
        outcome, reason = outcomes[address]
        assert outcome == "temporary"
        assert f"127.0.0.1 [127.0.0.1]:{peer.ports['mx']}: peer certificate" in reason
        assert f"is not listed for {PEER_DOMAIN}" in reason and listed in reason
        assert peer.server_dn() in reason, reason  # the peer's own DN


def test_certificate_of_another_ca_is_temporary(peer, stranger, tmp_path):
    _, outcomes = Probe(tmp_path, peer, port=stranger.ports["mx"], listed_dn=stranger.server_dn()).run([DR_X])
    outcome, reason = outcomes[DR_X]
    assert outcome == "temporary"
    assert f"[127.0.0.1]:{stranger.ports['mx']}: TLS handshake failed: certificate verify failed" in reason, reason


def revoke(peer, certificate, directory):
    """A CRL of the peer's development CA revoking `certificate` (openssl ca)."""
    directory = Path(directory)
    (directory / "index.txt").write_text("")
    (directory / "crlnumber").write_text("01\n")
    (directory / "ca.cnf").write_text(
        f"[ca]\ndefault_ca = dev\n[dev]\ndatabase = {directory / 'index.txt'}\n"
        f"crlnumber = {directory / 'crlnumber'}\ndefault_md = sha256\ndefault_crl_days = 1\n")
    ca = ["-config", str(directory / "ca.cnf"), "-keyfile", str(peer.dir / "pki/ca.key"), "-cert", str(peer.ca)]
    subprocess.run(["openssl", "ca", *ca, "-revoke", str(certificate)], check=True, capture_output=True)
    crl = directory / "crl.pem"
    subprocess.run(["openssl", "ca", *ca, "-gencrl", "-out", str(crl)], check=True, capture_output=True)
    return crl


def test_revoked_peer_certificate_is_temporary(peer, tmp_path):
    crl = revoke(peer, peer.dir / "pki/server.crt", tmp_path)
    _, outcomes = Probe(tmp_path, peer, crl=crl).run([DR_X])
    outcome, reason = outcomes[DR_X]
    assert outcome == "temporary"
    assert "TLS handshake failed: certificate verify failed: certificate revoked" in reason, reason


def test_nothing_listening_is_temporary_connection_refused(peer, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    _, outcomes = Probe(tmp_path, peer, port=port).run([DR_X])
    assert outcomes[DR_X] == ("temporary", f"127.0.0.1 [127.0.0.1]:{port}: connection refused")


class ScriptedServer:
    """A fake SMTP server on 127.0.0.1: answers each command from `replies`
    (by verb), records what it was sent; stays silent for verbs it has no answer for."""

    def __init__(self, greeting, replies):
        self.greeting, self.replies, self.received = greeting, replies, []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        conn, _ = self.sock.accept()
        with conn:
            conn.sendall(self.greeting.encode())
            data = b""
            while True:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
                while b"\r\n" in data:
                    line, data = data.split(b"\r\n", 1)
                    self.received.append(line.decode())
                    reply = self.replies.get(line.decode().split(" ")[0].upper())
                    if reply:
                        conn.sendall(reply.encode())

    def close(self):
        self.sock.close()


def probe_scripted(tmp_path, peer, greeting, replies, timeout=5):
    """Relays to DR_X through a ScriptedServer; returns it and DR_X's outcome."""
    server = ScriptedServer(greeting, replies)
    try:
        _, outcomes = Probe(tmp_path, peer, port=server.port, timeout=timeout).run([DR_X])
    finally:
        server.close()
    return server, outcomes[DR_X]


def test_peer_without_starttls_gets_nothing_in_plaintext(peer, tmp_path):
    server, outcome = probe_scripted(tmp_path, peer, "220 plain.test ESMTP\r\n",
                                     {"EHLO": "250-plain.test\r\n250-PIPELINING\r\n250 SIZE 1000000\r\n",
                                      "QUIT": "221 bye\r\n"})
    assert outcome == (
        "temporary", f"127.0.0.1 [127.0.0.1]:{server.port}: peer does not offer STARTTLS; never plaintext")
    assert server.received == [f"EHLO mx.{SENDER_DOMAIN}", "QUIT"]


def test_silent_peer_times_out_as_temporary(peer, tmp_path):
    server, outcome = probe_scripted(tmp_path, peer, "220 slow.test ESMTP\r\n", {}, timeout=1)
    assert outcome == ("temporary", f"127.0.0.1 [127.0.0.1]:{server.port}: no reply to EHLO within 1 s")


def test_greeting_refusal_is_temporary_with_the_peers_text(peer, tmp_path):
    server, outcome = probe_scripted(tmp_path, peer, "554 5.7.1 no service for you\r\n", {"QUIT": "221 bye\r\n"})
    assert outcome == ("temporary", f"127.0.0.1 [127.0.0.1]:{server.port} greeted with: 554 5.7.1 no service for you")


# --- Postfix from Debian as the receiving operator ------------------------------------

POSTFIX_DOMAIN = "postfix.mssante.test"
DR_Z = f"dr.z@{POSTFIX_DOMAIN}"
POSTFIX_DN = operator_dn(POSTFIX_DOMAIN)


@pytest.fixture(scope="module")
def postfix(peer, tmp_path_factory):
    """Receives for POSTFIX_DOMAIN only over TLS with a client certificate of the
    peer's CA (which relay-probe presents); its own certificate comes from that CA too."""
    ca = Authority(tmp_path_factory.mktemp("postfix-ca"), "peer-ca", existing=(peer.ca, peer.dir / "pki/ca.key"))
    with operator_postfix(POSTFIX_DOMAIN, [DR_Z], ca, peer.ca) as pf:
        yield pf


def postfix_probe(directory, peer, postfix):
    probe = Probe(directory, peer, port=postfix.port, listed_dn=POSTFIX_DN)
    (probe.dir / "whitelist.xml").write_text(whitelist_xml([(POSTFIX_DOMAIN, POSTFIX_DN)]))
    conf = probe.dir / "probe.conf"
    conf.write_text(conf.read_text().replace(f"{PEER_DOMAIN} = ", f"{POSTFIX_DOMAIN} = "))
    return probe


def test_postfix_receives_over_mutual_tls(peer, postfix, tmp_path):
    unknown = f"nobody@{POSTFIX_DOMAIN}"
    fields, outcomes = postfix_probe(tmp_path, peer, postfix).run(
        [(DR_Z, ["--notify", "SUCCESS,FAILURE", "--orcpt", f"rfc822;{DR_Z}"]), unknown],
        body=f"From: {SENDER}\r\nTo: {DR_Z}\r\nSubject: vers postfix\r\n\r\n.point\r\nfin\r\n".encode(),
        extra=["--envid", "PF42", "--ret", "HDRS"])
    assert outcomes[DR_Z][0] == "delivered" and outcomes[DR_Z][1].startswith("250 2.0.0 Ok: queued as "), outcomes
    outcome, reply = outcomes[unknown]
    assert outcome == "permanent" and reply.startswith("550 5.1.1 <nobody@postfix.mssante.test>"), reply
    assert fields["peer-took-dsn"] == "yes"
    deadline = time.time() + 30
    while not postfix.maildir_messages(DR_Z) and time.time() < deadline:
        time.sleep(0.2)
    [stored_message] = postfix.maildir_messages(DR_Z)
    headers, _, body = stored_message.partition(b"\n\n")  # maildir stores LF line ends
    assert body == b".point\nfin\n" and b"Subject: vers postfix" in headers
    # Postfix verified our client certificate against the CA it was given.
    assert f'Client CN "mx.{SENDER_DOMAIN}"' in headers.decode() and "(verified OK)" in headers.decode(), headers


def test_postfix_with_a_dn_not_listed_is_refused_before_mail(peer, postfix, tmp_path):
    probe = postfix_probe(tmp_path, peer, postfix)
    (probe.dir / "whitelist.xml").write_text(whitelist_xml([(POSTFIX_DOMAIN, peer.server_dn())]))
    _, outcomes = probe.run([DR_Z])
    outcome, reason = outcomes[DR_Z]
    assert outcome == "temporary" and f"peer certificate {POSTFIX_DN} is not listed" in reason, reason
