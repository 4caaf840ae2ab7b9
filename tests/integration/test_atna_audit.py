"""The ATNA audit plugin in a running plexusd with its file transport: SMTP
delivery of an XDM package, IMAP logins (good and bad), SELECT, FETCH, CREATE
and the logouts each leave one AuditMessage in the audit file, valid against the
DICOM schema (tests/tools/atna-validate), with unique ids; with the file's
directory gone across a restart (an IMAP session open through it: its logout
is logged at shutdown), the events wait, raise the backlog alert, and all
arrive once it is back."""
import email.policy
import imaplib
import io
import os
import re
import shutil
import subprocess
import zipfile
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from pathlib import Path

import pytest

from plexus_harness import BUILD, Plexus
from rsyslog_fixture import Rsyslog, make_pki, parse_syslog
from test_plugins import add_plugin, db_rows, metrics, wait_for

DOMAIN = "hopital.mssante.test"
MARTIN = f"dr.martin@{DOMAIN}"
DURAND = f"ide.durand@{DOMAIN}"
SOURCE = "plexus-audit-test"
INS = "2770763220829^^^&1.2.250.1.213.1.4.8&ISO"
SHARED = Path(os.environ.get("PLEXUS_SHARED_DIR") or Path(__file__).resolve().parents[3] / "shared")
SCHEMA = SHARED / "schemas/atna/dicom2024d.xsd"
VALIDATE = BUILD / "tests/tools/atna-validate"
PLUGIN = BUILD / "plugins/atna-audit/plexus-atna-audit.so"
AUDITED = ("auth.login", "auth.logout", "message.received", "mailbox.select", "message.read", "mailbox.created")


def audited_plexus(root, **settings):
    p = Plexus(root, DOMAIN)
    p.add_mailbox(MARTIN, "PER", "810000000001", "martin-password")
    p.add_mailbox(DURAND, "PER", "810000000002", "durand-password")
    p.write_whitelist([(DOMAIN, p.server_dn())])
    p.audit_dir = p.dir / "audit"
    p.audit_dir.mkdir()
    add_plugin(p, PLUGIN, audit_source_id=SOURCE, enterprise_site_id="750000001",
               file_path=p.audit_dir / "audit.log", **settings)
    p.start()
    return p


@pytest.fixture(scope="module")
def p(tmp_path_factory):
    p = audited_plexus(tmp_path_factory.mktemp("atna"), alert_after_seconds=1, check_interval_ms=200)
    yield p
    p.stop()


def records(*files):
    """(unique id, xml) of every line of the audit files, in file order."""
    found = []
    for f in files:
        if f.exists():
            found += [tuple(line.split(" ", 1)) for line in f.read_text().splitlines() if line]
    return found


def validate(*files):
    for f in files:
        r = subprocess.run([str(VALIDATE), str(SCHEMA), str(f)], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        assert r.stdout.startswith("valid ")


def audited_ids(p):
    marks = ",".join("?" * len(AUDITED))
    return [f"{SOURCE}:{row[0]}" for row in db_rows(p, f"SELECT id FROM events WHERE type IN ({marks}) ORDER BY id", *AUDITED)]


def event_of(xml):
    code = re.search(r'<EventID [^>]*csd-code="(\d+)"', xml).group(1)
    action = re.search(r'EventActionCode="(\w)"', xml).group(1)
    outcome = re.search(r'EventOutcomeIndicator="(\d+)"', xml).group(1)
    return code, action, outcome


def event_types_of(xml):
    return re.findall(r'<EventTypeCode [^>]*csd-code="([^"]+)"', xml)


def xdm_message():
    sample = (SHARED / "data/xds-samples/SubmitObjectsRequest_ebrs30.xml").read_text()
    metadata = sample.replace("SELF-5^^^&amp;1.3.6.1.4.1.21367.2005.3.7&amp;ISO", INS.replace("&", "&amp;"))
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("README.TXT", "XDM")
        z.writestr("IHE_XDM/SUBSET01/METADATA.XML", metadata)
        z.writestr("IHE_XDM/SUBSET01/DOC0001.XML", "<ClinicalDocument/>")
    msg = MIMEMultipart()
    msg["From"], msg["To"], msg["Subject"] = MARTIN, DURAND, "Compte rendu"
    msg["Message-ID"] = f"<cr-1@{DOMAIN}>"
    msg.attach(MIMEText("Compte rendu joint.\r\n"))
    attachment = MIMEApplication(package.getvalue(), "zip")
    attachment.add_header("Content-Disposition", "attachment", filename="IHE_XDM.ZIP")
    msg.attach(attachment)
    return msg.as_bytes(policy=email.policy.SMTP)


def all_written(p, *files):
    """Once the failed login and the logouts of traffic() are logged (sessions log them
    after their last reply): every audited event in the files."""
    def written():
        failed = db_rows(p, "SELECT COUNT(*) FROM events WHERE type = 'auth.login' AND outcome = 'failure'")[0][0]
        logouts = db_rows(p, "SELECT COUNT(*) FROM events WHERE type = 'auth.logout'")[0][0]
        ids = audited_ids(p)
        return failed == p.failed_logins and logouts == p.logouts and {i for i, _ in records(*files)} >= set(ids) and ids
    return wait_for(written, timeout=30)


def traffic(p, folder):
    with p.smtp() as s:
        s.login(MARTIN, "martin-password")
        s.sendmail(MARTIN, [DURAND], xdm_message())
    c = p.imap(user=DURAND, password="durand-password")
    c.select("INBOX")
    c.fetch("1", "(BODY.PEEK[])")
    c.create(folder)
    c.logout()
    with pytest.raises(imaplib.IMAP4.error):
        p.imap(user=DURAND, password="wrong")
    p.failed_logins = getattr(p, "failed_logins", 0) + 1
    p.logouts = getattr(p, "logouts", 0) + 2  # the SMTP QUIT and the IMAP LOGOUT


def test_each_event_one_valid_audit_message_nothing_lost_across_an_outage_and_restart(p):
    log = p.audit_dir / "audit.log"
    traffic(p, "Dossiers")
    assert all_written(p, log), p.log_text()
    got = records(log)
    validate(log)
    ids = [i for i, _ in got]
    assert len(ids) == len(set(ids)), "no event twice"
    assert [int(i.split(":")[1]) for i in ids] == sorted(int(i.split(":")[1]) for i in ids), "in event order"

    events = [event_of(xml) for _, xml in got]
    assert ("110114", "E", "0") in events and ("110114", "E", "4") in events  # login, failed login
    assert ("110112", "E", "0") in events  # SELECT
    assert ("110103", "R", "0") in events  # FETCH
    assert ("110103", "C", "0") in events  # CREATE
    logins = [xml for _, xml in got if event_types_of(xml) == ["110122"]]
    logouts = [xml for _, xml in got if event_types_of(xml) == ["110123"]]
    assert len(logins) == 3 and len(logouts) == 2, got  # SMTP, IMAP and the failed IMAP login
    for xml in logouts:
        assert event_of(xml) == ("110114", "E", "0"), xml
        assert 'UserIsRequestor="true"' in xml and 'NetworkAccessPointID="127.0.0.1"' in xml, xml
    assert {re.search(r'UserID="([^"]+)" UserIsRequestor="true"', xml).group(1) for xml in logouts} == {MARTIN, DURAND}
    received = [xml for _, xml in got if event_of(xml) == ("110107", "C", "0")]
    assert len(received) == 1
    assert 'ParticipantObjectID="2770763220829^^^&amp;1.2.250.1.213.1.4.8&amp;ISO"' in received[0]
    assert f'ParticipantObjectID="&lt;cr-1@{DOMAIN}>"' in received[0]
    assert f'ParticipantObjectID="{DURAND}/INBOX"' in received[0]
    assert 'AlternativeUserID="810000000001"' in received[0]
    assert f'AuditSourceID="{SOURCE}"' in received[0]

    # The repository goes away while plexusd restarts and mail goes on; a session
    # open at the stop is logged out then.
    open_session = p.imap(user=MARTIN, password="martin-password")
    p.stop()
    open_session.shutdown()
    p.logouts += 1
    assert db_rows(p, "SELECT actor, detail FROM events WHERE type = 'auth.logout' ORDER BY id DESC LIMIT 1") == \
        [(MARTIN, '{"service":"imaps","reason":"shutdown"}')]
    old = p.dir / "audit.before"
    p.audit_dir.rename(old)
    p.start()
    traffic(p, "Archives")
    assert wait_for(lambda: metrics(p).get('plexus_plugin_atna_audit_file_backlog_alert') == 1, timeout=15), \
        p.log_text()
    backlog = metrics(p).get('plexus_plugin_event_backlog{plugin="atna-audit",consumer="file"}', 0)
    assert backlog > 0
    assert db_rows(p, "SELECT COUNT(*) FROM events WHERE type = 'plugin.atna-audit.backlog_alert'")[0][0] == 1
    p.audit_dir.mkdir()
    assert all_written(p, old / "audit.log", log), p.log_text()
    validate(log)
    after = [i for i, _ in records(log)]
    assert len(after) == len(set(after)) and not set(after) & {i for i, _ in records(old / "audit.log")}
    assert wait_for(lambda: metrics(p).get('plexus_plugin_atna_audit_file_backlog_alert') == 0, timeout=10)
    assert db_rows(p, "SELECT COUNT(*) FROM events WHERE type = 'plugin.atna-audit.backlog_recovered'")[0][0] == 1


def received_records(repo):
    """(unique id, xml, pri) of what a repository received, in arrival order."""
    return [(m["sd"]["plexus@32473"]["id"], m["msg"], m["pri"]) for m in map(parse_syslog, repo.messages())]


def test_syslog_repositories_down_during_traffic_get_every_event_in_order(tmp_path):
    pki = make_pki(tmp_path / "pki")
    tls_repo = Rsyslog(tmp_path / "tls-repository", pki)  # down for now
    udp_repo = Rsyslog(tmp_path / "udp-repository", pki)
    udp_repo.start()
    p = audited_plexus(tmp_path / "plexus", transports="file, tls, udp", tls_host="127.0.0.1",
                       tls_port=tls_repo.tls_port, tls_ca_file=pki.ca, tls_cert_file=pki.client_cert, tls_key_file=pki.client_key,
                       udp_host="127.0.0.1", udp_port=udp_repo.udp_port, udp_max_message_bytes=65000)
    try:
        traffic(p, "Dossiers")
        log = p.audit_dir / "audit.log"
        assert all_written(p, log), p.log_text()  # the file does not wait for the TLS repository
        assert not tls_repo.received.exists()
        tls_repo.start()
        expected = audited_ids(p)
        for repo in (tls_repo, udp_repo):
            repo.wait_for(lambda ms: {i for i, _, _ in received_records(repo)} >= set(expected), timeout=30)
        tls = received_records(tls_repo)
        ids = [i for i, _, _ in tls]
        assert len(ids) == len(set(ids)), "each record once"
        assert ids == sorted(ids, key=lambda i: int(i.split(":")[1])), "in event order"
        assert {pri for _, _, pri in tls} == {85, 84}  # authpriv.notice, authpriv.warning for the failed login
        copies = tmp_path / "received.log"
        for name, records_ in (("tls", tls), ("udp", received_records(udp_repo))):
            copies.write_text("".join(f"{i} {xml}\n" for i, xml, _ in records_))
            validate(copies)
        by_id = dict(records(log))
        assert all(by_id[i] == xml for i, xml, _ in tls), "the same message by every transport"
    finally:
        p.stop()
        tls_repo.stop()
        udp_repo.stop()
