"""Starts real plexusd instances for the integration tests and talks to them
with real clients (smtplib, openssl, swaks, curl)."""
import base64
import collections
import imaplib
import json
import os
import random
import re
import signal
import smtplib
import socket
import sqlite3
import ssl
import subprocess
import time
from pathlib import Path

BUILD = Path(os.environ.get("PLEXUS_BUILD_DIR", Path(__file__).resolve().parents[2] / "build"))
PLEXUSD = BUILD / "server/app/plexusd"
PLEXUSCTL = BUILD / "server/cli/plexusctl"
SERVICES = {"mx": 25, "submission": 587, "submissions": 465, "imap": 143, "imaps": 993, "http": 80}


def _port_free(port):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


# The last offsets handed out: instances made together, before any listens, must not share ports.
_recent_offsets = collections.deque(maxlen=4)
# Blocks of 1000 ports below the kernel's ephemeral range (32768 and up), so a port another
# test takes with bind(0) never lands in an instance's block.
_OFFSETS = range(10000, 32000, 1000)


def _own_offsets():
    """Under pytest-xdist each worker owns every Nth block: parallel workers never pick the same ports."""
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    return [offset for offset in _OFFSETS if (offset // 1000) % workers == worker]


def free_port_offset():
    """An offset N such that N+25, N+587, ... are all free on 127.0.0.1."""
    offsets = _own_offsets()
    for offset in random.sample(offsets, len(offsets)):
        if offset not in _recent_offsets and all(_port_free(offset + p) for p in SERVICES.values()):
            _recent_offsets.append(offset)
            return offset
    raise RuntimeError("no free port range")


def unused_port():
    """A port on 127.0.0.1 where nobody listens (connections are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Plexus:
    def __init__(self, root, domain):
        self.dir = Path(root) / domain
        self.domain = domain
        self.offset = free_port_offset()
        self.proc = None
        self.log = None
        r = self.ctl("init", "--dir", str(self.dir), "--domain", domain, "--listen", "127.0.0.1",
                     "--port-offset", str(self.offset), config=False)
        assert r.returncode == 0, r.stderr
        self.ports = {name: self.offset + p for name, p in SERVICES.items()}
        self.ca = self.dir / "pki/ca.crt"

    # --- operator side -------------------------------------------------------
    def ctl(self, *args, input=None, config=True):
        cmd = [str(PLEXUSCTL)] + (["--config", str(self.dir / "plexus.conf")] if config else []) + list(args)
        return subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=60)

    def add_mailbox(self, address, kind, ident=None, password=None):
        args = ["mailbox", "add", address, "--type", kind]
        if ident:
            args += ["--rpps" if kind in ("PER", "CAB") else "--finess", ident]
        if password:
            args.append("--password-stdin")
        r = self.ctl(*args, input=(password + "\n") if password else None)
        assert r.returncode == 0, r.stderr

    def set_config(self, section, key, value):
        conf = self.dir / "plexus.conf"
        text = conf.read_text()
        head, sep, rest = text.partition(f"[{section}]\n")
        assert sep, section
        pattern = re.compile(rf"^{key}\s*=.*$", re.M)
        rest = pattern.sub(f"{key} = {value}", rest, count=1) if pattern.search(rest) else f"{key} = {value}\n" + rest
        conf.write_text(head + sep + rest)

    def issue_cert(self, name):
        out = self.dir / "certs"
        r = self.ctl("cert", "issue", name, "--out", str(out))
        assert r.returncode == 0, r.stderr
        subject = re.search(r"^subject\s+(.*)$", r.stdout, re.M).group(1)
        return out / f"{name}.crt", out / f"{name}.key", subject

    def write_whitelist(self, entries):
        """entries: list of (domain, operator DN)."""
        ns = "https://listeblanche.mssante.fr/schema"
        domains = "".join(
            f"<Domaine><Nom>{d}</Nom><Description>test</Description>"
            f"<DNCertificatOperateur>{dn.replace('&', '&amp;').replace('<', '&lt;')}</DNCertificatOperateur>"
            f"<DateMAJ>2026-01-01T00:00:00Z</DateMAJ></Domaine>" for d, dn in entries)
        (self.dir / "whitelist.xml").write_text(
            f'<?xml version="1.0" encoding="UTF-8"?><ListeBlancheMSSante xmlns="{ns}">'
            f"<DateDeGeneration>2026-01-01T00:00:00Z</DateDeGeneration><ListeDomaines>{domains}"
            f"</ListeDomaines></ListeBlancheMSSante>")

    def operator_dn(self):
        """Our certificate's subject as `plexusctl cert show` prints it: what the whitelist lists for us."""
        r = self.ctl("cert", "show")
        assert r.returncode == 0, r.stderr
        return re.search(r"^subject\s+(.*)$", r.stdout, re.M).group(1)

    def server_dn(self):
        r = subprocess.run(["openssl", "x509", "-noout", "-subject", "-nameopt", "RFC2253,-esc_msb",
                            "-in", str(self.dir / "pki/server.crt")], capture_output=True, text=True, check=True)
        return r.stdout.strip().removeprefix("subject=")

    def messages(self, address):
        """(uid, size, subject) of INBOX messages, from `plexusctl mailbox show`."""
        r = self.ctl("mailbox", "show", address)
        assert r.returncode == 0, r.stderr
        rows = []
        in_inbox = False
        for line in r.stdout.splitlines():
            if line.startswith("INBOX"):
                in_inbox = True
            elif in_inbox and re.match(r"^\d+\s", line):
                rows.append(line)
            elif in_inbox and not line.strip():
                in_inbox = False
        return rows

    def events(self, type_, outcome, count=1, timeout=10):
        """(actor, object, detail) of the logged events of this type and outcome, in
        order, once there are `count` (sessions append them after their reply)."""
        deadline = time.time() + timeout
        while True:
            with sqlite3.connect(self.dir / "plexus.db") as db:
                rows = db.execute("SELECT actor, object, detail FROM events WHERE type = ? AND outcome = ? "
                                  "ORDER BY id", (type_, outcome)).fetchall()
            if len(rows) >= count or time.time() > deadline:
                return rows
            time.sleep(0.05)

    def message_bytes(self, address, uid):
        r = subprocess.run([str(PLEXUSCTL), "--config", str(self.dir / "plexus.conf"), "message", "cat", address,
                            str(uid)], capture_output=True, timeout=60)
        assert r.returncode == 0, r.stderr
        return r.stdout

    def metrics(self):
        """The samples of /metrics: {"name" or "name{labels}": value}."""
        host = f"mail.{self.domain}:{self.ports['http']}"
        r = subprocess.run(["curl", "-sS", "--cacert", str(self.ca), "--resolve", f"{host}:127.0.0.1",
                            f"https://{host}/metrics"], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        samples = (line.rsplit(" ", 1) for line in r.stdout.splitlines() if line and not line.startswith("#"))
        return {name: float(value) for name, value in samples}

    # --- process -------------------------------------------------------------
    def start(self):
        self.log = open(self.dir / "plexusd.log", "ab")
        self.log_start = self.log.tell()
        self.proc = subprocess.Popen([str(PLEXUSD), "--config", str(self.dir / "plexus.conf")],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("plexusd exited: " + self.log_text())
            try:
                socket.create_connection(("127.0.0.1", self.ports["http"]), timeout=0.2).close()
                socket.create_connection(("127.0.0.1", self.ports["submission"]), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("plexusd did not start: " + self.log_text())

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Stops plexusd with `sig` and returns its exit status. A SIGTERM stop
        of a running instance must end cleanly: exit status 0 and no sanitizer
        report in what it logged since start() (the ASan build reports leaks at exit)."""
        if not self.proc:
            return None
        was_running = self.proc.poll() is None
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=timeout)
        self.proc = None
        self.log.close()
        if was_running and sig == signal.SIGTERM:
            with open(self.dir / "plexusd.log", "rb") as f:
                f.seek(self.log_start)
                since_start = f.read().decode(errors="replace")
            reports = [m for m in ("Sanitizer", "runtime error:") if m in since_start]
            assert code == 0 and not reports, \
                f"plexusd did not stop cleanly (exit {code}, {reports}):\n{since_start[-6000:]}"
        return code

    def signal(self, sig):
        self.proc.send_signal(sig)

    def log_text(self):
        return (self.dir / "plexusd.log").read_text(errors="replace")

    # --- clients -------------------------------------------------------------
    def tls_context(self, cert=None, key=None):
        ctx = ssl.create_default_context(cafile=str(self.ca))
        ctx.check_hostname = False
        if cert:
            ctx.load_cert_chain(str(cert), str(key))
        return ctx

    def smtp(self, service="submission", starttls=True, cert=None, key=None, ehlo="client.test"):
        ctx = self.tls_context(cert, key)
        if service == "submissions":
            s = smtplib.SMTP_SSL("127.0.0.1", self.ports[service], local_hostname=ehlo, context=ctx, timeout=30)
        else:
            s = smtplib.SMTP("127.0.0.1", self.ports[service], local_hostname=ehlo, timeout=30)
            if starttls:
                s.starttls(context=ctx)
        s.ehlo(ehlo)
        return s

    def token(self, subject, lifetime=300, issuer=None, audience="plexus", key=None, extra=None):
        """An RS256 JWT signed by the development OpenID Connect issuer (openssl)."""
        now = int(time.time())
        claims = {"iss": issuer or f"https://mail.{self.domain}/dev-oidc", "aud": audience,
                  "SubjectNameID": subject, "iat": now, "exp": now + lifetime}
        claims.update(extra or {})
        signing_input = b64url(json.dumps({"alg": "RS256", "typ": "JWT"}).encode()) + "." + \
            b64url(json.dumps(claims).encode())
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", str(key or self.dir / "pki/oidc-issuer.key")],
                             input=signing_input.encode(), capture_output=True, check=True).stdout
        return signing_input + "." + b64url(sig)

    # IMAP
    def imap(self, ssl=True, user=None, password=None, cert=None, key=None):
        """An imaplib client trusting the instance's CA: ssl=True on the imaps port,
        ssl="starttls" on the imap port after STARTTLS, ssl=False plaintext there.
        Logged in when `user` is given."""
        ctx = self.tls_context(cert, key)
        if ssl is True:
            c = imaplib.IMAP4_SSL("127.0.0.1", self.ports["imaps"], ssl_context=ctx, timeout=30)
        else:
            c = imaplib.IMAP4("127.0.0.1", self.ports["imap"], timeout=30)
            if ssl == "starttls":
                c.starttls(ssl_context=ctx)
        if user:
            c.login(user, password)
        return c


def join_trust_space(operators, listed=(), routes=()):
    """Makes instances operators of one trust space, as `plexusctl` would: each
    trusts the others' development CA, routes their domains to their MX ports,
    and holds the same whitelist (each domain with its operator's DN, plus the
    `listed` (domain, DN) pairs). `routes`: extra (domain, "HOST:PORT") for all."""
    entries = [(p.domain, p.operator_dn()) for p in operators] + list(listed)
    for p in operators:
        p.write_whitelist(entries)
        for other in operators:
            if other is not p:
                r = p.ctl("trust", "add", str(other.ca))
                assert r.returncode == 0, r.stderr
        targets = [(o.domain, f"127.0.0.1:{o.ports['mx']}") for o in operators if o is not p] + list(routes)
        for domain, target in targets:
            r = p.ctl("route", "set", domain, target)
            assert r.returncode == 0, r.stderr


def eventually(condition, timeout=20, interval=0.1):
    """Polls `condition` until it returns something true (returned) or `timeout` seconds pass (None)."""
    deadline = time.time() + timeout
    while True:
        result = condition()
        if result or time.time() > deadline:
            return result
        time.sleep(interval)


def raw_session(host, port):
    """A plain socket reading CRLF lines, for byte-exact protocol tests."""
    return RawSession(socket.create_connection((host, port), timeout=10))


class RawSession:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def starttls(self, ctx):
        self.sock = ctx.wrap_socket(self.sock)

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode(errors="replace")

    def reply(self):
        """A whole (multi-line) reply as (code, last line text, all lines)."""
        lines = [self.line()]
        while len(lines[-1]) > 3 and lines[-1][3] == "-":
            lines.append(self.line())
        return int(lines[-1][:3]), lines[-1], lines

    def close(self):
        self.sock.close()
