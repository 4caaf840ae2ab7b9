"""IMAP mailboxes, namespaces, ACL (RFC 4314), quota (RFC 9208), concurrent
sessions, IDLE (RFC 2177), CONDSTORE/QRESYNC (RFC 7162) and audit events,
against a running plexusd. Byte-exact checks use a small raw client (Imap);
imaplib is used where a standard client's view is what matters."""
import re
import socket
import sqlite3
import time

import pytest

from conftest import DOMAIN

MARTIN = f"dr.martin@{DOMAIN}"
DURAND = f"ide.durand@{DOMAIN}"
SECRETARIAT = f"secretariat@{DOMAIN}"
QUOTA_USER = f"dr.quota@{DOMAIN}"
RENAME_USER = f"dr.rename@{DOMAIN}"
PASSWORDS = {MARTIN: "martin-password", DURAND: "durand-password", QUOTA_USER: "quota-password",
             RENAME_USER: "rename-password"}
SHARED_INBOX = f"Shared/{SECRETARIAT}/INBOX"


@pytest.fixture(scope="module")
def p(plexus):
    """conftest's instance, with two more mailboxes (one with a 1 MiB quota)
    and a 2 s login timeout for unauthenticated IMAP connections."""
    plexus.stop()
    plexus.add_mailbox(RENAME_USER, "PER", "810000000091", PASSWORDS[RENAME_USER])
    r = plexus.ctl("mailbox", "add", QUOTA_USER, "--type", "PER", "--rpps", "810000000092", "--quota-mb", "1",
                   "--password-stdin", input=PASSWORDS[QUOTA_USER] + "\n")
    assert r.returncode == 0, r.stderr
    plexus.set_config("limits", "imap_login_timeout", "2")
    plexus.start()
    deadline = time.time() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", plexus.ports["imaps"]), timeout=0.2).close()
            break
        except OSError:
            assert time.time() < deadline, "imaps does not listen"
            time.sleep(0.05)
    return plexus


# --- a raw IMAP client -------------------------------------------------------

def q(name):
    """A quoted string."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def message(subject, body="Bonjour,\r\nle compte rendu suit.\r\n", size=None):
    if size is not None:
        line = "x" * 76 + "\r\n"
        body = line * (size // len(line) + 1)
    return (f"From: {MARTIN}\r\nTo: {DURAND}\r\nSubject: {subject}\r\n"
            f"Message-ID: <{time.time_ns()}.{subject.replace(' ', '.')}@test>\r\n"
            f"Date: Mon, 2 Mar 2026 10:00:00 +0100\r\n\r\n{body}").encode()


class Imap:
    """Lines as text (literals inlined), tagged commands, synchronising literals."""

    def __init__(self, p, user=None, password=None, service="imaps"):
        sock = socket.create_connection(("127.0.0.1", p.ports[service]), timeout=10)
        self.sock = p.tls_context().wrap_socket(sock) if service == "imaps" else sock
        self.p = p
        self.buf = b""
        self.n = 0
        self.greeting = self.line()
        if user:
            self.ok(f"LOGIN {q(user)} {q(password or PASSWORDS[user])}")

    def _read(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError(self.buf)
        self.buf += chunk

    def line(self):
        out = b""
        while True:
            while b"\r\n" not in self.buf:
                self._read()
            line, self.buf = self.buf.split(b"\r\n", 1)
            out += line
            m = re.search(rb"\{(\d+)\}$", line)
            if not m:
                return out.decode("utf-8", "replace")
            size = int(m.group(1))
            while len(self.buf) < size:
                self._read()
            out += b"\r\n" + self.buf[:size]
            self.buf = self.buf[size:]

    def send_raw(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def send(self, command):
        self.n += 1
        tag = f"t{self.n}"
        self.send_raw(f"{tag} {command}\r\n")
        return tag

    def until(self, tag):
        lines = []
        while True:
            line = self.line()
            if line.startswith(tag + " "):
                return line[len(tag) + 1:], lines
            lines.append(line)

    def run(self, command):
        """(tagged status text, untagged lines)."""
        return self.until(self.send(command))

    def ok(self, command):
        status, lines = self.run(command)
        assert status.startswith("OK"), (command, status, lines)
        return lines

    def append(self, mailbox, data, flags=""):
        self.n += 1
        tag = f"t{self.n}"
        flags = f" ({flags})" if flags else ""
        self.send_raw(f"{tag} APPEND {q(mailbox)}{flags} {{{len(data)}}}\r\n")
        line = self.line()
        if not line.startswith("+"):
            assert line.startswith(tag + " "), line
            return line[len(tag) + 1:], []
        self.send_raw(data + b"\r\n")
        return self.until(tag)

    def append_ok(self, mailbox, data, flags=""):
        status, lines = self.append(mailbox, data, flags)
        assert status.startswith("OK [APPENDUID "), status
        return int(status.split()[3].rstrip("]"))

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def astring(text):
    text = text.strip()
    if text.startswith('"'):
        return re.sub(r'\\(.)', r'\1', text[1:-1])
    return text


def listed(lines, verb="LIST"):
    """{name: set of attributes} of LIST/LSUB responses, checking the delimiter."""
    result = {}
    for line in lines:
        m = re.match(rf'^\* {verb} \(([^)]*)\) "/" (.*)$', line)
        assert m, line
        result[astring(m.group(2))] = set(m.group(1).split())
    return result


def status_of(c, mailbox, items="MESSAGES UNSEEN UIDNEXT UIDVALIDITY RECENT HIGHESTMODSEQ"):
    lines = c.ok(f"STATUS {q(mailbox)} ({items})")
    assert len(lines) == 1, lines
    m = re.match(r'^\* STATUS (".*"|\S+) \((.*)\)$', lines[0])
    assert m and astring(m.group(1)) == mailbox, lines
    words = m.group(2).split()
    return {words[i]: int(words[i + 1]) for i in range(0, len(words), 2)}


def select(c, mailbox, extra=""):
    lines = c.ok(f"SELECT {q(mailbox)}{extra}")
    info = {"lines": lines}
    for line in lines:
        if m := re.match(r"^\* (\d+) EXISTS$", line):
            info["exists"] = int(m.group(1))
        if m := re.match(r"^\* OK \[(UIDVALIDITY|UIDNEXT|HIGHESTMODSEQ) (\d+)\]", line):
            info[m.group(1)] = int(m.group(2))
    return info


def code_of(status):
    m = re.match(r"^(OK|NO|BAD) (?:\[([A-Z-]+)[^\]]*\] )?", status)
    assert m, status
    return m.group(1), m.group(2)


def events(p, since_id=0, type_=None):
    db = sqlite3.connect(f"file:{p.dir / 'plexus.db'}?mode=ro", uri=True)
    try:
        sql = "SELECT id, type, actor, client, object, outcome, detail FROM events WHERE id > ?"
        args = [since_id]
        if type_:
            sql += " AND type = ?"
            args.append(type_)
        return db.execute(sql + " ORDER BY id", args).fetchall()
    finally:
        db.close()


def last_event_id(p):
    rows = events(p)
    return rows[-1][0] if rows else 0


# --- names: LIST, CREATE, DELETE, RENAME, subscriptions, STATUS -------------

def test_list_attributes_special_use_and_children(p):
    c = Imap(p, MARTIN)
    c.ok('CREATE "Projets/2026/T1"')           # missing parents are created
    everything = listed(c.ok('LIST "" "*"'))
    assert everything["INBOX"] == {"\\HasNoChildren"}
    for name, use in (("Sent", "\\Sent"), ("Drafts", "\\Drafts"), ("Trash", "\\Trash"), ("Junk", "\\Junk"),
                      ("Archive", "\\Archive")):
        assert everything[name] == {use, "\\HasNoChildren"}, name
    assert everything["Projets"] == {"\\HasChildren"}
    assert everything["Projets/2026"] == {"\\HasChildren"}
    assert everything["Projets/2026/T1"] == {"\\HasNoChildren"}

    top = listed(c.ok('LIST "" "%"'))
    assert "Projets/2026" not in top and "Projets" in top and "INBOX" in top
    assert all("/" not in name for name in top), top
    assert set(listed(c.ok('LIST "" "Projets/%"'))) == {"Projets/2026"}
    assert set(listed(c.ok('LIST "Projets/" "%"'))) == {"Projets/2026"}
    assert set(listed(c.ok('LIST "" "projets/*"'))) == set()   # only INBOX is case-insensitive
    assert set(listed(c.ok('LIST "" "inbox"'))) == {"INBOX"}
    assert set(listed(c.ok('LIST "" "inb%"'))) == {"INBOX"}     # INBOX in any case, wildcards too
    assert set(listed(c.ok('LIST "" "Inbo*"'))) == {"INBOX"}
    # The hierarchy delimiter (RFC 3501 §6.3.8).
    assert c.ok('LIST "" ""') == ['* LIST (\\Noselect) "/" ""']
    c.close()


def test_create_rules(p):
    c = Imap(p, MARTIN)
    c.ok('CREATE "Notes/"')                    # trailing separator dropped
    names = listed(c.ok('LIST "" "Notes*"'))
    assert set(names) == {"Notes"}
    assert code_of(c.run('CREATE "Notes"')[0]) == ("NO", "ALREADYEXISTS")
    assert code_of(c.run('CREATE "Notes/"')[0]) == ("NO", "ALREADYEXISTS")
    assert code_of(c.run("CREATE INBOX")[0]) == ("NO", "ALREADYEXISTS")
    assert code_of(c.run("CREATE inbox")[0]) == ("NO", "ALREADYEXISTS")
    assert c.run('CREATE "a*b"')[0].startswith("NO")   # a LIST wildcard in a name
    assert c.run('CREATE "a%b"')[0].startswith("NO")
    assert c.run('CREATE "a//b"')[0].startswith("NO")
    c.close()


def test_modified_utf7_names(p):
    c = Imap(p, MARTIN)
    c.ok('CREATE "Bo&AO4-te/Re&AOc-us"')       # "Boîte/Reçus"
    names = listed(c.ok('LIST "" "Bo*"'))
    assert names == {"Bo&AO4-te": {"\\HasChildren"}, "Bo&AO4-te/Re&AOc-us": {"\\HasNoChildren"}}
    assert status_of(c, "Bo&AO4-te/Re&AOc-us", "MESSAGES") == {"MESSAGES": 0}
    c.ok('SELECT "Bo&AO4-te/Re&AOc-us"')
    c.ok('CREATE "A&-B"')                      # "&" itself
    assert "A&-B" in listed(c.ok('LIST "" "A&-B"'))
    # Stored as UTF-8.
    db = sqlite3.connect(f"file:{p.dir / 'plexus.db'}?mode=ro", uri=True)
    stored = {row[0] for row in db.execute("SELECT name FROM mailboxes")}
    db.close()
    assert "Boîte/Reçus" in stored and "A&B" in stored
    # Not modified UTF-7 (RFC 3501 §5.1.3): BAD.
    for bad in ('"Bo&AO4te"', '"&Jjo"', '"&AGE-"', '"&AO4"', '"Bo&AO5-te"'):
        status, _ = c.run(f"CREATE {bad}")
        assert status.startswith("BAD"), (bad, status)
    assert c.run('LIST "" "&Jjo*"')[0].startswith("BAD")
    assert c.run('STATUS "Bo&AO4te" (MESSAGES)')[0].startswith("BAD")
    c.close()


def test_delete(p):
    c = Imap(p, MARTIN)
    assert code_of(c.run("DELETE INBOX")[0])[0] == "NO"
    assert code_of(c.run("DELETE inbox")[0])[0] == "NO"
    assert code_of(c.run('DELETE "Nulle/Part"')[0]) == ("NO", "NONEXISTENT")
    c.ok('CREATE "Corbeille2"')
    c.append_ok("Corbeille2", message("to delete"))
    c.ok('DELETE "Corbeille2"')
    assert listed(c.ok('LIST "" "Corbeille2"')) == {}
    assert code_of(c.run('SELECT "Corbeille2"')[0]) == ("NO", "NONEXISTENT")
    assert code_of(c.run('DELETE "Corbeille2"')[0]) == ("NO", "NONEXISTENT")
    c.close()


def test_delete_a_folder_with_children(p):
    """RFC 3501 §6.3.4: its messages go, its children stay, the name becomes \\Noselect."""
    c = Imap(p, MARTIN)
    c.ok('CREATE "Parente/Fille"')
    c.append_ok("Parente", message("in the parent"))
    c.append_ok("Parente/Fille", message("in the child"))
    c.ok('DELETE "Parente"')
    assert listed(c.ok('LIST "" "Parente*"')) == {"Parente": {"\\Noselect", "\\HasChildren"},
                                                  "Parente/Fille": {"\\HasNoChildren"}}
    assert code_of(c.run('SELECT "Parente"')[0]) == ("NO", "NONEXISTENT")
    assert code_of(c.run('DELETE "Parente"')[0]) == ("NO", "NONEXISTENT")   # \Noselect with children
    assert status_of(c, "Parente/Fille", "MESSAGES")["MESSAGES"] == 1
    c.ok('CREATE "Parente"')
    assert status_of(c, "Parente", "MESSAGES UIDNEXT") == {"MESSAGES": 0, "UIDNEXT": 1}
    c.ok('DELETE "Parente/Fille"')
    c.ok('DELETE "Parente"')
    assert listed(c.ok('LIST "" "Parente*"')) == {}
    c.close()


def test_uidvalidity_of_a_recreated_folder_is_greater(p):
    c = Imap(p, MARTIN)
    c.ok('CREATE "Phenix"')
    first = status_of(c, "Phenix", "UIDVALIDITY UIDNEXT")
    c.append_ok("Phenix", message("first life"))
    c.ok('DELETE "Phenix"')
    c.ok('CREATE "Phenix"')                    # within the same second
    second = status_of(c, "Phenix", "UIDVALIDITY UIDNEXT MESSAGES")
    assert second["UIDVALIDITY"] > first["UIDVALIDITY"]
    assert second["MESSAGES"] == 0 and second["UIDNEXT"] == 1
    c.close()


def test_rename_with_children(p):
    c = Imap(p, MARTIN)
    c.ok('CREATE "Ancien/Enfant"')
    uid = c.append_ok("Ancien/Enfant", message("kept across rename"))
    before = status_of(c, "Ancien/Enfant", "UIDVALIDITY")
    c.ok('RENAME "Ancien" "Nouveau/Sous"')
    names = listed(c.ok('LIST "" "*"'))
    assert "Ancien" not in names and "Ancien/Enfant" not in names
    assert names["Nouveau"] == {"\\HasChildren"}
    assert names["Nouveau/Sous"] == {"\\HasChildren"}
    assert names["Nouveau/Sous/Enfant"] == {"\\HasNoChildren"}
    after = status_of(c, "Nouveau/Sous/Enfant", "MESSAGES UIDVALIDITY UIDNEXT")
    assert after["MESSAGES"] == 1 and after["UIDNEXT"] == uid + 1
    assert after["UIDVALIDITY"] == before["UIDVALIDITY"]
    assert code_of(c.run('RENAME "Ancien" "X"')[0]) == ("NO", "NONEXISTENT")
    c.ok('CREATE "Cible"')
    assert code_of(c.run('RENAME "Nouveau" "Cible"')[0]) == ("NO", "ALREADYEXISTS")
    assert code_of(c.run('RENAME "Nouveau" "INBOX"')[0]) == ("NO", "ALREADYEXISTS")
    assert c.run('RENAME "Nouveau" "Nouveau/Dedans"')[0].startswith("NO")
    c.close()


def test_rename_inbox_moves_its_messages(p):
    c = Imap(p, RENAME_USER)
    uids = [c.append_ok("INBOX", message(f"inbox {i}")) for i in range(2)]
    inbox = status_of(c, "INBOX", "MESSAGES UIDVALIDITY UIDNEXT")
    c.ok('RENAME INBOX "Avant"')
    after = status_of(c, "INBOX", "MESSAGES UIDVALIDITY UIDNEXT")
    assert after["MESSAGES"] == 0
    assert after["UIDVALIDITY"] == inbox["UIDVALIDITY"] and after["UIDNEXT"] == inbox["UIDNEXT"]
    assert status_of(c, "Avant", "MESSAGES")["MESSAGES"] == 2
    names = listed(c.ok('LIST "" "*"'))
    assert "INBOX" in names and "Avant" in names
    c.ok('SELECT "Avant"')
    lines = c.ok("FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert "Subject: inbox 0" in lines[0] and "Subject: inbox 1" in lines[1]
    # INBOX's UIDs are not given again.
    new = c.append_ok("INBOX", message("after rename"))
    assert new > max(uids)
    c.close()


def test_subscriptions(p):
    c = Imap(p, MARTIN)
    c.ok('CREATE "Abonne"')
    c.ok('CREATE "Parent/Enfant"')
    c.ok('SUBSCRIBE "Abonne"')
    c.ok('SUBSCRIBE "Parent/Enfant"')
    subs = listed(c.ok('LSUB "" "*"'), "LSUB")
    assert subs["Abonne"] == set() and subs["Parent/Enfant"] == set()
    assert "Parent" not in subs
    # "%" reaching a parent of a subscribed name lists it \Noselect (RFC 3501 §6.3.9).
    top = listed(c.ok('LSUB "" "Par%"'), "LSUB")
    assert top == {"Parent": {"\\Noselect"}}
    # A subscription outlives its mailbox (RFC 3501 §6.3.6).
    c.ok('DELETE "Abonne"')
    assert "Abonne" in listed(c.ok('LSUB "" "Abonne"'), "LSUB")
    c.ok('UNSUBSCRIBE "Abonne"')
    assert listed(c.ok('LSUB "" "Abonne"'), "LSUB") == {}
    c.ok('UNSUBSCRIBE "Parent/Enfant"')
    assert listed(c.ok('LSUB "" "Par*"'), "LSUB") == {}
    c.close()


def test_status_items(p):
    c = Imap(p, MARTIN)
    c.ok('CREATE "Etat"')
    empty = status_of(c, "Etat")
    assert empty["MESSAGES"] == 0 and empty["UNSEEN"] == 0 and empty["UIDNEXT"] == 1 and empty["RECENT"] == 0
    assert empty["UIDVALIDITY"] > 0 and empty["HIGHESTMODSEQ"] >= 1
    c.append_ok("Etat", message("seen"), "\\Seen")
    c.append_ok("Etat", message("unseen"))
    full = status_of(c, "Etat")
    assert full["MESSAGES"] == 2 and full["UNSEEN"] == 1 and full["UIDNEXT"] == 3
    assert full["RECENT"] == 2
    assert full["UIDVALIDITY"] == empty["UIDVALIDITY"]
    assert full["HIGHESTMODSEQ"] > empty["HIGHESTMODSEQ"]
    # Appended while no session had looked at the folder: still \\Recent (RFC 3501 §6.3.11).
    c.ok('CREATE "Etat2"')
    c.append_ok("Etat2", message("recent"))
    assert status_of(c, "Etat2", "RECENT MESSAGES") == {"RECENT": 1, "MESSAGES": 1}
    assert "* 1 RECENT" in select(c, "Etat2")["lines"]
    c.ok("UNSELECT")
    assert status_of(c, "Etat2", "RECENT") == {"RECENT": 0}     # claimed by that SELECT
    # Items come back in the order asked.
    lines = c.ok('STATUS "Etat" (UIDNEXT MESSAGES)')
    assert lines == ['* STATUS "Etat" (UIDNEXT 3 MESSAGES 2)'] or lines == ["* STATUS Etat (UIDNEXT 3 MESSAGES 2)"]
    assert c.run('STATUS "Etat" (BOGUS)')[0].startswith("BAD")
    assert code_of(c.run('STATUS "Nulle" (MESSAGES)')[0]) == ("NO", "NONEXISTENT")
    c.close()


# --- namespaces and delegated organizational mailboxes ------------------------

def test_namespace(p):
    c = Imap(p, MARTIN)
    assert c.ok("NAMESPACE") == ['* NAMESPACE (("" "/")) (("Other Users/" "/")) (("Shared/" "/"))']
    # imaplib parses it too.
    m = p.imap(user=MARTIN, password=PASSWORDS[MARTIN])
    typ, data = m.namespace()
    assert typ == "OK" and data == [b'(("" "/")) (("Other Users/" "/")) (("Shared/" "/"))']
    m.logout()
    c.close()


def test_delegate_sees_and_uses_the_org_mailbox(p):
    c = Imap(p, MARTIN)
    shared = listed(c.ok('LIST "" "Shared/*"'))
    assert shared[SHARED_INBOX] == {"\\HasNoChildren"}
    assert shared[f"Shared/{SECRETARIAT}/Sent"] == {"\\Sent", "\\HasNoChildren"}
    assert shared[f"Shared/{SECRETARIAT}"] == {"\\Noselect", "\\HasChildren"}
    assert listed(c.ok('LIST "" "%"'))["Shared"] == {"\\Noselect", "\\HasChildren"}
    assert c.ok(f"MYRIGHTS {q(SHARED_INBOX)}") == [f"* MYRIGHTS {q(SHARED_INBOX)} lrswipkxte"]
    before = status_of(c, SHARED_INBOX, "MESSAGES")["MESSAGES"]
    uid = c.append_ok(SHARED_INBOX, message("pour le secretariat"))
    info = select(c, f"Shared/{SECRETARIAT}/inbox")        # INBOX is case-insensitive there too
    assert info["exists"] == before + 1
    lines = c.ok(f"UID FETCH {uid} (BODY[])")
    assert "Subject: pour le secretariat" in lines[0]
    # No "a": the ACL is the organization's business.
    assert code_of(c.run(f"GETACL {q(SHARED_INBOX)}")[0]) == ("NO", "NOPERM")
    assert code_of(c.run(f"SETACL {q(SHARED_INBOX)} {DURAND} lr")[0]) == ("NO", "NOPERM")
    # "k" on the organization's INBOX: a sub-folder, which inherits the ACL.
    c.ok(f"CREATE {q(SHARED_INBOX + '/Dossiers')}")
    assert c.ok(f"MYRIGHTS {q(SHARED_INBOX + '/Dossiers')}") == [
        f"* MYRIGHTS {q(SHARED_INBOX + '/Dossiers')} lrswipkxte"]
    c.ok(f"DELETE {q(SHARED_INBOX + '/Dossiers')}")
    # At the top level of the organization: "k" on its INBOX, whose ACL the folder gets.
    top = f"Shared/{SECRETARIAT}/Projets"
    c.ok(f"CREATE {q(top + '/2026/Mars')}")             # missing parents too
    assert c.ok(f"MYRIGHTS {q(top + '/2026/Mars')}") == [f"* MYRIGHTS {q(top + '/2026/Mars')} lrswipkxte"]
    assert listed(c.ok(f'LIST "" {q(top + "*")}')) == {top: {"\\HasChildren"}, top + "/2026": {"\\HasChildren"},
                                                       top + "/2026/Mars": {"\\HasNoChildren"}}
    for name in (top + "/2026/Mars", top + "/2026", top):
        c.ok(f"DELETE {q(name)}")
    assert code_of(c.run(f'CREATE "Shared/{SECRETARIAT}"')[0]) == ("NO", "NOPERM")
    assert code_of(c.run('CREATE "Shared/nobody@hopital.mssante.test/x"')[0]) == ("NO", "NOPERM")
    # The organization's quota root.
    lines = c.ok(f"GETQUOTAROOT {q(SHARED_INBOX)}")
    assert lines[0] == f"* QUOTAROOT {q(SHARED_INBOX)} {q(SECRETARIAT)}"
    assert re.match(rf'^\* QUOTA {re.escape(q(SECRETARIAT))} \(STORAGE \d+ 1048576\)$', lines[1]), lines
    c.close()

    d = Imap(p, DURAND)
    assert not any(SECRETARIAT in line for line in d.ok('LIST "" "*"'))
    assert d.ok('LIST "" "Shared/*"') == []
    assert code_of(d.run(f"SELECT {q(SHARED_INBOX)}")[0]) == ("NO", "NONEXISTENT")
    assert code_of(d.run(f"STATUS {q(SHARED_INBOX)} (MESSAGES)")[0]) == ("NO", "NONEXISTENT")
    assert code_of(d.run(f"MYRIGHTS {q(SHARED_INBOX)}")[0]) == ("NO", "NONEXISTENT")
    assert code_of(d.run(f"GETQUOTAROOT {q(SHARED_INBOX)}")[0]) == ("NO", "NONEXISTENT")
    assert d.append(SHARED_INBOX, message("intrus"))[0].startswith("NO")
    # An ORG mailbox is never under "Other Users/".
    assert code_of(d.run(f'SELECT "Other Users/{SECRETARIAT}/INBOX"')[0]) == ("NO", "NONEXISTENT")
    assert code_of(d.run(f'CREATE "Shared/{SECRETARIAT}/Intrus"')[0]) == ("NO", "NOPERM")
    assert code_of(d.run(f'CREATE "{SHARED_INBOX}/Intrus"')[0]) == ("NO", "NOPERM")
    d.close()


# --- access control lists (RFC 4314) -----------------------------------------

def test_acl_sharing_read_only(p):
    m = Imap(p, MARTIN)
    m.ok('CREATE "Partage"')
    m.append_ok("Partage", message("partage 1"))
    m.ok(f"SETACL Partage {DURAND} lr")
    acl = m.ok("GETACL Partage")
    assert acl == [f'* ACL "Partage" {MARTIN} lrswipkxtea {DURAND} lr'] or \
        acl == [f"* ACL Partage {MARTIN} lrswipkxtea {DURAND} lr"], acl
    assert astring(m.ok(f"LISTRIGHTS Partage {DURAND}")[0].split(" ", 3)[2]) == "Partage"
    assert m.ok(f"LISTRIGHTS Partage {DURAND}")[0].endswith(f' {DURAND} "" l r s w i p k x t e a')
    assert m.ok(f"LISTRIGHTS Partage {MARTIN}")[0].endswith(f" {MARTIN} lrswipkxtea")
    assert m.ok("MYRIGHTS Partage")[0].endswith(" lrswipkxtea")

    name = f"Other Users/{MARTIN}/Partage"
    d = Imap(p, DURAND)
    others = listed(d.ok('LIST "" "Other Users/*"'))
    assert listed(d.ok('LIST "" "%"'))["Other Users"] == {"\\Noselect", "\\HasChildren"}
    assert others == {f"Other Users/{MARTIN}": {"\\Noselect", "\\HasChildren"},
                      name: {"\\HasNoChildren"}}
    assert d.ok(f"MYRIGHTS {q(name)}") == [f"* MYRIGHTS {q(name)} lr"]
    status, lines = d.run(f"SELECT {q(name)}")
    assert status.startswith("OK [READ-ONLY]"), status
    assert "* OK [PERMANENTFLAGS ()] Flags permitted" in lines, lines
    body = d.ok("FETCH 1 (BODY[] FLAGS)")
    assert "Subject: partage 1" in body[0] and "\\Seen" not in body[0]
    # Read-only by the ACL, not by EXAMINE: RFC 5530 NOPERM.
    assert code_of(d.run("STORE 1 +FLAGS (\\Flagged)")[0]) == ("NO", "NOPERM")
    assert code_of(d.run("EXPUNGE")[0]) == ("NO", "NOPERM")
    assert code_of(d.append(name, message("refused"))[0]) == ("NO", "NOPERM")
    assert code_of(d.run(f"GETACL {q(name)}")[0]) == ("NO", "NOPERM")
    assert code_of(d.run(f"SETACL {q(name)} {DURAND} lrswi")[0]) == ("NO", "NOPERM")
    assert code_of(d.run(f"DELETE {q(name)}")[0]) == ("NO", "NOPERM")
    # Reading is enough to copy into one's own folders.
    d.ok("COPY 1 INBOX")
    # Nothing was changed by the refused commands.
    assert status_of(m, "Partage", "MESSAGES")["MESSAGES"] == 1
    # (Still \Recent: neither ide.durand's read-only SELECT nor EXAMINE claims it, RFC 3501 §6.3.2.)
    m.ok('EXAMINE "Partage"')
    assert m.ok("FETCH 1 (FLAGS)") == ["* 1 FETCH (FLAGS (\\Recent))"]
    m.ok("UNSELECT")

    # DELETEACL: the folder disappears for ide.durand.
    m.ok(f"DELETEACL Partage {DURAND}")
    assert m.ok("GETACL Partage") in ([f'* ACL "Partage" {MARTIN} lrswipkxtea'], [f"* ACL Partage {MARTIN} lrswipkxtea"])
    d.run("UNSELECT")
    assert d.ok('LIST "" "Other Users/*"') == []
    assert code_of(d.run(f"SELECT {q(name)}")[0]) == ("NO", "NONEXISTENT")
    d.close()
    m.close()


def test_withdrawn_access_ends_an_open_session(p):
    m = Imap(p, MARTIN)
    m.ok('CREATE "Retire"')
    m.append_ok("Retire", message("retire 1"))
    m.ok(f"SETACL Retire {DURAND} lrs")
    d = Imap(p, DURAND)
    name = f"Other Users/{MARTIN}/Retire"
    d.ok(f"SELECT {q(name)}")
    d.ok("FETCH 1 (BODY.PEEK[])")
    m.ok(f"DELETEACL Retire {DURAND}")
    # The next command finds the right gone: BYE, no tagged answer, no body.
    tag = d.send("FETCH 1 (BODY.PEEK[])")
    line = d.line()
    assert line.startswith("* BYE Access to"), line
    with pytest.raises((EOFError, OSError)):
        while True:
            assert not d.line().startswith(tag), "no tagged answer after BYE"
    d.close()
    m.close()


def test_sharing_inbox_shares_its_children_not_new_top_level_folders(p):
    """RFC 4314 §4: a new mailbox takes its parent's ACL; a top-level one has no parent."""
    m = Imap(p, MARTIN)
    m.ok(f"SETACL INBOX {DURAND} lr")
    m.ok('CREATE "Personnel"')
    m.ok('CREATE "INBOX/Suivi"')
    assert m.ok("GETACL Personnel") in ([f'* ACL "Personnel" {MARTIN} lrswipkxtea'],
                                        [f"* ACL Personnel {MARTIN} lrswipkxtea"])
    assert m.ok('GETACL "INBOX/Suivi"')[0].endswith(f" {DURAND} lr")
    d = Imap(p, DURAND)
    assert set(listed(d.ok('LIST "" "Other Users/*"'))) == {
        f"Other Users/{MARTIN}", f"Other Users/{MARTIN}/INBOX", f"Other Users/{MARTIN}/INBOX/Suivi"}
    assert code_of(d.run(f'SELECT "Other Users/{MARTIN}/Personnel"')[0]) == ("NO", "NONEXISTENT")
    m.ok(f"DELETEACL INBOX {DURAND}")
    m.ok('DELETE "INBOX/Suivi"')
    m.ok('DELETE "Personnel"')
    assert d.ok('LIST "" "Other Users/*"') == []
    d.close()
    m.close()


def test_acl_rights_enforced(p):
    m = Imap(p, MARTIN)
    m.ok('CREATE "Equipe"')
    m.append_ok("Equipe", message("equipe 1"))
    m.append_ok("Equipe", message("equipe 2"))
    m.ok(f"SETACL Equipe {DURAND} lrs")
    name = f"Other Users/{MARTIN}/Equipe"
    d = Imap(p, DURAND)
    status, lines = d.run(f"SELECT {q(name)}")
    assert status.startswith("OK [READ-WRITE]"), status
    # Only what "s" allows is permanent (RFC 3501 §6.3.1, RFC 4314 §4).
    assert "* OK [PERMANENTFLAGS (\\Seen)] Flags permitted" in lines, lines
    d.ok("STORE 1 +FLAGS (\\Seen)")
    assert code_of(d.run("STORE 1 +FLAGS (\\Flagged)")[0]) == ("NO", "NOPERM")     # needs "w"
    assert code_of(d.run("STORE 1 +FLAGS (\\Deleted)")[0]) == ("NO", "NOPERM")     # needs "t"
    assert code_of(d.run("EXPUNGE")[0]) == ("NO", "NOPERM")                        # needs "e"
    assert code_of(d.run("MOVE 1 INBOX")[0]) == ("NO", "NOPERM")
    # +/- modifications (RFC 4314 §3.1), written in a canonical order.
    m.ok(f"SETACL Equipe {DURAND} +wite")
    assert m.ok("GETACL Equipe")[0].endswith(f" {DURAND} lrswite")
    m.ok(f"SETACL Equipe {DURAND} -se")
    assert m.ok("GETACL Equipe")[0].endswith(f" {DURAND} lrwit")
    d.ok("UNSELECT")
    lines = d.ok(f"SELECT {q(name)}")
    assert "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Draft \\*)] Flags permitted" in lines, lines
    d.ok("STORE 2 +FLAGS (\\Flagged \\Deleted)")
    assert code_of(d.run("STORE 2 +FLAGS (\\Seen)")[0]) == ("NO", "NOPERM")
    assert code_of(d.run("EXPUNGE")[0]) == ("NO", "NOPERM")
    d.append_ok(name, message("appended by durand"))
    # "a" lets a non-owner change the ACL.
    assert code_of(d.run(f"SETACL {q(name)} anyone l")[0]) == ("NO", "NOPERM")
    m.ok(f"SETACL Equipe {DURAND} +a")
    d.ok(f"SETACL {q(name)} anyone lr")
    assert any(line.endswith(" anyone lr") or " anyone lr " in line for line in d.ok(f"GETACL {q(name)}"))
    # Refusals: unknown identifier, unknown right, the owner's rights.
    assert m.run(f"SETACL Equipe nobody@{DOMAIN} lr")[0].startswith("NO")
    assert m.run(f"SETACL Equipe {DURAND} lrZ")[0].startswith("BAD")
    assert m.run(f"SETACL Equipe {MARTIN} lr")[0].startswith("NO")
    assert m.run(f"DELETEACL Equipe nobody@{DOMAIN}")[0].startswith("NO")
    assert m.ok("GETACL Equipe")[0].count(DURAND) == 1
    # "anyone" reaches every user, here dr.rename.
    r = Imap(p, RENAME_USER)
    assert listed(r.ok('LIST "" "Other Users/*"'))[name] == {"\\HasNoChildren"}
    assert r.ok(f"MYRIGHTS {q(name)}") == [f"* MYRIGHTS {q(name)} lr"]
    m.ok("DELETEACL Equipe anyone")
    assert r.ok('LIST "" "Other Users/*"') == []
    for c in (r, d, m):
        c.close()


# --- quota (RFC 9208) ----------------------------------------------------------

def quota_of(c, mailbox="INBOX"):
    lines = c.ok(f"GETQUOTAROOT {q(mailbox)}")
    assert len(lines) == 2, lines
    assert lines[0] in (f'* QUOTAROOT {q(mailbox)} ""', f'* QUOTAROOT {mailbox} ""'), lines
    m = re.match(r'^\* QUOTA "" \(STORAGE (\d+) (\d+)\)$', lines[1])
    assert m, lines
    return int(m.group(1)), int(m.group(2))


def test_quota_reporting(p):
    c = Imap(p, MARTIN)
    used, limit = quota_of(c)
    assert limit == 1024 * 1024                 # 1024 MiB, in KiB
    c.ok('CREATE "Quota"')
    c.append_ok("Quota", message("big", size=40 * 1024))
    used2, _ = quota_of(c)
    assert 40 <= used2 - used <= 42
    assert c.ok('GETQUOTA ""') == [f'* QUOTA "" (STORAGE {used2} {limit})']
    assert quota_of(c, "Quota") == (used2, limit)
    assert code_of(c.run('GETQUOTA "nobody"')[0]) == ("NO", "NONEXISTENT")
    assert c.run('SETQUOTA "" (STORAGE 10)')[0].startswith("NO")
    c.ok('DELETE "Quota"')
    assert quota_of(c)[0] == used
    c.close()


def test_over_quota(p):
    c = Imap(p, QUOTA_USER)
    assert quota_of(c) == (0, 1024)
    c.append_ok("INBOX", message("half", size=600 * 1024))
    status, _ = c.append("INBOX", message("too much", size=600 * 1024))
    assert code_of(status) == ("NO", "OVERQUOTA"), status
    # The session goes on; a copy over quota is refused as well.
    c.ok("SELECT INBOX")
    assert code_of(c.run("COPY 1 Archive")[0]) == ("NO", "OVERQUOTA")
    assert status_of(c, "Archive", "MESSAGES")["MESSAGES"] == 0
    used, _ = quota_of(c)
    assert 600 <= used <= 602
    c.close()


# --- concurrent sessions --------------------------------------------------------

def test_other_sessions_changes_reach_a_selected_session(p):
    a, b = Imap(p, MARTIN), Imap(p, MARTIN)
    a.ok('CREATE "Concurrence"')
    a.append_ok("Concurrence", message("c1"))
    info = select(a, "Concurrence")
    assert info["exists"] == 1
    assert "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted" in info["lines"]
    b.ok('SELECT "Concurrence"')
    # B appends into the mailbox A has selected.
    uid2 = b.append_ok("Concurrence", message("c2"))
    assert "* 2 EXISTS" in a.ok("NOOP")
    # B stores flags.
    b.ok("STORE 1 +FLAGS (\\Flagged)")
    flags = [line for line in a.ok("NOOP") if " FETCH " in line]
    assert len(flags) == 1 and re.match(r"^\* 1 FETCH \(FLAGS \(([^)]*)\)\)$", flags[0]), flags
    assert "\\Flagged" in flags[0]
    # B expunges: A hears nothing during FETCH, STORE or SEARCH (RFC 3501 §7.4.1) ...
    b.ok("STORE 1 +FLAGS (\\Deleted)")
    b.ok("EXPUNGE")
    for command in ("FETCH 1:* (FLAGS)", "STORE 2 +FLAGS (\\Answered)", "SEARCH ALL"):
        lines = a.ok(command)
        assert not any(line.endswith(" EXPUNGE") for line in lines), (command, lines)
    # ... and at the next NOOP.
    assert "* 1 EXPUNGE" in a.ok("NOOP")
    assert a.ok("FETCH 1 (UID)") == [f"* 1 FETCH (UID {uid2})"]
    # UIDs are never given again.
    uid3 = b.append_ok("Concurrence", message("c3"))
    assert uid3 > uid2
    lines = a.ok("NOOP")
    assert "* 2 EXISTS" in lines
    assert a.ok("UID SEARCH ALL") == [f"* SEARCH {uid2} {uid3}"]
    # A appends into its own selected mailbox: told at once.
    status, lines = a.append("Concurrence", message("c4"))
    assert status.startswith("OK") and "* 3 EXISTS" in lines
    a.close()
    b.close()


def test_concurrent_appends_get_distinct_uids_and_are_all_told(p):
    import threading
    watcher = Imap(p, MARTIN)
    watcher.ok('CREATE "Rafale"')
    watcher.ok('SELECT "Rafale"')
    tag = watcher.send("IDLE")
    assert watcher.line().startswith("+ ")
    uids, errors = [], []

    def writer(n):
        try:
            c = Imap(p, MARTIN)
            for i in range(8):
                uids.append(c.append_ok("Rafale", message(f"rafale {n}.{i}")))
            c.close()
        except Exception as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sorted(uids) == list(range(1, 33))
    deadline = time.time() + 3
    told = 0
    while told < 32 and time.time() < deadline:
        if m := re.match(r"^\* (\d+) EXISTS$", watcher.line()):
            told = int(m.group(1))
    assert told == 32
    watcher.send_raw("DONE\r\n")
    assert watcher.until(tag)[0].startswith("OK")
    assert watcher.ok("UID SEARCH ALL") == ["* SEARCH " + " ".join(str(u) for u in range(1, 33))]
    watcher.close()


def test_expunge_is_told_on_uid_commands(p):
    a, b = Imap(p, MARTIN), Imap(p, MARTIN)
    a.ok('CREATE "Concurrence2"')
    for i in range(3):
        a.append_ok("Concurrence2", message(f"d{i}"))
    a.ok('SELECT "Concurrence2"')
    b.ok('SELECT "Concurrence2"')
    b.ok("STORE 2 +FLAGS.SILENT (\\Deleted)")
    b.ok("EXPUNGE")
    # UID commands may tell (RFC 3501 §7.4.1); the appended messages are \Recent in A, the first to select.
    assert a.ok("UID FETCH 1:* (FLAGS)") == [
        "* 2 EXPUNGE", "* 1 FETCH (UID 1 FLAGS (\\Recent))", "* 2 FETCH (UID 3 FLAGS (\\Recent))"]
    a.close()
    b.close()


# --- IDLE (RFC 2177) --------------------------------------------------------------

def test_idle_wakes_on_delivery(p):
    a = Imap(p, MARTIN)
    exists = select(a, "INBOX")["exists"]
    tag = a.send("IDLE")
    assert a.line().startswith("+ ")
    s = p.smtp()
    s.login(DURAND, PASSWORDS[DURAND])
    s.sendmail(DURAND, [MARTIN], message("idle wake-up"))
    delivered = time.monotonic()
    line = a.line()
    woke = time.monotonic() - delivered
    s.quit()
    assert line == f"* {exists + 1} EXISTS", line
    assert woke < 1.0, woke
    a.send_raw("DONE\r\n")
    status, lines = a.until(tag)
    assert status.startswith("OK"), status
    assert not any("EXISTS" in line for line in lines), lines
    print(f"IDLE woke {woke * 1000:.0f} ms after delivery")
    a.close()


def test_idle_ends_when_the_mailbox_is_deleted(p):
    a, b = Imap(p, MARTIN), Imap(p, MARTIN)
    a.ok('CREATE "Ephemere"')
    a.ok('SELECT "Ephemere"')
    a.send("IDLE")
    assert a.line().startswith("+ ")
    b.ok('DELETE "Ephemere"')
    assert a.line().startswith("* BYE ")
    with pytest.raises((EOFError, ConnectionError)):
        a.line()
    a.close()
    b.close()


def test_idle_states(p):
    c = Imap(p)
    assert c.run("IDLE")[0].startswith("BAD")
    c.close()
    c = Imap(p, MARTIN)                      # authenticated, nothing selected: allowed
    tag = c.send("IDLE")
    assert c.line().startswith("+ ")
    c.send_raw("DONE\r\n")
    assert c.until(tag)[0].startswith("OK")
    tag = c.send("IDLE")
    assert c.line().startswith("+ ")
    c.send_raw("NOTDONE\r\n")
    assert c.until(tag)[0].startswith("BAD")
    c.ok("NOOP")                              # the session goes on
    c.close()


# --- CONDSTORE / QRESYNC (RFC 7162) -----------------------------------------------

def modseq_of(line):
    return int(re.search(r"MODSEQ \((\d+)\)", line).group(1))


def test_condstore_and_qresync(p):
    c = Imap(p, MARTIN)
    c.ok('CREATE "Synchro"')
    for i in range(4):
        c.append_ok("Synchro", message(f"s{i}"))
    assert any("QRESYNC" in line for line in c.ok("ENABLE QRESYNC"))
    info = select(c, "Synchro")
    uidvalidity, m0 = info["UIDVALIDITY"], info["HIGHESTMODSEQ"]
    assert status_of(c, "Synchro", "HIGHESTMODSEQ")["HIGHESTMODSEQ"] == m0

    lines = c.ok("STORE 1 +FLAGS (\\Seen)")
    assert len(lines) == 1 and re.match(r"^\* 1 FETCH \(UID 1 FLAGS \(\\Seen( \\Recent)?\) MODSEQ \(\d+\)\)$", lines[0]) \
        or re.match(r"^\* 1 FETCH \(FLAGS \(\\Seen( \\Recent)?\) MODSEQ \(\d+\)\)$", lines[0]), lines
    m1 = modseq_of(lines[0])
    assert m1 > m0
    c.ok("STORE 3 +FLAGS.SILENT (\\Deleted)")
    lines = c.ok("EXPUNGE")
    assert lines == ["* VANISHED 3"], lines      # QRESYNC: VANISHED instead of EXPUNGE
    m2 = status_of(c, "Synchro", "HIGHESTMODSEQ")["HIGHESTMODSEQ"]
    assert m2 > m1

    # CHANGEDSINCE: only what changed after m0.
    lines = c.ok(f"FETCH 1:* (FLAGS) (CHANGEDSINCE {m0})")
    assert len(lines) == 1 and lines[0].startswith("* 1 FETCH (") and f"MODSEQ ({m1})" in lines[0], lines
    assert c.ok(f"FETCH 1:* (FLAGS) (CHANGEDSINCE {m2})") == []
    # SEARCH MODSEQ.
    assert c.ok(f"SEARCH MODSEQ {m0 + 1}") == [f"* SEARCH 1 (MODSEQ {m1})"]
    # UNCHANGEDSINCE: message 1 changed after m0 → MODIFIED, message 2 stored.
    status, lines = c.run(f"STORE 1:2 (UNCHANGEDSINCE {m0}) +FLAGS (\\Flagged)")
    assert status.startswith("OK [MODIFIED 1]"), status
    assert len(lines) == 1 and lines[0].startswith("* 2 FETCH (") and "\\Flagged" in lines[0], lines
    m3 = modseq_of(lines[0])
    assert m3 > m2
    # UID FETCH ... (CHANGEDSINCE n VANISHED).
    lines = c.ok(f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {m0} VANISHED)")
    assert lines[0] == "* VANISHED (EARLIER) 3", lines
    assert {re.match(r"^\* \d+ FETCH \(UID (\d+)", l).group(1) for l in lines[1:]} == {"1", "2"}, lines
    c.close()

    # A fresh session resynchronises in its SELECT.
    r = Imap(p, MARTIN)
    r.ok("ENABLE QRESYNC")
    info = select(r, "Synchro", f" (QRESYNC ({uidvalidity} {m0}))")
    lines = info["lines"]
    assert "* VANISHED (EARLIER) 3" in lines, lines
    fetches = [l for l in lines if " FETCH " in l]
    assert len(fetches) == 2, fetches
    assert re.match(rf"^\* 1 FETCH \(UID 1 FLAGS \(\\Seen\) MODSEQ \({m1}\)\)$", fetches[0]), fetches
    assert re.match(rf"^\* 2 FETCH \(UID 2 FLAGS \(\\Flagged\) MODSEQ \({m3}\)\)$", fetches[1]), fetches
    assert info["HIGHESTMODSEQ"] == m3
    # A stale UIDVALIDITY: no resynchronisation data.
    info = select(r, "Synchro", f" (QRESYNC ({uidvalidity - 1} {m0}))")
    assert not any("VANISHED" in l or " FETCH " in l for l in info["lines"]), info["lines"]
    r.close()
    # QRESYNC without ENABLE: BAD.
    n = Imap(p, MARTIN)
    assert n.run(f'SELECT "Synchro" (QRESYNC ({uidvalidity} {m0}))')[0].startswith("BAD")
    n.close()


def test_status_highestmodseq_enables_condstore(p):
    """RFC 7162 §3.1: STATUS (HIGHESTMODSEQ) is a CONDSTORE enabling command; MODSEQ then
    comes with every flag change told."""
    a, b = Imap(p, MARTIN), Imap(p, MARTIN)
    a.ok('CREATE "Modseq"')
    a.append_ok("Modseq", message("m"))
    a.ok('SELECT "Modseq"')
    b.ok('SELECT "Modseq"')
    b.ok("STORE 1 +FLAGS (\\Answered)")
    assert [l for l in a.ok("NOOP") if "FETCH" in l] == ["* 1 FETCH (FLAGS (\\Answered \\Recent))"]
    a.ok('STATUS "INBOX" (HIGHESTMODSEQ)')
    b.ok("STORE 1 +FLAGS (\\Flagged)")
    fetches = [l for l in a.ok("NOOP") if "FETCH" in l]
    assert len(fetches) == 1 and re.match(r"^\* 1 FETCH \(FLAGS \(\\Answered \\Flagged \\Recent\) MODSEQ \(\d+\)\)$",
                                          fetches[0]), fetches
    a.close()
    b.close()


# --- audit events -------------------------------------------------------------------

def wait_events(p, since, wanted, complete=lambda rows: True):
    """Events after `since` once every type in `wanted` is there and `complete(rows)`
    holds (recordEvent is asynchronous)."""
    deadline = time.time() + 3
    while True:
        rows = events(p, since)
        if (wanted <= {row[1] for row in rows} and complete(rows)) or time.time() > deadline:
            return rows
        time.sleep(0.05)


def test_audit_events(p):
    since = last_event_id(p)
    c = Imap(p, MARTIN)
    c.ok('CREATE "Audit"')
    uid = c.append_ok("Audit", message("audit"))
    c.append_ok("Audit", message("audit 2"))
    c.ok('SELECT "Audit"')
    c.ok(f"UID FETCH {uid} (BODY[])")
    c.ok(f"UID COPY {uid} INBOX")
    c.ok('CREATE "Audit2"')
    c.ok(f"UID MOVE {uid + 1} Audit2")
    c.ok(f"UID STORE {uid} +FLAGS (\\Deleted)")
    c.ok("EXPUNGE")
    c.ok(f"SETACL Audit {DURAND} lr")
    c.ok('RENAME "Audit2" "Audit3"')
    c.ok("UNSELECT")
    c.ok('DELETE "Audit"')
    wanted = {"auth.login", "mailbox.created", "message.appended", "mailbox.select", "message.read",
              "message.copied", "message.moved", "message.expunged", "acl.changed", "mailbox.renamed",
              "mailbox.deleted"}
    rows = wait_events(p, since, wanted)
    by_type = {}
    for row in rows:
        by_type.setdefault(row[1], []).append(row)
    assert wanted <= set(by_type), set(by_type)
    for type_, rows_of_type in by_type.items():
        for _, _, actor, client, _, outcome, _ in rows_of_type:
            assert actor == MARTIN and client == "127.0.0.1" and outcome == "success", (type_, rows_of_type)

    def one(type_, obj, needle=""):
        found = [row for row in by_type[type_] if row[4] == obj and needle in row[6].replace(" ", "")]
        assert len(found) == 1, (type_, obj, by_type[type_])
        return found[0][6]

    # (A login of the previous test may be logged after `since`: the log is written asynchronously.)
    logins = [row for row in by_type["auth.login"] if row[4] == MARTIN]
    assert logins and '"mechanism":"LOGIN"' in logins[-1][6].replace(" ", "") and "imaps" in logins[-1][6]
    assert one("mailbox.created", "Audit")
    assert one("message.appended", "Audit", f'"uid":{uid},')
    assert one("message.appended", "Audit", f'"uid":{uid + 1},')
    assert one("mailbox.select", "Audit")
    assert f'"uids":"{uid}"' in one("message.read", "Audit").replace(" ", "")
    assert f'"uids":"{uid}"' in one("message.copied", "Audit").replace(" ", "")
    assert f'"uids":"{uid + 1}"' in one("message.moved", "Audit").replace(" ", "")
    assert f'"uids":"{uid}"' in one("message.expunged", "Audit").replace(" ", "")
    detail = one("acl.changed", "Audit")
    assert DURAND in detail and '"lr"' in detail
    assert "Audit3" in one("mailbox.renamed", "Audit2")
    assert one("mailbox.deleted", "Audit") is not None

    # RFC 9051 §6.1.3: LOGOUT ends the session, and its auth.logout says so (the
    # sessions of earlier tests, closed without LOGOUT, say "closed").
    c.ok("LOGOUT")
    c.close()
    logout = '"reason":"logout"'
    rows = wait_events(p, since, wanted | {"auth.logout"},
                       lambda rows: any(r[1] == "auth.logout" and logout in r[6] for r in rows))
    logouts = [row for row in rows if row[1] == "auth.logout"]
    assert all(row[2] == MARTIN and row[4] == MARTIN and row[5] == "success" for row in logouts), logouts
    assert [row[6].replace(" ", "") for row in logouts if logout in row[6]] == ['{"service":"imaps","reason":"logout"}']


# --- robustness ---------------------------------------------------------------------

def test_unauthenticated_connection_times_out(p):
    """[limits] imap_login_timeout (2 s here) applies before login only."""
    authenticated = Imap(p, MARTIN)
    c = Imap(p, service="imap")
    assert c.greeting.startswith("* OK ")
    started = time.monotonic()
    lines = []
    with pytest.raises((EOFError, ConnectionError)):
        while True:
            lines.append(c.line())
    elapsed = time.monotonic() - started
    assert 1.5 <= elapsed <= 4, elapsed
    assert lines and lines[-1].startswith("* BYE"), lines
    c.close()
    time.sleep(0.5)
    authenticated.ok("NOOP")                 # idle for longer than 2 s, still there
    authenticated.close()


def test_list_patterns_with_many_wildcards_stay_fast(p):
    c = Imap(p, MARTIN)
    pattern = "*%" * 200 + "qzq"
    started = time.monotonic()
    assert c.ok(f'LIST "" "{pattern}"') == []
    c.ok(f'LIST "" "{"*" * 500}"')
    assert time.monotonic() - started < 1.0
    c.close()


def test_imaplib_client_view(p):
    """A standard client: LIST, SELECT, APPEND, FETCH and IDLE-less polling."""
    m = p.imap(user=MARTIN, password=PASSWORDS[MARTIN])
    typ, data = m.create("Bo&AO4-te2")
    assert typ == "OK"
    typ, data = m.list('""', '"Bo&AO4-te2"')
    assert typ == "OK" and data == [b'(\\HasNoChildren) "/" "Bo&AO4-te2"'], data
    typ, data = m.append('"Bo&AO4-te2"', "(\\Seen)", None, message("imaplib"))
    assert typ == "OK" and data[0].startswith(b"[APPENDUID ")
    typ, data = m.select('"Bo&AO4-te2"')
    assert typ == "OK" and data == [b"1"]
    typ, data = m.fetch("1", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    flat = b"".join(part if isinstance(part, bytes) else b"".join(part) for part in data)
    assert typ == "OK" and b"Subject: imaplib" in flat and b"\\Seen" in flat
    typ, data = m.getquotaroot("INBOX")
    assert typ == "OK"
    typ, data = m.myrights('"Bo&AO4-te2"')
    assert typ == "OK" and data == [b'"Bo&AO4-te2" lrswipkxtea']
    m.logout()
