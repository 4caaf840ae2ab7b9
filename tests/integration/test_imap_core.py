"""IMAP4rev1 (RFC 3501) and the extensions Plexus advertises, against a running
plexusd: python imaplib for the ordinary flows, raw sockets where the exact
bytes matter, curl as a third-party client."""
import base64
import imaplib
import re
import socket
import ssl
import subprocess
import time

import pytest

from conftest import DOMAIN

MARTIN = f"dr.martin@{DOMAIN}"
MARTIN_PW = "martin-password"
DURAND = f"ide.durand@{DOMAIN}"
DURAND_PW = "durand-password"
LABO = f"labo@{DOMAIN}"

BASE_CAPS = ("IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE NAMESPACE UNSELECT CHILDREN UIDPLUS MOVE ACL RIGHTS=texk "
             "QUOTA QUOTA=RES-STORAGE SPECIAL-USE CONDSTORE QRESYNC ESEARCH SORT THREAD=ORDEREDSUBJECT "
             "THREAD=REFERENCES").split()


# --- clients -----------------------------------------------------------------

_raw_sessions = []


@pytest.fixture(autouse=True)
def close_raw_sessions():
    """A session left in the middle of a literal would hold up the daemon's shutdown."""
    yield
    while _raw_sessions:
        _raw_sessions.pop().close()


class RawImap:
    """A byte-exact IMAP client: sends lines, reads responses with their literals."""

    def __init__(self, plexus, tls=True, cert=None, key=None, timeout=10):
        self.plexus = plexus
        port = plexus.ports["imaps" if tls else "imap"]
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock = plexus.tls_context(cert, key).wrap_socket(sock) if tls else sock
        self.buf = b""
        self.n = 0
        _raw_sessions.append(self)
        self.greeting = self.line()

    def starttls(self):
        self.sock = self.plexus.tls_context().wrap_socket(self.sock)

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError(self.buf)
        self.buf += chunk

    def line(self):
        """One line without CRLF (bytes); a literal announced at its end is appended whole,
        then the line goes on."""
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        m = re.search(rb"\{(\d+)\}$", line)
        if m:
            size = int(m.group(1))
            while len(self.buf) < size:
                self._fill()
            line += b"\r\n" + self.buf[:size]
            self.buf = self.buf[size:]
            line += self.line()
        return line

    def until(self, tag):
        """Lines up to and including the tagged one: (untagged lines, tagged line)."""
        lines = []
        while True:
            line = self.line()
            if line.startswith(tag.encode() + b" "):
                return lines, line
            lines.append(line)

    def cmd(self, text):
        self.n += 1
        tag = f"r{self.n}"
        self.send(f"{tag} {text}\r\n")
        return self.until(tag)

    def login(self, user=MARTIN, password=MARTIN_PW):
        _, tagged = self.cmd(f'LOGIN "{user}" "{password}"')
        assert b" OK " in tagged, tagged
        return self

    def closed(self, timeout=5):
        """True when the server closed the connection (after what it still had to say)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                if not self.sock.recv(65536):
                    return True
        except (ConnectionResetError, ssl.SSLError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def login(p, user=MARTIN, password=MARTIN_PW):
    return p.imap(ssl=True, user=user, password=password)


def ok(result):
    typ, data = result
    assert typ == "OK", data
    return data


def untagged(c, name):
    return c.untagged_responses.get(name, [])


_folders = iter(range(1, 10000))


def new_folder(c, prefix="T"):
    name = f"{prefix}{next(_folders)}"
    ok(c.create(name))
    return name


def msg(subject="Test", body="Bonjour.\r\n", frm=f"Dr Martin <{MARTIN}>", to=f"<{DURAND}>", date=None,
        extra=""):
    date = date or "Mon, 3 Mar 2025 10:00:00 +0100"
    return (f"From: {frm}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: {date}\r\n{extra}"
            f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}").encode()


def appenduid(data):
    m = re.search(rb"\[APPENDUID (\d+) (\d+)\]", data[0])
    assert m, data
    return int(m.group(1)), int(m.group(2))


def flatten(data):
    """imaplib FETCH data of one message → its response bytes, literals inline."""
    out = b""
    for item in data:
        out += b"\r\n".join(item) if isinstance(item, tuple) else item
    return out


def seqs(line):
    """ "* SEARCH 1 2 3" data → [1, 2, 3]"""
    return [int(x) for x in line.split()]


# --- greeting, capabilities, TLS ---------------------------------------------------

def test_plaintext_port_requires_starttls(plexus):
    r = RawImap(plexus, tls=False)
    m = re.match(rb"^\* OK \[CAPABILITY ([^\]]*)\] ", r.greeting)
    assert m, r.greeting
    caps = m.group(1).decode().split()
    assert set(BASE_CAPS) <= set(caps) and "STARTTLS" in caps and "LOGINDISABLED" in caps
    assert not [c for c in caps if c.startswith("AUTH=")]
    lines, tagged = r.cmd("CAPABILITY")
    assert lines == [b"* CAPABILITY " + m.group(1)] and tagged == b"r1 OK CAPABILITY completed"
    _, tagged = r.cmd(f'LOGIN "{MARTIN}" "{MARTIN_PW}"')
    assert tagged.startswith(b"r2 NO [PRIVACYREQUIRED] ")
    _, tagged = r.cmd("AUTHENTICATE PLAIN " + base64.b64encode(f"\0{MARTIN}\0{MARTIN_PW}".encode()).decode())
    assert tagged.startswith(b"r3 NO [PRIVACYREQUIRED] ")
    _, tagged = r.cmd("SELECT INBOX")
    assert tagged.startswith(b"r4 BAD ")
    _, tagged = r.cmd("STARTTLS")
    assert tagged.startswith(b"r5 OK ")
    r.starttls()
    lines, tagged = r.cmd("CAPABILITY")
    caps = lines[0].decode().split()[2:]
    assert set(BASE_CAPS) <= set(caps)
    assert "STARTTLS" not in caps and "LOGINDISABLED" not in caps
    assert {"AUTH=PLAIN", "AUTH=XOAUTH2", "AUTH=OAUTHBEARER"} <= set(caps) and "AUTH=EXTERNAL" not in caps
    _, tagged = r.cmd("STARTTLS")
    assert tagged.startswith(b"r7 BAD ")
    r.login()
    _, tagged = r.cmd("LOGOUT")
    assert tagged == b"r9 OK LOGOUT completed"
    r.close()


def test_starttls_with_imaplib(plexus):
    c = plexus.imap(ssl="starttls")
    assert "AUTH=PLAIN" in c.capabilities and "STARTTLS" not in c.capabilities
    typ, data = c.login(MARTIN, MARTIN_PW)
    assert typ == "OK" and data[0].startswith(b"[CAPABILITY IMAP4rev1 ")
    ok(c.select("INBOX"))
    c.logout()


def test_implicit_tls_and_capabilities_after_login(plexus):
    c = plexus.imap(ssl=True)
    caps = set(c.capabilities)  # imaplib upper-cases them
    assert {cap.upper() for cap in BASE_CAPS} <= caps and "STARTTLS" not in caps and "LOGINDISABLED" not in caps
    assert {"AUTH=PLAIN", "AUTH=XOAUTH2", "AUTH=OAUTHBEARER"} <= caps
    ok(c.login(MARTIN, MARTIN_PW))
    typ, data = c.capability()
    after = data[0].decode().split()
    assert typ == "OK" and set(after) == set(BASE_CAPS) and len(after) == len(BASE_CAPS)
    c.logout()


# --- authentication ----------------------------------------------------------------

def test_login_good_and_bad_password(plexus):
    r = RawImap(plexus)
    _, tagged = r.cmd(f'LOGIN "{MARTIN}" "wrong-password"')
    assert tagged == b"r1 NO [AUTHENTICATIONFAILED] Authentication failed"
    _, tagged = r.cmd(f'LOGIN "{MARTIN}" "{MARTIN_PW}"')
    assert tagged.startswith(b"r2 OK [CAPABILITY IMAP4rev1 ") and tagged.endswith(b"] Logged in")
    _, tagged = r.cmd(f'LOGIN "{MARTIN}" "{MARTIN_PW}"')
    assert tagged.startswith(b"r3 BAD ")  # already authenticated
    r.close()
    c = plexus.imap()
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        c.login(DURAND, MARTIN_PW)
    c.logout()


def test_authenticate_plain(plexus):
    creds = base64.b64encode(f"\0{DURAND}\0{DURAND_PW}".encode()).decode()
    # SASL-IR (RFC 4959)
    r = RawImap(plexus)
    _, tagged = r.cmd("AUTHENTICATE PLAIN " + creds)
    assert tagged.startswith(b"r1 OK [CAPABILITY ")
    r.close()
    # Without initial response: an empty challenge first
    r = RawImap(plexus)
    r.send("a1 AUTHENTICATE PLAIN\r\n")
    assert r.line() == b"+ "
    r.send(creds + "\r\n")
    _, tagged = r.until("a1")
    assert tagged.startswith(b"a1 OK ")
    r.close()
    # Cancelled exchange
    r = RawImap(plexus)
    r.send("a1 AUTHENTICATE PLAIN\r\n")
    assert r.line() == b"+ "
    r.send("*\r\n")
    _, tagged = r.until("a1")
    assert tagged.startswith(b"a1 BAD ")
    # Bad password through PLAIN, then an unknown mechanism
    _, tagged = r.cmd("AUTHENTICATE PLAIN " + base64.b64encode(f"\0{DURAND}\0nope".encode()).decode())
    assert tagged.startswith(b"r1 NO [AUTHENTICATIONFAILED]")
    _, tagged = r.cmd("AUTHENTICATE CRAM-MD5")
    assert tagged.startswith(b"r2 NO ")
    r.close()
    # imaplib's own AUTHENTICATE (no SASL-IR)
    c = plexus.imap()
    ok(c.authenticate("PLAIN", lambda _: f"\0{DURAND}\0{DURAND_PW}".encode()))
    assert c.state == "AUTH"
    c.logout()


def test_authenticate_xoauth2_token(plexus):
    token = plexus.token("810000000001")
    ir = base64.b64encode(f"user={MARTIN}\x01auth=Bearer {token}\x01\x01".encode()).decode()
    r = RawImap(plexus)
    _, tagged = r.cmd("AUTHENTICATE XOAUTH2 " + ir)
    assert tagged.startswith(b"r1 OK ")
    lines, tagged = r.cmd("SELECT INBOX")
    assert tagged.startswith(b"r2 OK [READ-WRITE]")
    r.close()
    # A token for another person is refused
    bad = base64.b64encode(f"user={MARTIN}\x01auth=Bearer {plexus.token('810000000002')}\x01\x01".encode()).decode()
    r = RawImap(plexus)
    r.send("a1 AUTHENTICATE XOAUTH2 " + bad + "\r\n")
    line = r.line()
    if line.startswith(b"+ "):  # error challenge: acknowledge it
        r.send("\r\n")
        line = r.until("a1")[1]
    assert line.startswith(b"a1 NO [AUTHENTICATIONFAILED]"), line
    r.close()


def test_authenticate_external_with_client_certificate(plexus):
    cert, key, _ = plexus.app_cert
    r = RawImap(plexus, cert=cert, key=key)
    assert b"AUTH=EXTERNAL" in r.greeting
    _, tagged = r.cmd("AUTHENTICATE EXTERNAL =")
    assert tagged.startswith(b"r1 OK "), tagged
    lines, tagged = r.cmd("SELECT INBOX")
    assert tagged.startswith(b"r2 OK ")
    r.close()
    # Another identity than the certificate's is refused
    r = RawImap(plexus, cert=cert, key=key)
    _, tagged = r.cmd("AUTHENTICATE EXTERNAL " + base64.b64encode(MARTIN.encode()).decode())
    assert tagged.startswith(b"r1 NO ")
    r.close()
    # No certificate, no EXTERNAL
    r = RawImap(plexus)
    assert b"AUTH=EXTERNAL" not in r.greeting
    _, tagged = r.cmd("AUTHENTICATE EXTERNAL =")
    assert tagged.startswith(b"r1 NO ")
    r.close()


# --- SELECT / EXAMINE --------------------------------------------------------------

def test_select_and_examine_responses(plexus):
    c = login(plexus)
    folder = new_folder(c)
    uidvalidity, _ = appenduid(ok(c.append(folder, r"(\Seen)", None, msg("one"))))
    ok(c.append(folder, None, None, msg("two")))
    c.logout()

    r = RawImap(plexus).login()
    lines, tagged = r.cmd(f"SELECT {folder}")
    assert tagged == b"r2 OK [READ-WRITE] SELECT completed"
    assert lines[0] == rb"* FLAGS (\Answered \Flagged \Deleted \Seen \Draft)"
    assert lines[1].startswith(rb"* OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \*)] ")
    assert b"* 2 EXISTS" in lines and b"* 2 RECENT" in lines
    assert any(l.startswith(b"* OK [UNSEEN 2] ") for l in lines)
    assert any(l.startswith(b"* OK [UIDVALIDITY %d] " % uidvalidity) for l in lines)
    assert any(l.startswith(b"* OK [UIDNEXT 3] ") for l in lines)
    assert any(re.match(rb"^\* OK \[HIGHESTMODSEQ \d+\] ", l) for l in lines)
    assert len(lines) == 8, lines
    # \Recent belongs to the first session that saw the messages
    r2 = RawImap(plexus).login()
    lines, tagged = r2.cmd(f"EXAMINE {folder}")
    assert tagged == b"r2 OK [READ-ONLY] EXAMINE completed"
    assert b"* 0 RECENT" in lines and b"* 2 EXISTS" in lines
    assert any(l.startswith(b"* OK [PERMANENTFLAGS ()] ") for l in lines)
    _, tagged = r2.cmd(r"STORE 1 +FLAGS (\Flagged)")
    assert tagged.startswith(b"r3 NO ")
    _, tagged = r2.cmd("SELECT NoSuchFolder")
    assert tagged.startswith(b"r4 NO ")
    _, tagged = r2.cmd("FETCH 1 FLAGS")  # a failed SELECT leaves no mailbox selected
    assert tagged.startswith(b"r5 BAD ")
    lines, _ = r.cmd("FETCH 1:* FLAGS")
    assert lines == [rb"* 1 FETCH (FLAGS (\Seen \Recent))", rb"* 2 FETCH (FLAGS (\Recent))"]
    r.close()
    r2.close()


# --- a message from SMTP, read back ------------------------------------------------

ATTACHMENT = base64.b64encode(b"%PDF-1.4 compte rendu " * 20).decode()
MULTIPART = (
    "Date: Mon, 3 Mar 2025 10:00:00 +0100\r\n"
    f"From: Dr Martin <{MARTIN}>\r\n"
    f"To: ide.durand@{DOMAIN}\r\n"
    f"Cc: \"Secr\u00e9tariat\" <secretariat@{DOMAIN}>\r\n"
    "Subject: =?UTF-8?Q?Compte_rendu_op=C3=A9ratoire?=\r\n"
    "Message-ID: <cr-42@hopital.mssante.test>\r\n"
    "In-Reply-To: <demande-41@hopital.mssante.test>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"XYZ\"\r\n"
    "\r\n"
    "Preamble.\r\n"
    "--XYZ\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "Bonjour,\r\n"
    "R=C3=A9sultats normaux.\r\n"
    "--XYZ\r\n"
    "Content-Type: application/pdf; name=\"cr.pdf\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "Content-Disposition: attachment; filename=\"cr.pdf\"\r\n"
    "\r\n"
    f"{ATTACHMENT}\r\n"
    "--XYZ--\r\n").encode()


@pytest.fixture(scope="module")
def delivered(plexus):
    """The multipart message, sent over submission to dr.martin: (client, seq, uid)."""
    c = login(plexus)
    ok(c.select("INBOX"))  # selected before the delivery: the new message is \Recent here
    s = plexus.smtp()
    s.login(MARTIN, MARTIN_PW)
    s.sendmail(MARTIN, [MARTIN], MULTIPART)
    s.quit()
    ok(c.noop())
    typ, data = c.uid("SEARCH", "HEADER", "Message-ID", "<cr-42@hopital.mssante.test>")
    assert typ == "OK" and len(data[0].split()) == 1, data
    uid = int(data[0])
    typ, data = c.search(None, "UID", str(uid))
    seq = int(data[0])
    yield c, seq, uid
    c.logout()


def test_smtp_message_read_back_byte_for_byte(plexus, delivered):
    c, seq, uid = delivered
    typ, data = c.uid("FETCH", str(uid), "(BODY.PEEK[] RFC822.SIZE FLAGS)")
    assert typ == "OK"
    (head, body), tail = data[0], data[1]
    head += tail
    stored = plexus.message_bytes(MARTIN, uid)
    assert body == stored
    assert body.endswith(MULTIPART) and body.startswith(b"Received: from client.test ")
    assert re.search(rb"RFC822\.SIZE %d\b" % len(body), head), head
    assert re.search(rb"\bUID %d\b" % uid, head)
    assert re.search(rb"FLAGS \(\\Recent\)", head), head  # PEEK left \Seen alone
    typ, data = c.fetch(str(seq), "(FLAGS)")
    assert b"\\Seen" not in data[0]
    # BODY[] sets \Seen, and the FETCH response says so
    typ, data = c.fetch(str(seq), "(BODY[])")
    assert data[0][1] == stored and rb"FLAGS (\Seen \Recent)" in data[1] + data[0][0], data
    typ, data = c.fetch(str(seq), "(FLAGS)")
    assert data[0] == b"%d (FLAGS (\\Seen \\Recent))" % seq
    ok(c.store(str(seq), "-FLAGS.SILENT", r"(\Seen)"))


def test_fetch_internaldate_envelope_bodystructure(plexus, delivered):
    c, seq, uid = delivered
    typ, data = c.fetch(str(seq), "(INTERNALDATE ENVELOPE)")
    assert typ == "OK"
    line = flatten(data)
    assert re.search(rb'INTERNALDATE "[ \d]\d-(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-\d{4} '
                     rb'\d\d:\d\d:\d\d [+-]\d{4}"', line), line
    envelope = (
        b'ENVELOPE ("Mon, 3 Mar 2025 10:00:00 +0100" "=?UTF-8?Q?Compte_rendu_op=C3=A9ratoire?=" '
        b'(("Dr Martin" NIL "dr.martin" "hopital.mssante.test")) '
        b'(("Dr Martin" NIL "dr.martin" "hopital.mssante.test")) '
        b'(("Dr Martin" NIL "dr.martin" "hopital.mssante.test")) '
        b'((NIL NIL "ide.durand" "hopital.mssante.test")) '
    )
    assert envelope in line, line
    assert line.endswith(b'"hopital.mssante.test")) NIL "<demande-41@hopital.mssante.test>" '
                         b'"<cr-42@hopital.mssante.test>"))'), line
    # The Cc display name is 8-bit UTF-8: a literal, not a quoted string
    assert '(({%d}\r\nSecrétariat NIL "secretariat" "hopital.mssante.test"))'.encode() % len("Secrétariat".encode()) \
        in line, line

    typ, data = c.fetch(str(seq), "(BODYSTRUCTURE)")
    text_body = b"Bonjour,\r\nR=C3=A9sultats normaux."
    expected = (
        b'BODYSTRUCTURE (("TEXT" "PLAIN" ("charset" "utf-8") NIL NIL "QUOTED-PRINTABLE" %d 2 NIL NIL NIL NIL)'
        b'("APPLICATION" "PDF" ("name" "cr.pdf") NIL NIL "BASE64" %d NIL ("attachment" ("filename" "cr.pdf")) NIL NIL) '
        b'"MIXED" ("boundary" "XYZ") NIL NIL NIL)' % (len(text_body), len(ATTACHMENT))
    )
    assert data == [b"%d (" % seq + expected + b")"], data
    typ, data = c.fetch(str(seq), "(BODY)")
    assert data[0].endswith(
        b'(BODY (("TEXT" "PLAIN" ("charset" "utf-8") NIL NIL "QUOTED-PRINTABLE" %d 2)'
        b'("APPLICATION" "PDF" ("name" "cr.pdf") NIL NIL "BASE64" %d) "MIXED"))' % (len(text_body), len(ATTACHMENT))), data


def test_fetch_sections_and_partial(plexus, delivered):
    c, seq, uid = delivered
    stored = plexus.message_bytes(MARTIN, uid)
    s = str(seq)
    typ, data = c.fetch(s, "(BODY.PEEK[1])")
    assert data[0][0].endswith(b"BODY[1] {33}") and data[0][1] == b"Bonjour,\r\nR=C3=A9sultats normaux."
    typ, data = c.fetch(s, "(BODY.PEEK[2.MIME])")
    assert data[0][1] == (b'Content-Type: application/pdf; name="cr.pdf"\r\nContent-Transfer-Encoding: base64\r\n'
                          b'Content-Disposition: attachment; filename="cr.pdf"\r\n\r\n')
    typ, data = c.fetch(s, "(BODY.PEEK[2])")
    assert data[0][1] == ATTACHMENT.encode()
    typ, data = c.fetch(s, "(BODY.PEEK[HEADER.FIELDS (Subject From)])")
    assert b"BODY[HEADER.FIELDS (Subject From)] {" in data[0][0]
    assert data[0][1] == (f"From: Dr Martin <{MARTIN}>\r\n"
                          "Subject: =?UTF-8?Q?Compte_rendu_op=C3=A9ratoire?=\r\n\r\n").encode()
    typ, data = c.fetch(s, "(BODY.PEEK[HEADER.FIELDS.NOT (Received)])")
    assert data[0][1] == MULTIPART[:MULTIPART.index(b"\r\n\r\n") + 4]
    typ, data = c.fetch(s, "(BODY.PEEK[]<0.10>)")
    assert data[0][0].endswith(b"BODY[]<0> {10}") and data[0][1] == stored[:10]
    typ, data = c.fetch(s, "(BODY.PEEK[TEXT]<5.12>)")
    body = stored[stored.index(b"\r\n\r\n") + 4:]
    assert data[0][0].endswith(b"BODY[TEXT]<5> {12}") and data[0][1] == body[5:17]
    typ, data = c.fetch(s, "(BODY.PEEK[]<%d.100>)" % (len(stored) - 3))
    assert data[0][1] == stored[-3:]
    typ, data = c.fetch(s, "(BODY.PEEK[3])")  # no such part: empty
    assert re.search(rb'BODY\[3\] (\{0\}\r\n|""|NIL)\)$', flatten(data)), data
    typ, data = c.fetch(s, "(RFC822.HEADER)")
    assert data[0][1] == stored[:stored.index(b"\r\n\r\n") + 4]
    typ, data = c.fetch(s, "(FLAGS)")
    assert b"\\Seen" not in data[0]  # only PEEK and RFC822.HEADER so far


def test_fetch_ranges_and_uid_fetch(plexus):
    c = login(plexus)
    folder = new_folder(c)
    for i in range(5):
        ok(c.append(folder, None, None, msg(f"range {i}")))
    ok(c.select(folder))
    typ, data = c.fetch("1:*", "(UID)")
    assert data == [b"%d (UID %d)" % (i, i) for i in range(1, 6)]
    typ, data = c.fetch("*", "(UID)")
    assert data == [b"5 (UID 5)"]
    typ, data = c.fetch("4:2,5", "(UID)")
    assert data == [b"2 (UID 2)", b"3 (UID 3)", b"4 (UID 4)", b"5 (UID 5)"]
    typ, data = c.fetch("*:4", "FAST")
    assert len(data) == 2 and re.match(rb'^4 \(FLAGS \(\\Recent\) INTERNALDATE "[^"]+" RFC822.SIZE \d+\)$', data[0]), data
    typ, data = c.uid("FETCH", "2:3", "(FLAGS)")
    assert data == [b"2 (UID 2 FLAGS (\\Recent))", b"3 (UID 3 FLAGS (\\Recent))"]
    typ, data = c.uid("FETCH", "4,99", "(UID FLAGS)")  # unknown UIDs are ignored
    assert typ == "OK" and data == [b"4 (UID 4 FLAGS (\\Recent))"]
    typ, data = c.uid("FETCH", "99:*", "(UID)")  # "*" is the largest UID: 5
    assert data == [b"5 (UID 5)"]
    typ, data = c.uid("FETCH", "90:95", "(UID)")
    assert typ == "OK" and data == [None]
    c.logout()


# --- APPEND ----------------------------------------------------------------------

def test_append_with_flags_and_date(plexus):
    c = login(plexus)
    folder = new_folder(c)
    m = msg("dated")
    typ, data = c.append(folder, r"(\Flagged $Urgent)", '"05-Mar-2025 10:11:12 +0100"', m)
    uidvalidity, uid = appenduid(ok((typ, data)))
    assert uid == 1
    typ, data = c.status(folder, "(UIDVALIDITY UIDNEXT MESSAGES)")
    assert data[0] == f'"{folder}" (UIDVALIDITY {uidvalidity} UIDNEXT 2 MESSAGES 1)'.encode()
    ok(c.select(folder))
    typ, data = c.fetch("1", "(FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])")
    head = data[0][0]
    assert re.search(rb"FLAGS \(([^)]*)\)", head).group(1).split() == [b"\\Flagged", b"$Urgent", b"\\Recent"]
    assert b'INTERNALDATE " 5-Mar-2025 09:11:12 +0000"' in head
    assert b"RFC822.SIZE %d" % len(m) in head and data[0][1] == m
    # keywords appear in FLAGS and PERMANENTFLAGS on the next SELECT
    ok(c.select(folder))
    assert b"$Urgent" in untagged(c, "FLAGS")[-1]
    c.logout()


def test_append_large_message_streamed(plexus):
    c = login(plexus)
    folder = new_folder(c)
    lines = "".join(f"Ligne {i:06d}: r\u00e9sultat {i * 7919 % 100003}\r\n" for i in range(6000))
    m = msg("big", body=lines)
    assert len(m) > 64 * 1024 * 2
    _, uid = appenduid(ok(c.append(folder, None, None, m)))
    ok(c.select(folder, readonly=True))
    typ, data = c.uid("FETCH", str(uid), "(RFC822.SIZE BODY.PEEK[])")
    assert data[0][1] == m and b"RFC822.SIZE %d" % len(m) in data[0][0]
    c.logout()


def test_append_refusals(plexus):
    c = login(plexus)
    typ, data = c.append("NoSuchFolder", None, None, msg())
    assert typ == "NO" and data[0].startswith(b"[TRYCREATE]")
    c.logout()
    r = RawImap(plexus).login()
    # a synchronizing literal over the size limit is refused before its bytes
    r.send("a1 APPEND INBOX {60000000}\r\n")
    line = r.line()
    assert line.startswith(b"a1 NO [TOOBIG]"), line
    # a small literal to a missing folder: read (in memory), then refused
    r.send("a2 APPEND NoSuch {10}\r\n")
    line = r.line()
    if line.startswith(b"+ "):
        r.send("0123456789\r\n")
        line = r.until("a2")[1]
    assert line.startswith(b"a2 NO [TRYCREATE]"), line
    # empty message
    r.send("a3 APPEND INBOX {0}\r\n")
    line = r.line()
    if line.startswith(b"+"):
        r.send("\r\n")
        line = r.until("a3")[1]
    assert line.startswith(b"a3 NO ") or line.startswith(b"a3 BAD "), line
    _, tagged = r.cmd(r'APPEND INBOX (\Recent) "hello"')
    assert tagged.startswith(b"r2 BAD ")
    _, tagged = r.cmd('APPEND INBOX "31-Feb-2025 10:00:00 +0000" {5+}\r\nhello')
    assert tagged.startswith(b"r3 BAD ")
    _, tagged = r.cmd("NOOP")
    assert tagged == b"r4 OK NOOP completed"
    r.close()


def test_append_non_synchronizing_literals(plexus):
    c = login(plexus)
    folder = new_folder(c)
    c.logout()
    r = RawImap(plexus).login()
    small = msg("literal plus")
    big = msg("literal plus big", body="x" * 78 + "\r\n" * 1 + ("y" * 78 + "\r\n") * 1500)
    assert len(big) > 64 * 1024
    r.send(f"a1 APPEND {folder} (\\Seen) {{{len(small)}+}}\r\n".encode() + small + b"\r\n")
    r.send(f"a2 APPEND {folder} {{{len(big)}+}}\r\n".encode() + big + b"\r\n")
    r.send("a3 NOOP\r\n")
    lines, tagged = r.until("a1")
    assert tagged.startswith(b"a1 OK [APPENDUID ") and not any(l.startswith(b"+") for l in lines), lines
    lines, tagged = r.until("a2")
    assert tagged.startswith(b"a2 OK [APPENDUID "), tagged
    assert not any(l.startswith(b"+") for l in lines)
    _, tagged = r.until("a3")
    assert tagged == b"a3 OK NOOP completed"
    lines, _ = r.cmd(f"SELECT {folder}")
    lines, _ = r.cmd("FETCH 1:2 (FLAGS BODY.PEEK[])")
    assert lines[0] == b"* 1 FETCH (FLAGS (\\Seen \\Recent) BODY[] {%d}\r\n" % len(small) + small + b")"
    assert lines[1] == b"* 2 FETCH (FLAGS (\\Recent) BODY[] {%d}\r\n" % len(big) + big + b")"
    # a LITERAL+ message to a missing folder: refused, its bytes skipped, the session goes on
    r.send(f"a4 APPEND NoSuch {{{len(big)}+}}\r\n".encode() + big + b"\r\n")
    _, tagged = r.until("a4")
    assert tagged.startswith(b"a4 NO [TRYCREATE]")
    _, tagged = r.cmd("NOOP")
    assert tagged.endswith(b"OK NOOP completed")
    r.close()


# --- STORE -----------------------------------------------------------------------

def test_store_flags(plexus):
    c = login(plexus)
    folder = new_folder(c)
    for i in range(3):
        ok(c.append(folder, None, None, msg(f"flags {i}")))
    c.logout()
    r = RawImap(plexus).login()
    r.cmd(f"SELECT {folder}")
    lines, tagged = r.cmd(r"STORE 1 +FLAGS (\Flagged $Label1)")
    assert lines == [rb"* 1 FETCH (FLAGS (\Flagged $Label1 \Recent))"] and tagged == b"r3 OK STORE completed"
    lines, tagged = r.cmd(r"STORE 1:2 +FLAGS.SILENT (\Seen)")
    assert lines == [] and tagged.startswith(b"r4 OK ")
    lines, _ = r.cmd(r"STORE 1 -FLAGS ($Label1)")
    assert lines == [rb"* 1 FETCH (FLAGS (\Flagged \Seen \Recent))"] or \
        lines == [rb"* 1 FETCH (FLAGS (\Seen \Flagged \Recent))"], lines
    lines, _ = r.cmd(r"STORE 2 FLAGS (\Answered \Draft)")
    assert lines == [rb"* 2 FETCH (FLAGS (\Answered \Draft \Recent))"]
    lines, _ = r.cmd(r"UID STORE 3 +FLAGS \Deleted")
    assert lines == [rb"* 3 FETCH (UID 3 FLAGS (\Deleted \Recent))"]
    lines, _ = r.cmd(r"STORE 2 FLAGS.SILENT ()")
    assert lines == []
    lines, _ = r.cmd("FETCH 1:3 FLAGS")
    assert lines[1] == rb"* 2 FETCH (FLAGS (\Recent))"
    _, tagged = r.cmd(r"STORE 1 +FLAGS (\Recent)")
    assert tagged.startswith(b"r10 BAD ")
    _, tagged = r.cmd(r"STORE 1 +FLAGS (\Bogus)")
    assert tagged.startswith(b"r11 BAD ")
    _, tagged = r.cmd(r"STORE 1 +FLAGZ (\Seen)")
    assert tagged.startswith(b"r12 BAD ")
    # another session sees the change on its next command
    r2 = RawImap(plexus).login()
    r2.cmd(f"SELECT {folder}")
    r.cmd(r"STORE 2 +FLAGS.SILENT ($Reviewed)")
    lines, tagged = r2.cmd("NOOP")
    assert rb"* 2 FETCH (FLAGS ($Reviewed))" in lines, lines
    r.close()
    r2.close()


# --- SEARCH ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def search_box(plexus):
    c = login(plexus)
    folder = new_folder(c, "Search")
    m1 = msg("=?UTF-8?Q?R=C3=A9sultats_de_biologie?=", frm="Alice Dupont <alice@labo.test>",
             date="Sat, 25 Jan 2025 08:00:00 +0100",
             body="Glyc=C3=A9mie normale.\r\n", extra="Content-Transfer-Encoding: quoted-printable\r\n")
    m2 = msg("=?UTF-8?Q?Compte_rendu_op=C3=A9ratoire?=", frm="Bob <bob@chu.test>",
             date="Sun, 9 Feb 2025 23:30:00 -0500",
             body="Taux de cholest=C3=A9rol =C3=A9lev=C3=A9.\r\n" + ("Suite du compte rendu.\r\n" * 300),
             extra="X-MSS-Priority: urgent\r\nContent-Transfer-Encoding: quoted-printable\r\n")
    m3 = msg("Rendez-vous", frm="Alice Dupont <alice@labo.test>", date="Wed, 19 Feb 2025 09:00:00 +0100",
             body="Rendez-vous lundi.\r\n")
    ok(c.append(folder, r"(\Seen)", '"01-Feb-2025 12:00:00 +0000"', m1))
    ok(c.append(folder, None, '"10-Feb-2025 12:00:00 +0000"', m2))
    ok(c.append(folder, r"(\Flagged)", '"20-Feb-2025 12:00:00 +0000"', m3))
    ok(c.select(folder))
    yield c, (m1, m2, m3)
    c.logout()


@pytest.mark.parametrize("criteria,expected", [
    ("ALL", [1, 2, 3]),
    ("FLAGGED", [3]),
    ("UNSEEN", [2, 3]),
    ("SEEN UNFLAGGED", [1]),
    ("FROM alice", [1, 3]),
    ("FROM ALICE@LABO", [1, 3]),
    ("SUBJECT rendez", [3]),
    ('SUBJECT "compte rendu"', [2]),
    ("HEADER X-MSS-Priority urgent", [2]),
    ('HEADER X-MSS-Priority ""', [2]),
    ("BODY lundi", [3]),
    ("BODY alice", []),
    ("BODY holest", [2]),  # substrings, not words (RFC 3501 §6.4.4)
    ("BODY di", [3]),
    ("TEXT alice", [1, 3]),
    ("LARGER 5000", [2]),
    ("SMALLER 5000", [1, 3]),
    ("SINCE 10-Feb-2025", [2, 3]),
    ("BEFORE 10-Feb-2025", [1]),
    ("ON 10-Feb-2025", [2]),
    ("SENTON 9-Feb-2025", [2]),
    ("SENTSINCE 1-Feb-2025", [2, 3]),
    ("SENTBEFORE 1-Feb-2025", [1]),
    ("UID 2:*", [2, 3]),
    ("1,3", [1, 3]),
    ("2:*", [2, 3]),
    ("OR FROM bob FLAGGED", [2, 3]),
    ("NOT FROM alice", [2]),
    ("(FROM alice SEEN)", [1]),
    ("OR (FROM alice SEEN) LARGER 5000", [1, 2]),
    ("NOT (OR SEEN FLAGGED)", [2]),
    ("NEW", [2, 3]),
    ("KEYWORD $Nothing", []),
    ("UNKEYWORD $Nothing", [1, 2, 3]),
])
def test_search_keys(search_box, criteria, expected):
    c, _ = search_box
    typ, data = c.search(None, criteria)
    assert typ == "OK" and seqs(data[0]) == expected, (criteria, data)


def test_search_utf8_and_full_text(search_box):
    c, _ = search_box
    for needle, expected in [("résultats", [1]), ("RÉSULTATS", [1]), ("opératoire", [2])]:
        c.literal = needle.encode()
        typ, data = c.search("UTF-8", "SUBJECT")
        assert typ == "OK" and seqs(data[0]) == expected, (needle, data)
    for key, needle, expected in [("BODY", "cholestérol", [2]), ("TEXT", "glycémie", [1]), ("BODY", "élevé", [2]),
                                  ("TEXT", "Résultats", [1])]:
        c.literal = needle.encode()
        typ, data = c.search("UTF-8", key)
        assert typ == "OK" and seqs(data[0]) == expected, (key, needle, data)
    typ, data = c.uid("SEARCH", "FROM", "alice")
    assert seqs(data[0]) == [1, 3]


def test_search_esearch_and_errors(search_box):
    c, _ = search_box
    tag = c.tagpre + str(c.tagnum).encode()  # the tag of the next command
    typ, data = c._simple_command("SEARCH", "RETURN", "(MIN MAX COUNT ALL)", "FROM", "alice")
    assert typ == "OK" and untagged(c, "ESEARCH")[-1] == b'(TAG "%s") MIN 1 MAX 3 COUNT 2 ALL 1,3' % tag
    typ, data = c._simple_command("UID", "SEARCH", "RETURN", "(COUNT)", "ALL")
    assert typ == "OK" and c.untagged_responses["ESEARCH"][-1].endswith(b") UID COUNT 3")
    typ, data = c._simple_command("SEARCH", "RETURN", "()", "FLAGGED")
    assert c.untagged_responses["ESEARCH"][-1].endswith(b") ALL 3")
    typ, data = c._simple_command("SEARCH", "RETURN", "(MIN MAX COUNT)", "FROM", "nobody")
    assert c.untagged_responses["ESEARCH"][-1].endswith(b") COUNT 0")
    typ, data = c.search("KOI8-R", "FROM", "alice")
    assert typ == "NO" and data[0].startswith(b"[BADCHARSET"), data
    with pytest.raises(imaplib.IMAP4.error, match="BAD"):
        c.search(None, "FROB")
    with pytest.raises(imaplib.IMAP4.error, match="BAD"):
        c.search(None, "SINCE", "yesterday")
    with pytest.raises(imaplib.IMAP4.error, match="BAD"):
        c.search(None, "OR", "SEEN")


# --- COPY, MOVE, EXPUNGE ---------------------------------------------------------

def test_copy_move_expunge(plexus):
    c = login(plexus)
    src = new_folder(c)
    dst = new_folder(c)
    for i in range(6):
        ok(c.append(src, None, None, msg(f"move {i}")))
    typ, data = c.status(dst, "(UIDVALIDITY)")
    dst_validity = int(re.search(rb"UIDVALIDITY (\d+)", data[0]).group(1))
    c.logout()
    r = RawImap(plexus).login()
    r.cmd(f"SELECT {src}")
    lines, tagged = r.cmd(f"COPY 1:2 {dst}")
    assert lines == [] and tagged == b"r3 OK [COPYUID %d 1:2 1:2] COPY completed" % dst_validity
    lines, tagged = r.cmd(f"MOVE 3 {dst}")
    assert lines == [b"* OK [COPYUID %d 3 3] Moved" % dst_validity, b"* 3 EXPUNGE"], lines
    assert tagged == b"r4 OK MOVE completed"
    lines, tagged = r.cmd(f"UID MOVE 5:6 {dst}")  # UIDs 5 and 6 are now sequence numbers 4 and 5
    assert lines == [b"* OK [COPYUID %d 5:6 4:5] Moved" % dst_validity, b"* 4 EXPUNGE", b"* 4 EXPUNGE"], lines
    _, tagged = r.cmd("COPY 1 NoSuch")
    assert tagged.startswith(b"r6 NO [TRYCREATE]")
    # now UIDs 1 2 4 at sequence 1 2 3
    lines, _ = r.cmd(r"STORE 1:3 +FLAGS.SILENT (\Deleted)")
    lines, tagged = r.cmd("UID EXPUNGE 2:4")
    assert lines == [b"* 2 EXPUNGE", b"* 2 EXPUNGE"] and tagged.startswith(b"r8 OK "), lines
    lines, _ = r.cmd("FETCH 1:* (UID FLAGS)")
    assert lines == [rb"* 1 FETCH (UID 1 FLAGS (\Deleted \Recent))"]
    lines, tagged = r.cmd("EXPUNGE")
    assert lines == [b"* 1 EXPUNGE"] and tagged == b"r10 OK EXPUNGE completed"
    # UIDs are never reused
    r.send(f"a1 APPEND {src} {{5+}}\r\nhello\r\n")
    lines, tagged = r.until("a1")
    assert tagged.startswith(b"a1 OK [APPENDUID ") and b" 7] " in tagged, tagged
    assert b"* 1 EXISTS" in lines
    lines, _ = r.cmd(f"STATUS {dst} (MESSAGES UIDNEXT)")
    assert lines == [f'* STATUS "{dst}" (MESSAGES 5 UIDNEXT 6)'.encode()]
    # copies are \Recent for the first session to select the target (RFC 3501 §6.4.7)
    lines, _ = r.cmd(f"SELECT {dst}")
    assert b"* 5 EXISTS" in lines and b"* 5 RECENT" in lines, lines
    r.close()


def test_close_versus_unselect(plexus):
    c = login(plexus)
    folder = new_folder(c)
    for i in range(3):
        ok(c.append(folder, r"(\Deleted)" if i < 2 else None, None, msg(f"close {i}")))
    c.logout()
    r = RawImap(plexus).login()
    r.cmd(f"SELECT {folder}")
    lines, tagged = r.cmd("UNSELECT")
    assert lines == [] and tagged == b"r3 OK UNSELECT completed"
    _, tagged = r.cmd("FETCH 1 FLAGS")
    assert tagged.startswith(b"r4 BAD ")
    lines, _ = r.cmd(f"STATUS {folder} (MESSAGES)")
    assert lines == [f'* STATUS "{folder}" (MESSAGES 3)'.encode()]
    r.cmd(f"EXAMINE {folder}")
    lines, tagged = r.cmd("CLOSE")  # read-only: nothing expunged
    assert lines == [] and tagged.startswith(b"r7 OK ")
    lines, _ = r.cmd(f"STATUS {folder} (MESSAGES)")
    assert lines == [f'* STATUS "{folder}" (MESSAGES 3)'.encode()]
    r.cmd(f"SELECT {folder}")
    lines, tagged = r.cmd("CLOSE")
    assert lines == [] and tagged == b"r10 OK CLOSE completed"
    lines, _ = r.cmd(f"STATUS {folder} (MESSAGES UIDNEXT)")
    assert lines == [f'* STATUS "{folder}" (MESSAGES 1 UIDNEXT 4)'.encode()]
    _, tagged = r.cmd("CLOSE")
    assert tagged.startswith(b"r12 BAD ")
    r.close()


# --- SORT and THREAD ------------------------------------------------------------

@pytest.fixture(scope="module")
def thread_box(plexus):
    c = login(plexus)
    folder = new_folder(c, "Threads")
    specs = [
        ("Bilan", "Sat, 1 Mar 2025 10:00:00 +0000", "Zoe <zoe@x.test>", "<a@x.test>", ""),
        ("Re: Bilan", "Mon, 3 Mar 2025 10:00:00 +0000", "Anne <anne@x.test>", "<b@x.test>",
         "In-Reply-To: <a@x.test>\r\nReferences: <a@x.test>\r\n"),
        ("Autre sujet", "Sun, 2 Mar 2025 10:00:00 +0000", "Marc <marc@x.test>", "<c@x.test>", ""),
        ("RE: Bilan", "Tue, 4 Mar 2025 10:00:00 +0000", "Bruno <bruno@x.test>", "<d@x.test>",
         "In-Reply-To: <b@x.test>\r\nReferences: <a@x.test> <b@x.test>\r\n"),
        ("Fwd: Autre sujet", "Wed, 5 Mar 2025 10:00:00 +0000", "Anne <anne@x.test>", "<e@x.test>", ""),
    ]
    for i, (subject, date, frm, mid, extra) in enumerate(specs):  # arrival: 1 to 5 April, in order
        ok(c.append(folder, None, f'"0{i + 1}-Apr-2025 10:00:00 +0000"',
                    msg(subject, frm=frm, date=date, extra=f"Message-ID: {mid}\r\n{extra}")))
    ok(c.select(folder))
    yield c
    c.logout()


@pytest.mark.parametrize("criteria,expected", [
    ("(SUBJECT)", [3, 5, 1, 2, 4]),
    ("(REVERSE DATE)", [5, 4, 2, 3, 1]),
    ("(DATE)", [1, 3, 2, 4, 5]),
    ("(FROM)", [2, 5, 4, 3, 1]),
    ("(FROM REVERSE DATE)", [5, 2, 4, 3, 1]),
    ("(REVERSE ARRIVAL)", [5, 4, 3, 2, 1]),
])
def test_sort(thread_box, criteria, expected):
    c = thread_box
    typ, data = c.sort(criteria, "UTF-8", "ALL")
    assert typ == "OK" and seqs(data[0]) == expected, (criteria, data)


def test_sort_uid_and_thread(thread_box):
    c = thread_box
    typ, data = c.uid("SORT", "(REVERSE DATE)", "UTF-8", "NOT", "FROM", "anne")
    assert seqs(data[0]) == [4, 3, 1]
    typ, data = c.thread("REFERENCES", "UTF-8", "ALL")
    assert data[0] == b"(1 2 4)(3 5)", data
    typ, data = c.thread("ORDEREDSUBJECT", "UTF-8", "ALL")
    assert data[0] == b"(1 (2)(4))(3 5)", data  # a single child is not nested (RFC 5256 §4 thread-nested)
    typ, data = c.thread("REFERENCES", "UTF-8", "FROM", "anne")
    assert data[0] == b"(2)(5)", data
    typ, data = c.thread("REFERENCES", "UTF-8", "FROM", "nobody")
    assert typ == "OK"
    with pytest.raises(imaplib.IMAP4.error, match="BAD"):
        c.thread("NOSUCH", "UTF-8", "ALL")
    with pytest.raises(imaplib.IMAP4.error, match="BAD"):
        c.sort("(COLOUR)", "UTF-8", "ALL")


# --- curl ------------------------------------------------------------------------

def curl(plexus, url, *extra):
    r = subprocess.run(["curl", "-sS", "--ssl-reqd", "--cacert", str(plexus.ca), "--resolve",
                        f"mail.{DOMAIN}:{plexus.ports['imap']}:127.0.0.1", "--resolve",
                        f"mail.{DOMAIN}:{plexus.ports['imaps']}:127.0.0.1", "-u", f"{MARTIN}:{MARTIN_PW}",
                        *extra, url], capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_curl_fetch_and_list(plexus, delivered):
    _, _, uid = delivered
    body = curl(plexus, f"imaps://mail.{DOMAIN}:{plexus.ports['imaps']}/INBOX;UID={uid}")
    assert body == plexus.message_bytes(MARTIN, uid)
    listing = curl(plexus, f"imap://mail.{DOMAIN}:{plexus.ports['imap']}/")
    assert re.search(rb'^\* LIST \([^)]*\) "/" "?INBOX"?\r$', listing, re.M), listing
    # curl over plaintext without --ssl-reqd still cannot log in
    r = subprocess.run(["curl", "-sS", "-u", f"{MARTIN}:{MARTIN_PW}",
                        f"imap://127.0.0.1:{plexus.ports['imap']}/"], capture_output=True, timeout=30)
    assert r.returncode != 0


# --- bad input -------------------------------------------------------------------

def test_bad_syntax_keeps_the_session(plexus):
    r = RawImap(plexus).login()
    r.send("a1 FROBNICATE\r\n")
    assert r.line() == b"a1 BAD Unknown command FROBNICATE"
    r.send(" NOOP\r\n")
    assert r.line().startswith(b"* BAD ")
    r.send("\r\n")
    assert r.line().startswith(b"* BAD ")
    r.send("a2 SELECT (INBOX\r\n")
    assert r.line().startswith(b"a2 BAD ")
    r.send("a3 SELECT INBOX)\r\n")
    assert r.line().startswith(b"a3 BAD ")
    r.send('a4 SELECT "IN\r\nBOX"\r\n')
    assert r.line().startswith(b"a4 BAD ")
    r.line()  # the second line is a command of its own: BAD too
    r.send("a5 NOOP " + "x" * (70 * 1024) + "\r\n")
    assert r.line() == b"a5 BAD command line too long"
    r.send("a6 LOGIN {300000}\r\n")
    assert r.line().startswith(b"a6 BAD ")  # no continuation for an oversized literal
    r.send("a7 FETCH 1 FLAGS\r\n")
    assert r.line().startswith(b"a7 BAD ")  # not selected
    r.send("a8 NOOP\r\n")
    assert r.line() == b"a8 OK NOOP completed"
    lines, tagged = r.cmd("SELECT INBOX")
    exists = next(int(l.split()[1]) for l in lines if l.endswith(b" EXISTS"))
    _, tagged = r.cmd(f"FETCH {exists + 1} FLAGS")
    assert tagged.startswith(b"r3 BAD ")
    _, tagged = r.cmd(f"FETCH 1:{exists + 5} FLAGS")
    assert tagged.startswith(b"r4 BAD ")
    _, tagged = r.cmd("FETCH 0 FLAGS")
    assert tagged.startswith(b"r5 BAD ")
    _, tagged = r.cmd("FETCH 1 (FLAGS")
    assert tagged.startswith(b"r6 BAD ")
    _, tagged = r.cmd("FETCH 1 BODY[99999999999999999999]")
    assert tagged.startswith(b"r7 BAD ")
    _, tagged = r.cmd("UID FROB 1")
    assert tagged.startswith(b"r8 BAD ")
    _, tagged = r.cmd("LOGOUT")
    assert tagged.startswith(b"r9 OK ")
    r.close()


def test_too_many_bad_commands(plexus):
    r = RawImap(plexus)
    for i in range(19):
        r.send(f"b{i} BLAH\r\n")
        assert r.line().startswith(f"b{i} BAD ".encode())
    r.send("b19 BLAH\r\n")
    assert r.line().startswith(b"b19 BAD ")
    assert r.line().startswith(b"* BYE ")
    assert r.closed()
    # a good command resets the count
    r = RawImap(plexus)
    for i in range(30):
        r.send(f"c{i} BLAH\r\nn{i} NOOP\r\n")
        assert r.line().startswith(f"c{i} BAD ".encode())
        assert r.line().startswith(f"n{i} OK ".encode())
    r.close()


def blob_files(plexus):
    return sorted(p for p in (plexus.dir / "blobs").rglob("*") if p.is_file())


def test_client_vanishing_mid_append_leaves_nothing(plexus):
    c = login(plexus, DURAND, DURAND_PW)
    folder = new_folder(c)
    ok(c.append(folder, None, None, msg("before")))
    c.logout()
    time.sleep(0.2)
    before = blob_files(plexus)
    assert before
    for size in (1000, 300_000):  # in memory, then streamed
        r = RawImap(plexus).login(DURAND, DURAND_PW)
        r.send(f"a1 APPEND {folder} {{{size}}}\r\n")
        assert r.line().startswith(b"+ ")
        r.send(b"x" * (size // 2))
        time.sleep(0.2)
        r.close()
    deadline = time.time() + 5  # the sessions notice the closed connections
    while blob_files(plexus) != before and time.time() < deadline:
        time.sleep(0.1)
    assert blob_files(plexus) == before
    c = login(plexus, DURAND, DURAND_PW)
    typ, data = c.status(folder, "(MESSAGES)")
    assert data[0] == f'"{folder}" (MESSAGES 1)'.encode()
    c.logout()
    # the server is still serving
    c = login(plexus)
    ok(c.select("INBOX"))
    c.logout()


# --- several sessions on one mailbox -------------------------------------------------

def test_other_sessions_changes_reported_at_the_right_time(plexus):
    c = login(plexus)
    folder = new_folder(c)
    for i in range(3):
        ok(c.append(folder, None, None, msg(f"shared {i}")))
    c.logout()
    a = RawImap(plexus).login()
    a.cmd(f"SELECT {folder}")
    b = RawImap(plexus).login()
    b.cmd(f"SELECT {folder}")
    b.cmd(r"STORE 2 +FLAGS.SILENT (\Deleted)")
    lines, tagged = b.cmd("EXPUNGE")
    assert lines == [b"* 2 EXPUNGE"]
    # RFC 3501 §7.4.1: no EXPUNGE during FETCH, STORE or SEARCH; the expunged message is left out
    lines, tagged = a.cmd("FETCH 1:* (UID)")
    assert tagged.startswith(b"r3 OK ") and not any(b"EXPUNGE" in l for l in lines), lines
    assert lines[0] == b"* 1 FETCH (UID 1)" and lines[-1] == b"* 3 FETCH (UID 3)"
    lines, tagged = a.cmd("FETCH 2 BODY.PEEK[]")  # gone in the meantime (RFC 2180 §4.1.3)
    assert not tagged.startswith(b"r4 BAD") and not any(b"EXPUNGE" in l for l in lines), (lines, tagged)
    lines, tagged = a.cmd("SEARCH ALL")
    assert not any(b"EXPUNGE" in l for l in lines), lines
    assert b"* SEARCH 1 3" in lines
    lines, _ = a.cmd(r"STORE 3 +FLAGS (\Flagged)")
    assert lines == [rb"* 3 FETCH (FLAGS (\Flagged \Recent))"], lines
    # NOOP tells, then the numbers shift
    lines, _ = a.cmd("NOOP")
    assert lines == [b"* 2 EXPUNGE"], lines
    lines, _ = a.cmd("FETCH 1:* (UID)")
    assert lines == [b"* 1 FETCH (UID 1)", b"* 2 FETCH (UID 3)"]
    # b sees a's flag, and a new message from b reaches a as EXISTS
    lines, _ = b.cmd("NOOP")
    assert lines == [rb"* 2 FETCH (FLAGS (\Flagged))"], lines
    b.send(f"x1 APPEND {folder} {{5+}}\r\nhello\r\n")
    lines, tagged = b.until("x1")
    assert tagged.startswith(b"x1 OK [APPENDUID ") and b"* 3 EXISTS" in lines, lines
    lines, _ = a.cmd("NOOP")
    assert b"* 3 EXISTS" in lines and len([l for l in lines if l.endswith(b" RECENT")]) == 1, lines
    # UID commands may report expunges (RFC 3501 §7.4.1)
    b.cmd(r"STORE 1 +FLAGS.SILENT (\Deleted)")
    b.cmd("EXPUNGE")
    lines, _ = a.cmd("UID FETCH 1:* (FLAGS)")
    assert lines[0] == b"* 1 EXPUNGE", lines
    a.close()
    b.close()


def test_examine_does_not_set_seen(plexus):
    c = login(plexus)
    folder = new_folder(c)
    ok(c.append(folder, None, None, msg("unseen")))
    ok(c.select(folder, readonly=True))
    typ, data = c.fetch("1", "(BODY[] RFC822.TEXT)")
    assert typ == "OK" and b"FLAGS" not in flatten(data)
    typ, data = c.fetch("1", "(FLAGS)")
    assert b"\\Seen" not in data[0]
    # COPY from a read-only mailbox is fine, MOVE and EXPUNGE are not
    ok(c.copy("1", folder))
    typ, data = c._simple_command("MOVE", "1", folder)
    assert typ == "NO", data
    typ, data = c.expunge()
    assert typ == "NO", data
    ok(c.select(folder))
    typ, data = c.fetch("1", "(RFC822)")
    assert rb"FLAGS (\Seen" in flatten(data), data
    c.logout()


def test_condstore_and_qresync(plexus):
    c = login(plexus)
    folder = new_folder(c)
    for i in range(3):
        ok(c.append(folder, None, None, msg(f"modseq {i}")))
    c.logout()
    r = RawImap(plexus).login()
    lines, _ = r.cmd("ENABLE CONDSTORE")
    assert lines == [b"* ENABLED CONDSTORE"]
    lines, _ = r.cmd(f"SELECT {folder}")
    highest = int(next(re.search(rb"HIGHESTMODSEQ (\d+)", l).group(1) for l in lines if b"HIGHESTMODSEQ" in l))
    lines, _ = r.cmd("FETCH 1:* (MODSEQ)")
    modseqs = [int(re.search(rb"MODSEQ \((\d+)\)", l).group(1)) for l in lines]
    assert len(modseqs) == 3 and max(modseqs) == highest
    lines, tagged = r.cmd(rf"STORE 1 (UNCHANGEDSINCE {modseqs[0] - 1}) +FLAGS (\Seen)")
    assert tagged.startswith(b"r5 OK [MODIFIED 1] "), tagged
    lines, tagged = r.cmd(rf"STORE 1 (UNCHANGEDSINCE {modseqs[0]}) +FLAGS (\Seen)")
    m = re.match(rb"^\* 1 FETCH \(FLAGS \(\\Seen \\Recent\) MODSEQ \((\d+)\)\)$", lines[0])
    assert m and int(m.group(1)) > highest and tagged.startswith(b"r6 OK "), lines
    new = int(m.group(1))
    lines, _ = r.cmd(f"SEARCH MODSEQ {highest + 1}")
    assert lines == [b"* SEARCH 1 (MODSEQ %d)" % new]
    lines, _ = r.cmd(f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {highest})")
    assert lines == [rb"* 1 FETCH (UID 1 FLAGS (\Seen \Recent) MODSEQ (%d))" % new], lines
    r.close()
    # QRESYNC: expunges are told as VANISHED
    r = RawImap(plexus).login()
    assert r.cmd("ENABLE QRESYNC")[0] == [b"* ENABLED CONDSTORE QRESYNC"]
    lines, _ = r.cmd(f"SELECT {folder}")
    validity = int(next(re.search(rb"UIDVALIDITY (\d+)", l).group(1) for l in lines if b"UIDVALIDITY" in l))
    r.cmd(r"STORE 2 +FLAGS.SILENT (\Deleted)")
    lines, _ = r.cmd("EXPUNGE")
    assert lines == [b"* VANISHED 2"], lines
    lines, _ = r.cmd(f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {highest} VANISHED)")
    assert lines[0] == b"* VANISHED (EARLIER) 2", lines
    r.cmd("UNSELECT")
    lines, tagged = r.cmd(f"SELECT {folder} (QRESYNC ({validity} {highest}))")
    assert b"* VANISHED (EARLIER) 2" in lines and tagged.startswith(b"r8 OK "), lines
    assert any(l.startswith(b"* 1 FETCH (UID 1 FLAGS (\\Seen") for l in lines), lines
    r.close()


def test_any_state_commands_and_sasl_login(plexus):
    r = RawImap(plexus)
    lines, tagged = r.cmd('ID ("name" "pytest" "version" "1")')
    assert lines and lines[0].startswith(b'* ID ("name" "Plexus"') and tagged == b"r1 OK ID completed"
    _, tagged = r.cmd("ENABLE CONDSTORE")
    assert tagged.startswith(b"r2 BAD ")  # only once authenticated (RFC 5161)
    # AUTH=LOGIN: user name and password in two challenges
    r.send("a1 AUTHENTICATE LOGIN\r\n")
    assert r.line().startswith(b"+ ")
    r.send(base64.b64encode(DURAND.encode()) + b"\r\n")
    assert r.line().startswith(b"+ ")
    r.send(base64.b64encode(DURAND_PW.encode()) + b"\r\n")
    _, tagged = r.until("a1")
    assert tagged.startswith(b"a1 OK "), tagged
    lines, _ = r.cmd("NAMESPACE")
    assert lines[0].startswith(b'* NAMESPACE (("" "/")) ')
    lines, tagged = r.cmd("NOOP")
    assert lines == [] and tagged == b"r4 OK NOOP completed"
    r.send("a2 LOGOUT\r\n")
    assert r.line().startswith(b"* BYE ")
    assert r.line() == b"a2 OK LOGOUT completed"
    assert r.closed()
    # a password sent as a synchronizing literal; bad base64 in a SASL exchange
    r = RawImap(plexus)
    r.send(f'a1 LOGIN "{DURAND}" {{{len(DURAND_PW)}}}\r\n')
    assert r.line() == b"+ OK"
    r.send(DURAND_PW + "\r\n")
    assert r.until("a1")[1].startswith(b"a1 OK ")
    r = RawImap(plexus)
    r.send("a1 AUTHENTICATE PLAIN\r\n")
    assert r.line() == b"+ "
    r.send("!!not base64!!\r\n")
    assert r.until("a1")[1].startswith(b"a1 BAD ")
    assert r.cmd("NOOP")[1] == b"r1 OK NOOP completed"


def test_starttls_discards_pipelined_plaintext(plexus):
    """Commands sent with STARTTLS, before the handshake, are not run after it."""
    r = RawImap(plexus, tls=False)
    r.send(f'a1 STARTTLS\r\na2 LOGIN "{MARTIN}" "{MARTIN_PW}"\r\n')
    assert r.line().startswith(b"a1 OK ")
    r.starttls()
    lines, tagged = r.cmd("CAPABILITY")
    assert tagged == b"r1 OK CAPABILITY completed" and not any(l.startswith(b"a2") for l in lines)
    assert b"AUTH=PLAIN" in lines[0]  # still not authenticated


def test_fetch_single_part_and_empty_mailbox(plexus):
    c = login(plexus)
    folder = new_folder(c)
    ok(c.select(folder))
    typ, data = c.fetch("1:*", "(FLAGS)")
    assert typ == "OK" and data == [None]
    typ, data = c.search(None, "ALL")
    assert typ == "OK" and data == [b""]
    m = msg("simple", body="Ligne 1\r\nLigne 2\r\n")
    ok(c.append(folder, None, None, m))
    ok(c.noop())
    body = m[m.index(b"\r\n\r\n") + 4:]
    typ, data = c.fetch("1", "(BODY.PEEK[1] BODY.PEEK[TEXT] BODYSTRUCTURE)")
    assert data[0][1] == body and data[1][1] == body, data
    assert data[2].endswith(b'BODYSTRUCTURE ("TEXT" "PLAIN" ("charset" "utf-8") NIL NIL "7BIT" %d 2 NIL NIL NIL NIL))'
                            % len(body)), data
    c.logout()


def test_idle_sees_a_delivery(plexus):
    a = RawImap(plexus).login(DURAND, DURAND_PW)
    lines, _ = a.cmd("SELECT INBOX")
    exists = next(int(l.split()[1]) for l in lines if l.endswith(b" EXISTS"))
    a.send("i1 IDLE\r\n")
    assert a.line().startswith(b"+ ")
    s = plexus.smtp()
    s.login(MARTIN, MARTIN_PW)
    s.sendmail(MARTIN, [DURAND], msg("idle wake-up", to=f"<{DURAND}>"))
    delivered = time.time()
    s.quit()
    assert a.line() == b"* %d EXISTS" % (exists + 1)
    assert time.time() - delivered < 2
    a.send("DONE\r\n")
    lines, tagged = a.until("i1")
    assert tagged == b"i1 OK IDLE terminated"
    a.send("i2 idle\r\n")  # lower case, like every command name and DONE itself
    assert a.line().startswith(b"+ ")
    a.send("done\r\n")
    assert a.until("i2")[1] == b"i2 OK IDLE terminated"
    a.close()


def test_lower_case_commands_and_odd_tags(plexus):
    c = login(plexus)
    ok(c.append("INBOX", None, None, msg("lower case")))
    c.logout()
    r = RawImap(plexus)
    r.send(f'A.1 login "{MARTIN}" "{MARTIN_PW}"\r\n')
    assert r.until("A.1")[1].startswith(b"A.1 OK ")
    lines, tagged = r.cmd("select inbox")
    assert tagged.startswith(b"r1 OK [READ-WRITE]")
    lines, tagged = r.cmd("uid fetch 1:* (uid flags)")
    assert tagged == b"r2 OK UID FETCH completed" and all(re.match(rb"^\* \d+ FETCH \(UID \d+ FLAGS \(", l) for l in lines)
    lines, tagged = r.cmd("fetch 1 body.peek[header.fields (subject)]")
    assert tagged.startswith(b"r3 OK") and lines and b"BODY[HEADER.FIELDS (subject)] {" in lines[0], lines
    lines, tagged = r.cmd("search not deleted")
    assert tagged.startswith(b"r4 OK") and lines[0].startswith(b"* SEARCH")
    r.send("+x NOOP\r\n")  # "+" cannot start a tag
    assert r.line().startswith(b"* BAD ")
    assert r.cmd("NOOP")[1] == b"r5 OK NOOP completed"


def test_delivery_is_recent_for_the_first_session(plexus):
    """Also in a mailbox no session has selected since start-up (RFC 3501 §2.3.2)."""
    address = f"recent@{DOMAIN}"
    plexus.add_mailbox(address, "PER", "810000000009", "recent-password")
    s = plexus.smtp()
    s.login(MARTIN, MARTIN_PW)
    s.sendmail(MARTIN, [address], msg("new", to=f"<{address}>"))
    s.quit()
    c = login(plexus, address, "recent-password")
    ok(c.select("INBOX"))
    assert untagged(c, "EXISTS")[-1] == b"1"
    assert untagged(c, "RECENT")[-1] == b"1"
    c.logout()


def test_hostile_input(plexus):
    c = login(plexus)
    ok(c.append("INBOX", None, None, msg("hostile")))
    c.logout()
    r = RawImap(plexus).login()
    r.cmd("SELECT INBOX")
    cases = [
        "SEARCH " + "NOT " * 5000 + "ALL",
        "SEARCH " + "(" * 40 + "ALL" + ")" * 40,
        "FETCH 1 " + "(" * 100,
        "FETCH 4294967296 FLAGS",
        "FETCH 1:4294967295 FLAGS",
        "SEARCH LARGER 99999999999999999999999",
        "LOGIN {99999999999999999999999}",
        "NOOP \x00",
        "STORE 1 +FLAGS (a]b)",  # "]" would end the PERMANENTFLAGS response code of the next SELECT
        "STORE 1 +FLAGS (50%)",
        "APPEND INBOX (a]b) {5+}\r\nhello",  # APPEND takes the same flag rules as STORE
        "STORE 1 +FLAGS (" + "k" * 300 + ")",
        "STORE 1 +FLAGS (" + " ".join(f"$k{n}" for n in range(5000)) + ")",
    ]
    for i, case in enumerate(cases):
        r.send(f"h{i} {case}\r\n")
        _, tagged = r.until(f"h{i}")
        assert tagged.startswith(f"h{i} BAD ".encode()) or tagged.startswith(f"h{i} NO ".encode()), (case, tagged)
    for i in range(3):  # keywords 40 at a time: refused past 100 flags on the message
        keywords = " ".join(f"$k{i}x{n}" for n in range(40))
        _, tagged = r.cmd(f"STORE 1 +FLAGS.SILENT ({keywords})")
        assert tagged.split(b" ", 2)[1:] == ([b"OK", b"STORE completed"] if i < 2 else [b"NO", tagged.split(b" ", 2)[2]])
    assert b"[LIMIT]" in tagged
    lines, _ = r.cmd("SELECT INBOX")
    assert len(re.search(rb"^\* FLAGS \(([^)]*)\)$", lines[0]).group(1).split()) >= 85, lines[0]
    _, tagged = r.cmd("UID FETCH 1:4294967295 (UID)")
    assert tagged.endswith(b"OK UID FETCH completed")
    _, tagged = r.cmd("FETCH 1 (BODY.PEEK[" + ".".join(["1"] * 40) + "])")
    assert tagged.endswith(b"OK FETCH completed")
    r.send("z1 LOGIN {5}\r\n")
    r.close()  # vanishes before the literal
    c = login(plexus)
    ok(c.noop())
    c.logout()
