"""Bad input gets a precise SMTP error and leaves the server intact."""
import socket
import time

from conftest import DOMAIN
from plexus_harness import raw_session

MARTIN = f"dr.martin@{DOMAIN}"
DURAND = f"ide.durand@{DOMAIN}"


def authenticated_raw(p):
    s = raw_session("127.0.0.1", p.ports["submission"])
    s.reply()
    s.send("EHLO c\r\nSTARTTLS\r\n")
    s.reply()
    assert s.reply()[0] == 220
    s.starttls(p.tls_context())
    s.send("EHLO c\r\n")
    s.reply()
    import base64
    s.send("AUTH PLAIN " + base64.b64encode(f"\0{MARTIN}\0martin-password".encode()).decode() + "\r\n")
    assert s.reply()[0] == 235
    return s


def test_overlong_command_line(plexus):
    s = raw_session("127.0.0.1", plexus.ports["submission"])
    s.reply()
    s.send("EHLO " + "a" * 5000 + "\r\n")
    code, text, _ = s.reply()
    assert code == 500 and "5.5.2" in text
    s.send("NOOP\r\n")
    assert s.reply()[0] == 250
    s.close()


def test_bare_lf_command(plexus):
    s = raw_session("127.0.0.1", plexus.ports["submission"])
    s.reply()
    s.send("NOOP\n")
    code, text, _ = s.reply()
    assert code == 500 and "5.5.2" in text and "LF" in text
    s.close()


def test_unknown_command_and_bad_sequence(plexus):
    s = raw_session("127.0.0.1", plexus.ports["submission"])
    s.reply()
    s.send("FROB\r\n")
    code, text, _ = s.reply()
    assert code == 500 and "5.5.1" in text
    s.send("MAIL FROM:<x@y>\r\n")
    code, text, _ = s.reply()
    assert code == 503 and "5.5.1" in text  # no EHLO yet
    s.send("EHLO\r\n")
    code, text, _ = s.reply()
    assert code == 501 and "5.5.4" in text
    s.close()


def test_pipelined_garbage_is_cut_off(plexus):
    s = raw_session("127.0.0.1", plexus.ports["submission"])
    s.reply()
    s.send(b"".join(b"\x00\xff garbage %d\r\n" % i for i in range(30)))
    codes = []
    try:
        while True:
            codes.append(s.reply()[0])
    except (EOFError, ConnectionResetError):
        pass
    assert codes[:10] == [500] * 10 and codes[10] == 421 and len(codes) == 11
    assert plexus.smtp().noop()[0] == 250  # the server lives on


def test_bare_lf_in_data_is_refused(plexus):
    s = authenticated_raw(plexus)
    s.send(f"MAIL FROM:<{MARTIN}>\r\nRCPT TO:<{DURAND}>\r\nDATA\r\n")
    assert [s.reply()[0] for _ in range(3)] == [250, 250, 354]
    s.send("Subject: smuggle\r\n\r\nline\n.\nMAIL FROM:<evil@x>\r\nend\r\n.\r\n")
    code, text, _ = s.reply()
    assert code == 550 and "5.6.0" in text
    s.send("NOOP\r\n")
    assert s.reply()[0] == 250  # the smuggled MAIL FROM was never a command
    s.close()


def test_overlong_data_line_and_header(plexus):
    s = authenticated_raw(plexus)
    s.send(f"MAIL FROM:<{MARTIN}>\r\nRCPT TO:<{DURAND}>\r\nDATA\r\n")
    [s.reply() for _ in range(3)]
    s.send("Subject: long\r\n\r\n" + "x" * 1200 + "\r\n.\r\n")
    code, text, _ = s.reply()
    assert code == 500 and "5.5.2" in text and "998" in text
    s.send(f"MAIL FROM:<{MARTIN}>\r\nRCPT TO:<{DURAND}>\r\nDATA\r\n")
    [s.reply() for _ in range(3)]
    s.send("".join(f"X-Filler-{i}: {'y' * 900}\r\n" for i in range(400)) + "\r\nbody\r\n.\r\n")
    code, text, _ = s.reply()
    assert code == 552 and "5.3.4" in text and "header" in text
    s.close()


def test_data_without_recipients(plexus):
    s = authenticated_raw(plexus)
    s.send("DATA\r\n")
    assert s.reply()[0] == 503
    s.send(f"MAIL FROM:<{MARTIN}>\r\nDATA\r\n")
    assert s.reply()[0] == 250
    code, text, _ = s.reply()
    assert code == 554
    s.close()


def test_too_many_recipients(plexus):
    s = authenticated_raw(plexus)
    s.send(f"MAIL FROM:<{MARTIN}>\r\n" + f"RCPT TO:<{DURAND}>\r\n" * 501)
    assert s.reply()[0] == 250
    codes = [s.reply() for _ in range(501)]
    assert all(c[0] == 250 for c in codes[:500])
    assert codes[500][0] == 452 and "4.5.3" in codes[500][1]
    s.close()


def test_client_vanishing_mid_message_leaves_nothing(plexus):
    before = len(plexus.messages(DURAND))
    s = authenticated_raw(plexus)
    s.send(f"MAIL FROM:<{MARTIN}>\r\nRCPT TO:<{DURAND}>\r\nDATA\r\n")
    [s.reply() for _ in range(3)]
    s.send("Subject: half\r\n\r\n" + "partial line\r\n" * 1000)
    s.sock.shutdown(socket.SHUT_RDWR)
    s.close()
    time.sleep(0.5)
    assert len(plexus.messages(DURAND)) == before


def test_idle_timeout(plexus):
    s = raw_session("127.0.0.1", plexus.ports["submission"])
    s.reply()
    start = time.time()
    code, text, _ = s.reply()  # the server speaks first, after its idle limit
    assert code == 421 and "4.4.2" in text
    assert time.time() - start < 10


def test_session_time_limit(tmp_path):
    from plexus_harness import Plexus
    p = Plexus(tmp_path, "limite.mssante.test")
    p.set_config("limits", "session_time", "2")
    p.start()
    try:
        s = raw_session("127.0.0.1", p.ports["submission"])
        s.reply()
        start = time.time()
        while True:
            s.send("NOOP\r\n")
            code, text, _ = s.reply()
            if code != 250:
                break
            time.sleep(0.3)
        assert code == 421 and "4.4.2" in text and "time limit" in text
        assert 2 <= time.time() - start < 6
    finally:
        p.stop()
