"""Mail between two operators of the trust space, as plexusd runs its outbound
queue: two instances (alpha.test, beta.test), each with its own development
PKI, trusting the other's CA, listed with their certificate DNs in one
whitelist, with static routes to each other's MX. Relay both ways over mutual
TLS, a peer down across a crash of the sender, a route changed on SIGHUP to a
peer whose DN is not the listed one, expiry with delay and failure reports,
success reports, and the queue's gauges."""
import email
import email.policy
import json
import re
import signal
import sqlite3
import time
from email.message import EmailMessage
from email.policy import SMTP

import pytest

from plexus_harness import Plexus, eventually, join_trust_space, unused_port

ALPHA, BETA = "alpha.test", "beta.test"
GAMMA = "gamma.test"  # listed in the whitelist, routed to a port where nobody listens
ANNE = f"dr.anne@{ALPHA}"
BRUNO = f"dr.bruno@{BETA}"
BEA = f"dr.bea@{BETA}"
GASTON = f"dr.gaston@{GAMMA}"
PASSWORD = "relay-password"
# Retries within a second, so that a peer coming back is seen at once; short client timeouts.
RELAY = {"first_retry_seconds": "0.5", "max_retry_seconds": "1", "scan_seconds": "1",
         "connect_timeout_seconds": "5", "command_timeout_seconds": "10", "data_timeout_seconds": "10"}


@pytest.fixture(scope="module")
def operators(tmp_path_factory):
    root = tmp_path_factory.mktemp("relay-delivery")
    alpha, beta = Plexus(root, ALPHA), Plexus(root, BETA)
    alpha.add_mailbox(ANNE, "PER", "810000000201", PASSWORD)
    beta.add_mailbox(BRUNO, "PER", "810000000202", PASSWORD)
    beta.add_mailbox(BEA, "PER", "810000000203", PASSWORD)
    join_trust_space([alpha, beta], listed=[(GAMMA, "CN=mx.gamma.test,O=Gamma,C=FR")],
                     routes=[(GAMMA, f"127.0.0.1:{unused_port()}")])
    for p in (alpha, beta):
        for key, value in RELAY.items():
            p.set_config("relay", key, value)
        p.start()
    yield alpha, beta
    for p in (alpha, beta):
        p.stop()


def submit(p, sender, recipients, subject, headers=(), rcpt_options=None):
    """Submits on `p`'s submission port, with {recipient: [RCPT parameters]}; returns the queue id."""
    m = EmailMessage()
    m["From"] = sender
    m["To"] = ", ".join(recipients)
    m["Subject"] = subject
    m["Message-ID"] = f"<{time.time_ns()}@relay.test>"
    for name, value in headers:
        m[name] = value
    m.set_content("Compte rendu de consultation.\r\n")
    s = p.smtp()
    s.login(sender, PASSWORD)
    assert s.mail(sender)[0] == 250
    for address in recipients:
        code, text = s.rcpt(address, options=(rcpt_options or {}).get(address, []))
        assert code == 250, text
    code, text = s.data(m.as_bytes(policy=SMTP))
    s.quit()
    assert code == 250, text
    return re.search(rb"queued as (\w+)", text).group(1).decode()


def inbox(p, user, subject):
    """The INBOX messages of `user` whose subject contains `subject`, read over IMAP."""
    c = p.imap(user=user, password=PASSWORD)
    try:
        c.select("INBOX", readonly=True)
        _, found = c.search(None, "SUBJECT", f'"{subject}"')
        messages = []
        for number in found[0].split():
            _, parts = c.fetch(number, "(BODY.PEEK[])")
            messages.append(email.message_from_bytes(parts[0][1], policy=email.policy.default))
        return messages
    finally:
        c.logout()


def arrived(p, user, subject, timeout=20):
    messages = eventually(lambda: inbox(p, user, subject), timeout)
    assert messages, f"{subject!r} did not arrive for {user}:\n" + p.log_text()[-3000:]
    return messages


def events(p, type_):
    with sqlite3.connect(p.dir / "plexus.db") as db:
        return [json.loads(detail) for (detail,) in
                db.execute("SELECT detail FROM events WHERE type = ? ORDER BY id", (type_,))]


def queue_rows(p):
    r = p.ctl("queue", "list")
    assert r.returncode == 0, r.stderr
    return [line for line in r.stdout.splitlines()[1:-1]] if r.stdout != "the queue is empty\n" else []


def reload(p):
    """SIGHUP, and wait until plexusd has reloaded."""
    before = p.log_text().count("reloaded;")
    p.signal(signal.SIGHUP)
    assert eventually(lambda: p.log_text().count("reloaded;") > before, 10), p.log_text()[-2000:]


def test_mail_goes_both_ways_one_transaction_per_destination(operators):
    alpha, beta = operators
    headers = [("X-MSS-NIL", "Plexus-test 1.0"), ("X-MSS-INS", "O"), ("X-MSS-CODECDA", "11488-4,34117-2"),
               ("X-MSS-MES", "FIN"), ("Disposition-Notification-To", ANNE)]
    queue_id = submit(alpha, ANNE, [BRUNO, BEA], "compte rendu alpha", headers)
    for user in (BRUNO, BEA):
        [message] = arrived(beta, user, "compte rendu alpha")
        for name, value in headers:
            assert message[name] == value
        trace = [" ".join(field.split()) for field in message.get_all("Received")]
        # beta's MX on top (over TLS from alpha's relay client), alpha's submission below.
        assert f"from mail.{ALPHA}" in trace[0] and f"by mail.{BETA} (Plexus) with ESMTPS" in trace[0], trace
        assert f"by mail.{ALPHA} (Plexus) with ESMTPSA" in trace[1], trace
    # Both recipients in one transaction: one reply, with beta's queue id, for both.
    relayed = {e["recipient"]: e for e in events(alpha, "message.relayed") if e["queue_id"] == queue_id}
    assert set(relayed) == {BRUNO, BEA}
    assert relayed[BRUNO]["reply"] == relayed[BEA]["reply"]
    assert relayed[BRUNO]["reply"].startswith("250 2.0.0 Ok: queued as ")
    assert relayed[BRUNO]["remote_host"] == f"127.0.0.1 [127.0.0.1]:{beta.ports['mx']}"

    submit(beta, BRUNO, [ANNE], "reponse de beta")
    [reply] = arrived(alpha, ANNE, "reponse de beta")
    assert f"by mail.{ALPHA} (Plexus) with ESMTPS" in " ".join(reply.get_all("Received")[0].split())
    assert eventually(lambda: not queue_rows(alpha) and not queue_rows(beta))


def test_peer_down_is_queued_and_delivered_once_across_a_sender_crash(operators):
    alpha, beta = operators
    beta.stop()
    try:
        submit(alpha, ANNE, [BRUNO], "pendant la panne")
        waiting = eventually(lambda: [row for row in queue_rows(alpha) if "connection refused" in row])
        assert waiting and BETA in waiting[0], queue_rows(alpha)
        samples = eventually(lambda: (m := alpha.metrics()).get("plexus_queue_entries", 0) >= 1 and m)
        assert samples and samples["plexus_queue_recipients"] >= 1
        age = samples["plexus_queue_oldest_age_seconds"]
        assert eventually(lambda: alpha.metrics()["plexus_queue_oldest_age_seconds"] > age, 10)

        assert alpha.stop(signal.SIGKILL) == -signal.SIGKILL
        alpha.start()
        assert any(BETA in row for row in queue_rows(alpha)), "the entry survives the crash"
    finally:
        beta.start()
    [message] = arrived(beta, BRUNO, "pendant la panne")
    assert eventually(lambda: not queue_rows(alpha))
    assert eventually(lambda: alpha.metrics()["plexus_queue_entries"] == 0, 10)
    assert alpha.metrics()["plexus_queue_oldest_age_seconds"] == 0
    assert len(inbox(beta, BRUNO, "pendant la panne")) == 1, "delivered exactly once"


def test_a_route_changed_on_sighup_applies_and_the_peers_dn_is_checked(operators):
    alpha, beta = operators
    # gamma.test's mail now goes to beta's MX, whose certificate is not the one listed for gamma.
    assert alpha.ctl("route", "set", GAMMA, f"127.0.0.1:{beta.ports['mx']}").returncode == 0
    reload(alpha)
    try:
        submit(alpha, ANNE, [GASTON], "route changee")
        rows = eventually(lambda: [row for row in queue_rows(alpha) if f"is not listed for {GAMMA}" in row])
        assert rows, queue_rows(alpha)
        assert f"127.0.0.1 [127.0.0.1]:{beta.ports['mx']}: peer certificate" in rows[0]
    finally:
        assert alpha.ctl("route", "set", GAMMA, f"127.0.0.1:{unused_port()}").returncode == 0
        reload(alpha)
        for row in queue_rows(alpha):
            assert alpha.ctl("queue", "delete", row.split()[0]).returncode == 0
    assert not queue_rows(alpha)


def test_expiry_returns_a_failure_report_to_the_sender(operators):
    alpha, _ = operators
    # A lifetime of 3.6 s and a delay notice after 1.4 s, taken on SIGHUP, then the defaults again.
    alpha.set_config("relay", "lifetime_hours", "0.001")
    alpha.set_config("relay", "delay_notice_hours", "0.0004")
    reload(alpha)
    try:
        queue_id = submit(alpha, ANNE, [GASTON], "vers un operateur injoignable",
                          rcpt_options={GASTON: [f"ORCPT=rfc822;{GASTON}"]})
        # Anne's INBOX gets the reports only; their subjects carry the original one.
        reports = eventually(lambda: [m for m in inbox(alpha, ANNE, "vers un operateur injoignable")
                                      if "Undelivered" in m["Subject"]] and inbox(alpha, ANNE, "injoignable"), 30)
        assert reports, alpha.log_text()[-3000:]
    finally:
        alpha.set_config("relay", "lifetime_hours", "120")
        alpha.set_config("relay", "delay_notice_hours", "4")
        reload(alpha)
    [failure] = [m for m in reports if "Undelivered" in m["Subject"]]
    [delay] = [m for m in reports if "Delayed" in m["Subject"]]  # NOTIFY absent = FAILURE,DELAY
    assert failure.get_content_type() == "multipart/report"
    assert failure.get_param("report-type") == "delivery-status"
    assert failure["From"].addresses[0].addr_spec == f"MAILER-DAEMON@{ALPHA}"
    assert failure["To"].addresses[0].addr_spec == ANNE
    status = next(part for part in failure.walk() if part.get_content_type() == "message/delivery-status")
    text = status.as_string()
    assert re.search(r"^Action: failed", text, re.M), text
    assert re.search(r"^Status: 4\.4\.7", text, re.M), text
    assert re.search(rf"^Final-Recipient: rfc822;\s*{re.escape(GASTON)}", text, re.M), text
    assert "connection refused" in text
    assert queue_id in failure.as_string()
    assert "Action: delayed" in delay.as_string()
    assert eventually(lambda: not queue_rows(alpha))


def test_success_report_from_the_operator_that_delivers(operators):
    alpha, beta = operators
    submit(alpha, ANNE, [BRUNO, BEA], "avec accuse de remise",
           rcpt_options={BRUNO: ["NOTIFY=SUCCESS,FAILURE", f"ORCPT=rfc822;{BRUNO}"]})
    arrived(beta, BEA, "avec accuse de remise")
    # beta took the DSN request (RFC 3461): its report, relayed from <>, is the only one.
    [report] = arrived(alpha, ANNE, "Delivered: avec accuse de remise")
    assert eventually(lambda: not queue_rows(alpha) and not queue_rows(beta))
    assert len(inbox(alpha, ANNE, "avec accuse de remise")) == 1
    assert report.get_param("report-type") == "delivery-status"
    assert report["From"].addresses[0].addr_spec == f"MAILER-DAEMON@{BETA}"
    status = next(part for part in report.walk() if part.get_content_type() == "message/delivery-status")
    text = status.as_string()
    assert re.search(rf"^Reporting-MTA: dns;\s*mail\.{re.escape(BETA)}", text, re.M), text
    assert re.search(r"^Action: delivered", text, re.M), text
    assert re.search(r"^Status: 2\.0\.0", text, re.M), text
    assert re.search(rf"^Final-Recipient: rfc822;\s*{re.escape(BRUNO)}", text, re.M), text
    assert BEA not in text, "no notice was asked for her"
