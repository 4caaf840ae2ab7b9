"""plexusctl queue list|show|retry|delete on the entries SMTP submission
writes for remote recipients (one per destination domain), read from and
written to the instance's store as a running plexusd leaves it."""
import re
import sqlite3
import time
from email.message import EmailMessage
from email.policy import SMTP

from conftest import DOMAIN, OTHER_DOMAIN, PEER_DOMAIN

MARTIN = f"dr.martin@{DOMAIN}"
DURAND = f"ide.durand@{DOMAIN}"
PEER_X = f"dr.x@{PEER_DOMAIN}"
PEER_Y = f"dr.y@{PEER_DOMAIN}"
OTHER_Z = f"dr.z@{OTHER_DOMAIN}"


def submit(p, recipients, subject):
    """Submits as dr.martin; recipients: [(address, RCPT options)]. Returns the queue id."""
    m = EmailMessage()
    m["From"] = MARTIN
    m["To"] = ", ".join(address for address, _ in recipients)
    m["Subject"] = subject
    m["Message-ID"] = f"<{time.time_ns()}@queue.test>"
    m.set_content("Compte rendu de consultation.\r\n")
    s = p.smtp()
    s.login(MARTIN, "martin-password")
    code, _ = s.mail(MARTIN, options=["RET=HDRS", "ENVID=QUEUE-TEST"])
    assert code == 250
    for address, options in recipients:
        code, text = s.rcpt(address, options=options)
        assert code == 250, text
    code, text = s.data(m.as_bytes(policy=SMTP))
    s.quit()
    assert code == 250, text
    return re.search(rb"queued as (\w+)", text).group(1).decode(), m["Message-ID"]


def ctl_ok(p, *args):
    r = p.ctl("queue", *args)
    assert r.returncode == 0, r.stderr
    return r.stdout


def entries(p):
    """{(queue id, domain): columns} of `plexusctl queue list`."""
    lines = ctl_ok(p, "list").splitlines()
    if lines == ["the queue is empty"]:
        return {}
    assert lines[0].split()[:9] == ["ID", "QUEUE", "ID", "AGE", "DOMAIN", "SENDER", "PENDING", "ATTEMPTS", "NEXT"]
    rows = {}
    for line in lines[1:-1]:
        words = line.split()
        rows[(words[1], words[3])] = {"id": words[0], "age": words[2], "sender": words[4], "pending": words[5],
                                      "attempts": int(words[6]), "rest": " ".join(words[7:])}
    assert re.fullmatch(r"\d+ entr(y|ies)", lines[-1])
    return rows


def blob_files(p, queue_id):
    """The blob file of a message: its name starts with the queue id."""
    return list((p.dir / "blobs" / queue_id[:2]).glob(queue_id + "*"))


def audit_events(p, type_):
    with sqlite3.connect(p.dir / "plexus.db") as db:
        return db.execute("SELECT actor, object FROM events WHERE type = ? ORDER BY id", (type_,)).fetchall()


def test_list_and_show_the_entries_of_a_submitted_message(plexus):
    queue_id, message_id = submit(plexus, [
        (PEER_X, ["NOTIFY=SUCCESS,FAILURE", f"ORCPT=rfc822;{PEER_X}"]),
        (PEER_Y, []),
        (OTHER_Z, ["NOTIFY=NEVER"]),
    ], "liste de la file")
    rows = entries(plexus)
    peer = rows[(queue_id, PEER_DOMAIN)]
    other = rows[(queue_id, OTHER_DOMAIN)]
    assert peer["sender"] == MARTIN and peer["pending"] == "2/2"
    assert other["pending"] == "1/1"
    assert re.fullmatch(r"\d+[smhd]", peer["age"])

    shown = ctl_ok(plexus, "show", peer["id"])
    fields = dict(re.findall(r"^(\w[\w -]*?)\s{2,}(.*)$", shown, re.M))
    assert fields["entry"] == peer["id"]
    assert fields["queue id"] == queue_id
    assert fields["message-id"] == message_id
    assert fields["sender"] == MARTIN and fields["domain"] == PEER_DOMAIN
    assert fields["envid"] == "QUEUE-TEST" and fields["ret"] == "HDRS"
    assert fields["state"] in ("queued", "delivering")
    assert re.fullmatch(r"\d+ bytes", fields["size"])
    assert "recipients (2 of 2 pending):" in shown
    assert re.search(rf"^  {re.escape(PEER_X)}  pending  NOTIFY=SUCCESS,FAILURE  ORCPT=rfc822;{re.escape(PEER_X)}$",
                     shown, re.M), shown
    assert re.search(rf"^  {re.escape(PEER_Y)}  pending$", shown, re.M), shown
    assert "NOTIFY=NEVER" in ctl_ok(plexus, "show", other["id"])


def test_retry_makes_an_entry_due_now_and_is_audited(plexus):
    queue_id, _ = submit(plexus, [(PEER_X, [])], "nouvel essai")
    entry = entries(plexus)[(queue_id, PEER_DOMAIN)]
    # As a runner would leave it after a failed attempt: due in an hour.
    with sqlite3.connect(plexus.dir / "plexus.db") as db:
        db.execute("UPDATE outbound SET next_attempt_ms = next_attempt_ms + 3600000 WHERE id = ?", (entry["id"],))
    assert entries(plexus)[(queue_id, PEER_DOMAIN)]["rest"].startswith("20")  # a date, not "now"

    out = ctl_ok(plexus, "retry", entry["id"])
    assert out == f"queue entry {entry['id']} to {PEER_DOMAIN} to be attempted now\n"
    assert entries(plexus)[(queue_id, PEER_DOMAIN)]["rest"].startswith("now")
    assert audit_events(plexus, "admin.queue.retried")[-1][1] == f"{entry['id']} {queue_id} {PEER_DOMAIN}"

    with sqlite3.connect(plexus.dir / "plexus.db") as db:
        db.execute("UPDATE outbound SET next_attempt_ms = next_attempt_ms + 3600000")
    out = ctl_ok(plexus, "retry", "--all")
    assert re.fullmatch(r"\d+ entr(y|ies) to be attempted now\n", out)
    assert all(row["rest"].startswith("now") for row in entries(plexus).values())

    r = plexus.ctl("queue", "retry", "999999")
    assert r.returncode == 1 and "no queue entry 999999" in r.stderr


def test_delete_drops_the_entry_and_releases_the_blob_when_nothing_else_holds_it(plexus):
    queue_id, _ = submit(plexus, [(PEER_X, []), (OTHER_Z, [])], "à supprimer")
    assert len(blob_files(plexus, queue_id)) == 1
    rows = entries(plexus)
    out = ctl_ok(plexus, "delete", rows[(queue_id, PEER_DOMAIN)]["id"])
    assert out.startswith(f"deleted queue entry {rows[(queue_id, PEER_DOMAIN)]['id']} to {PEER_DOMAIN}")
    assert (queue_id, PEER_DOMAIN) not in entries(plexus)
    assert len(blob_files(plexus, queue_id)) == 1, "the other domain's entry still holds it"

    ctl_ok(plexus, "delete", rows[(queue_id, OTHER_DOMAIN)]["id"])
    assert not any(key[0] == queue_id for key in entries(plexus))
    assert blob_files(plexus, queue_id) == []
    actor, obj = audit_events(plexus, "admin.queue.deleted")[-1]
    assert actor.startswith("plexusctl:") and obj == f"{rows[(queue_id, OTHER_DOMAIN)]['id']} {queue_id} {OTHER_DOMAIN}"

    r = plexus.ctl("queue", "delete", rows[(queue_id, OTHER_DOMAIN)]["id"])
    assert r.returncode == 1 and "no queue entry" in r.stderr


def test_delete_keeps_the_copy_of_a_local_recipient(plexus):
    queue_id, _ = submit(plexus, [(PEER_X, []), (DURAND, [])], "copie locale gardée")
    ctl_ok(plexus, "delete", entries(plexus)[(queue_id, PEER_DOMAIN)]["id"])
    assert len(blob_files(plexus, queue_id)) == 1
    uid = plexus.messages(DURAND)[-1].split()[0]
    assert b"copie locale" in plexus.message_bytes(DURAND, uid)


def test_usage_errors(plexus):
    for args, message in [(("show",), "missing ID"), (("show", "abc"), "ID must be a queue entry number"),
                          (("frobnicate",), "unknown queue action"), (("list", "--all"), "unknown option --all"),
                          (("retry", "1", "--all"), "an ID or --all, not both")]:
        r = plexus.ctl("queue", *args)
        assert r.returncode == 2 and message in r.stderr, (args, r.stderr)
    r = plexus.ctl("queue", "show", "999999")
    assert r.returncode == 1 and "no queue entry 999999" in r.stderr
