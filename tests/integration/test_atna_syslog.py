"""The ATNA plugin's syslog transports (plugins/atna-audit/Syslog*) against
Debian's rsyslogd: syslog over TLS with a client certificate (RFC 5425) and
over UDP (RFC 5426), driven by tests/tools/syslog_send; then the plugin in
plexusd sending to rsyslog through a repository outage."""
import subprocess

import pytest

from plexus_harness import BUILD, Plexus
from rsyslog_fixture import Rsyslog, make_pki, parse_syslog
from test_atna_audit import DOMAIN, DURAND, MARTIN, PLUGIN, SOURCE, audited_ids, traffic, validate
from test_plugins import add_plugin, wait_for

SYSLOG_SEND = BUILD / "tests/tools/syslog-send"
# What a repository must get back unchanged: non-ASCII, and the characters SD values escape.
XML = ('<AuditMessage><EventIdentification EventActionCode="R" EventDateTime="2026-12-01T23:05:13Z" '
       'EventOutcomeIndicator="0"><EventID csd-code="110106" codeSystemName="DCM" originalText="Export"/>'
       '</EventIdentification><ActiveParticipant UserID="dr.béatrice@hôpital.test" UserIsRequestor="true"/>'
       '<ParticipantObjectIdentification ParticipantObjectID="[a] \\ &quot;b&quot;"/></AuditMessage>')
ID_PREFIX = 'site "x"]\\:'  # escaped in the structured data, identical once parsed


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def repository(tmp_path_factory, pki):
    with Rsyslog(tmp_path_factory.mktemp("rsyslog"), pki) as repo:
        yield repo


@pytest.fixture(scope="module")
def xml_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("xml") / "audit.xml"
    path.write_bytes(XML.encode())
    return path


def send_args(repo, pki, xml_file, transport="tls", cert="client", prefix=ID_PREFIX, **extra):
    args = [str(SYSLOG_SEND), "--transport", transport, "--host", "127.0.0.1", "--xml-file", str(xml_file),
            "--id-prefix", prefix]
    if transport == "tls":
        args += ["--port", str(repo.tls_port), "--ca", str(pki.ca)]
        if cert:
            args += ["--cert", str(getattr(pki, f"{cert}_cert")), "--key", str(getattr(pki, f"{cert}_key"))]
    else:
        args += ["--port", str(repo.udp_port)]
    for key, value in extra.items():
        args += ["--" + key.replace("_", "-"), str(value)]
    return args


def run_send(*args, **kwargs):
    return subprocess.run(send_args(*args, **kwargs), capture_output=True, text=True, timeout=30)


def with_prefix(prefix):
    return lambda messages: [m for m in map(parse_syslog, messages) if m["sd"]["plexus@32473"]["id"].startswith(prefix)]


def test_tls_with_client_certificate_delivers_every_record_intact(repository, pki, xml_file):
    r = run_send(repository, pki, xml_file, count=50)
    assert r.returncode == 0, r.stdout + r.stderr
    mine = with_prefix(ID_PREFIX)
    received = mine(repository.wait_for(lambda ms: len(mine(ms)) >= 50))
    assert sorted(m["sd"]["plexus@32473"]["id"] for m in received) == sorted(f"{ID_PREFIX}{n}" for n in range(1, 51))
    for m in received:
        assert m["msg"] == XML
        assert (m["pri"], m["version"], m["msgid"], m["app"], m["hostname"]) == \
            (85, "1", "IHE+RFC-3881", "plexus-test", "plexus.test")  # authpriv.notice: outcome 0
        assert m["timestamp"].endswith("Z") and len(m["timestamp"]) == len("2026-12-01T23:05:13.123456Z")


@pytest.mark.parametrize("cert", [None, "rogue"])
def test_tls_without_a_trusted_client_certificate_is_refused(repository, pki, xml_file, cert):
    prefix = f"refused-{cert}:"
    r = run_send(repository, pki, xml_file, cert=cert, prefix=prefix, count=3)
    assert r.returncode == 1, r.stdout + r.stderr
    assert r.stdout.startswith("failed 1: syslog repository 127.0.0.1:"), r.stdout
    # A record sent afterwards with the right certificate arrives, and none of the refused ones before it.
    assert run_send(repository, pki, xml_file, prefix=f"after-{cert}:", count=1).returncode == 0
    messages = repository.wait_for(lambda ms: with_prefix(f"after-{cert}:")(ms))
    assert with_prefix(prefix)(messages) == []


def test_tls_checks_the_repository_name(repository, pki, xml_file):
    r = run_send(repository, pki, xml_file, prefix="misnamed:", count=1, server_name="audit.elsewhere.test")
    assert r.returncode == 1
    assert "certificate is refused: hostname mismatch" in r.stdout, r.stdout


def test_udp_delivers_one_message_per_datagram(repository, pki, xml_file):
    r = run_send(repository, pki, xml_file, transport="udp", prefix="udp:", count=10)
    assert r.returncode == 0, r.stdout + r.stderr
    mine = with_prefix("udp:")
    received = mine(repository.wait_for(lambda ms: len(mine(ms)) >= 10))
    assert sorted(m["sd"]["plexus@32473"]["id"] for m in received) == sorted(f"udp:{n}" for n in range(1, 11))
    assert all(m["msg"] == XML for m in received)


def test_udp_truncates_to_the_size_limit(repository, pki, tmp_path):
    big = tmp_path / "big.xml"
    big.write_bytes(("<AuditMessage>" + "é" * 600 + "</AuditMessage>").encode())
    r = run_send(repository, pki, big, transport="udp", prefix="udp-big:", count=1, max_size=480)
    assert r.returncode == 0, r.stdout + r.stderr
    (raw,) = repository.wait_for(lambda ms: [m for m in ms if "udp-big:1" in m])[-1:]
    assert len(raw.encode()) <= 480 and len(raw.encode()) > 470  # cut at a character boundary
    assert parse_syslog(raw)["msg"].startswith("<AuditMessage>éé")


def test_repository_down_then_back_one_persistent_transport(tmp_path, pki, xml_file):
    repo = Rsyslog(tmp_path / "rsyslog", pki)
    repo.start()
    sender = subprocess.Popen(send_args(repo, pki, xml_file, prefix="outage:"), stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        def command(count):
            sender.stdin.write(f"send {count}\n")
            sender.stdin.flush()
            return sender.stdout.readline().strip()

        assert command(3) == "ok 3"
        repo.wait_for(lambda ms: len(ms) >= 3)
        repo.stop()
        answer = command(2)
        assert answer.startswith("failed 4: syslog repository") and "Connection refused" in answer, answer
        repo.start()
        assert command(2) == "ok 5"  # the failed record 4 first, on a new connection
        received = repo.wait_for(lambda ms: len(ms) >= 5)
        ids = [parse_syslog(m)["sd"]["plexus@32473"]["id"] for m in received]
        assert sorted(ids) == [f"outage:{n}" for n in range(1, 6)]  # each once: nothing lost, nothing twice
    finally:
        sender.stdin.close()
        sender.wait(timeout=10)
        repo.stop()


def test_plugin_sends_every_event_to_rsyslog_through_an_outage(tmp_path, pki):
    repo = Rsyslog(tmp_path / "rsyslog", pki)
    repo.start()
    p = Plexus(tmp_path / "plexus", DOMAIN)
    p.add_mailbox(MARTIN, "PER", "810000000001", "martin-password")
    p.add_mailbox(DURAND, "PER", "810000000002", "durand-password")
    p.write_whitelist([(DOMAIN, p.server_dn())])
    add_plugin(p, PLUGIN, audit_source_id=SOURCE, transports="tls, udp", tls_host="127.0.0.1",
               tls_port=repo.tls_port, tls_server_name="localhost", tls_ca_file=pki.ca, tls_cert_file=pki.client_cert,
               tls_key_file=pki.client_key, tls_timeout_ms=2000, udp_host="127.0.0.1", udp_port=repo.udp_port,
               udp_max_message_bytes=65507)
    p.start()
    try:
        def ids_over(input):
            return [parse_syslog(m)["sd"]["plexus@32473"]["id"] for m in repo.messages(input)]

        traffic(p, "Dossiers")
        assert wait_for(lambda: audited_ids(p) and set(ids_over("imtcp")) >= set(audited_ids(p)), timeout=30)
        expected = audited_ids(p)
        assert wait_for(lambda: set(ids_over("imudp")) >= set(expected), timeout=30)  # UDP too, its own consumer
        repo.stop()
        traffic(p, "Archives")  # the repository is down: the events wait
        repo.start()
        assert wait_for(lambda: set(ids_over("imtcp")) >= set(audited_ids(p)), timeout=60), p.log_text()
        tls = [parse_syslog(m) for m in repo.messages("imtcp")]
        ids = [m["sd"]["plexus@32473"]["id"] for m in tls]
        assert len(ids) == len(set(ids)), "each event once"
        assert len(set(ids) - set(expected)) >= 5  # the second traffic's events came after the outage
        xml_lines = tmp_path / "received.xml"
        xml_lines.write_text("".join(m["msg"] + "\n" for m in tls))
        validate(xml_lines)
        assert {(m["msgid"], m["hostname"]) for m in tls} == {("IHE+RFC-3881", SOURCE)}
        assert {m["pri"] for m in tls} == {85, 84}  # authpriv: notice for successes, warning for the failed login
    finally:
        p.stop()
        repo.stop()
