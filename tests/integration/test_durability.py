"""Nothing acknowledged is lost: kill -9 under concurrent load, restart, and
every message that got its 250 is there; nothing half-written remains."""
import os
import smtplib
import signal
import sqlite3
import threading
import time

from conftest import DOMAIN

MARTIN = f"dr.martin@{DOMAIN}"
DURAND = f"ide.durand@{DOMAIN}"
BODY = ("z" * 98 + "\r\n") * 20


def sender(plexus, worker, acked, stop):
    n = 0
    while not stop.is_set():
        try:
            s = plexus.smtp()
            s.login(MARTIN, "martin-password")
            while not stop.is_set():
                subject = f"load-{worker}-{n}"
                n += 1
                s.sendmail(MARTIN, [DURAND], f"Subject: {subject}\r\n\r\n{BODY}".encode())
                acked.append(subject)
        except (OSError, smtplib.SMTPException):
            time.sleep(0.05)  # the server died under us: expected


def test_kill_9_under_load_loses_no_acknowledged_message(plexus):
    acked, stop = [], threading.Event()
    threads = [threading.Thread(target=sender, args=(plexus, i, acked, stop)) for i in range(8)]
    for t in threads:
        t.start()
    time.sleep(2.5)
    plexus.proc.send_signal(signal.SIGKILL)
    plexus.proc.wait()
    stop.set()
    for t in threads:
        t.join()
    plexus.proc = None
    plexus.log.close()
    assert len(acked) > 50, "too little load to prove anything"

    plexus.start()
    stored = {row.split()[-1] for row in plexus.messages(DURAND)}
    missing = [s for s in acked if s not in stored]
    assert not missing, f"{len(missing)} acknowledged messages lost, e.g. {missing[:5]}"

    # Every blob file is referenced by the index, and every indexed blob exists.
    db = sqlite3.connect(plexus.dir / "plexus.db")
    indexed = {row[0] for row in db.execute("SELECT path FROM blobs")}
    on_disk = {os.path.relpath(os.path.join(d, f), plexus.dir / "blobs")
               for d, _, files in os.walk(plexus.dir / "blobs") for f in files}
    assert indexed == on_disk


def test_sigterm_does_not_wait_for_a_client_stalled_mid_literal(plexus):
    c = plexus.imap(ssl=True, user=MARTIN, password="martin-password")
    c.send(b"a9 APPEND INBOX {100}\r\n")
    assert c.readline().startswith(b"+")
    before = len(plexus.messages(MARTIN))
    started = time.monotonic()
    assert plexus.stop(signal.SIGTERM) == 0
    assert time.monotonic() - started < 15  # a few seconds' grace, not the 30 min idle timeout
    plexus.start()
    assert len(plexus.messages(MARTIN)) == before  # the half-sent message left nothing


def test_sigterm_stops_cleanly(plexus):
    s = plexus.smtp()
    assert plexus.stop(signal.SIGTERM) == 0
    code, text = s.getreply()
    assert code == 421 and b"4.3.2" in text
    assert "stopped" in plexus.log_text()
