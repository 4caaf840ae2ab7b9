"""IMAP IDLE (RFC 2177) at scale: idling sessions wait in the parker without a
thread of their own, are woken by deliveries, time out, and are told BYE when
the server stops."""
import re
import signal
import time
from pathlib import Path

import pytest

from conftest import DOMAIN
from test_http_cli import curl
from test_imap_access import Imap, message

MARTIN = f"dr.martin@{DOMAIN}"
DURAND = f"ide.durand@{DOMAIN}"
IDLE_TIMEOUT = 4


@pytest.fixture(scope="module")
def p(plexus):
    """conftest's instance with a short IMAP idle timeout (RFC 3501 §5.4 asks
    for 30 minutes; a test cannot wait that long)."""
    plexus.stop()
    plexus.set_config("limits", "imap_idle_timeout", str(IDLE_TIMEOUT))
    plexus.start()
    return plexus


def threads(p):
    return int(re.search(r"^Threads:\s+(\d+)", Path(f"/proc/{p.proc.pid}/status").read_text(), re.M).group(1))


def metric(p, name):
    code, text = curl(p, "/metrics")
    assert code == 200
    return float(re.search(rf"^{name} (\S+)$", text, re.M).group(1))


def wait_for(predicate, seconds=5):
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline
        time.sleep(0.05)


def idle(c):
    c.ok("SELECT INBOX")
    tag = c.send("IDLE")
    assert c.line().startswith("+ ")
    return tag


def test_idling_sessions_hold_no_thread_and_all_wake_on_a_delivery(p):
    sessions = [Imap(p, MARTIN) for _ in range(30)]
    wait_for(lambda: metric(p, "plexus_imap_sessions_parked") == 0)
    before = threads(p)
    tags = [idle(c) for c in sessions]
    wait_for(lambda: metric(p, "plexus_imap_sessions_parked") == 30)
    assert threads(p) <= before + 3, (before, threads(p))

    s = p.smtp()
    s.login(DURAND, "durand-password")
    s.sendmail(DURAND, [MARTIN], message("pour tous"))
    delivered = time.monotonic()
    s.quit()
    recent = []
    for c in sessions:
        assert re.fullmatch(r"\* \d+ EXISTS", c.line())
        recent.append(c.line())
    woke = time.monotonic() - delivered
    assert woke < 1.0, woke
    assert sorted(recent) == ["* 0 RECENT"] * 29 + ["* 1 RECENT"]  # RFC 3501 §2.3.2: one session
    print(f"30 parked sessions told of a delivery within {woke * 1000:.0f} ms")

    # Each went back to the parker after telling its client; DONE ends IDLE.
    wait_for(lambda: metric(p, "plexus_imap_sessions_parked") == 30)
    for c, tag in zip(sessions, tags):
        c.send_raw("DONE\r\n")
        status, lines = c.until(tag)
        assert status.startswith("OK"), status
        assert lines == []
        c.ok("NOOP")
        c.close()
    wait_for(lambda: metric(p, "plexus_imap_sessions_parked") == 0)


def test_a_parked_session_that_goes_away_is_dropped(p):
    c = Imap(p, MARTIN)
    idle(c)
    wait_for(lambda: metric(p, "plexus_imap_sessions_parked") == 1)
    c.sock.close()
    wait_for(lambda: metric(p, "plexus_imap_sessions_parked") == 0)
    Imap(p, MARTIN).close()  # the server is fine


def test_a_parked_session_times_out(p):
    c = Imap(p, MARTIN)
    idle(c)
    started = time.monotonic()
    assert c.line() == "* BYE Autologout; idle for too long"
    waited = time.monotonic() - started
    assert IDLE_TIMEOUT - 0.5 < waited < IDLE_TIMEOUT + 2.5, waited
    with pytest.raises((EOFError, ConnectionError)):
        c.line()


def test_stopping_tells_parked_sessions_bye(p):
    c = Imap(p, MARTIN)
    idle(c)
    wait_for(lambda: metric(p, "plexus_imap_sessions_parked") == 1)
    started = time.monotonic()
    p.proc.send_signal(signal.SIGTERM)
    assert c.line() == "* BYE Server shutting down"
    assert p.proc.wait(timeout=10) == 0
    assert time.monotonic() - started < 5
    p.proc = None
    p.log.close()
    p.start()
