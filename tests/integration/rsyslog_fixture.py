"""Debian's rsyslogd as an ATNA audit record repository for the tests: an
ordinary unprivileged process on free 127.0.0.1 ports, syslog over TLS
(RFC 5425, imtcp with the "ossl" driver, client certificates required and
checked against the test CA) and over UDP (RFC 5426, imudp). Every message is
written as received, one JSON object {"input": "imtcp"|"imudp", "msg": ...}
per line, to a file the tests read.

    pki = make_pki(tmp_dir / "pki")
    with Rsyslog(tmp_dir / "rsyslog", pki) as repo:
        ... send to repo.tls_port / repo.udp_port ...
        messages = repo.wait_for(lambda ms: len(ms) >= 3)
        repo.stop(); repo.start()   # the repository going down and back
"""
import json
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Pki:
    ca: Path
    server_cert: Path  # names localhost and 127.0.0.1
    server_key: Path
    client_cert: Path  # the audit source's certificate, issued by ca
    client_key: Path
    rogue_cert: Path  # a client certificate from another CA
    rogue_key: Path


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=30)


def _issue(directory, name, subject, extensions, ca="ca"):
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", f"{name}.key",
             "-out", f"{name}.csr", "-subj", subject, cwd=directory)
    (directory / f"{name}.ext").write_text(extensions)
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key", "-set_serial",
             str(time.time_ns()), "-days", "2", "-out", f"{name}.crt", "-extfile", f"{name}.ext", cwd=directory)


def _self_signed(directory, name, subject):
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
             f"{name}.key", "-out", f"{name}.crt", "-subj", subject, "-days", "2", cwd=directory)


def make_pki(directory):
    """A test CA, the repository's server certificate, a client certificate,
    and a client certificate of a CA the repository does not trust (openssl, P-256)."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    _self_signed(d, "ca", "/O=Plexus tests/CN=ATNA test CA")
    _self_signed(d, "rogue-ca", "/O=Elsewhere/CN=Rogue CA")
    _issue(d, "server", "/O=Plexus tests/CN=localhost",
           "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    _issue(d, "client", "/O=Plexus tests/CN=plexus.audit-source.test", "extendedKeyUsage=clientAuth\n")
    _issue(d, "rogue", "/O=Elsewhere/CN=rogue.test", "extendedKeyUsage=clientAuth\n", ca="rogue-ca")
    return Pki(d / "ca.crt", d / "server.crt", d / "server.key", d / "client.crt", d / "client.key",
               d / "rogue.crt", d / "rogue.key")


def _free_port(kind):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _udp_bound(port):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind(("127.0.0.1", port))
            return False
        except OSError:
            return True


CONFIG = """\
global(workDirectory="{work}" maxMessageSize="64k"
       parser.escapeControlCharactersOnReceive="off"
       defaultNetstreamDriver="ossl"
       defaultNetstreamDriverCAFile="{pki.ca}"
       defaultNetstreamDriverCertFile="{pki.server_cert}"
       defaultNetstreamDriverKeyFile="{pki.server_key}")
module(load="imtcp" StreamDriver.Name="ossl" StreamDriver.Mode="1"
       StreamDriver.AuthMode="x509/certvalid" MaxSessions="200")
input(type="imtcp" address="127.0.0.1" port="{tls_port}")
module(load="imudp")
input(type="imudp" address="127.0.0.1" port="{udp_port}")
template(name="rawjson" type="list") {{
  constant(value="{{\\"input\\":\\"") property(name="inputname")
  constant(value="\\",\\"msg\\":\\"") property(name="rawmsg" format="json") constant(value="\\"}}\\n")
}}
action(type="omfile" file="{received}" template="rawjson" flushOnTXEnd="on" asyncWriting="off")
"""


class Rsyslog:
    """rsyslogd -n with its own configuration, work directory and pid file;
    no imuxsock/imklog (nothing of the system's logging is touched)."""

    def __init__(self, directory, pki, tls_port=None, udp_port=None):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "work").mkdir(exist_ok=True)
        self.pki = pki
        self.tls_port = tls_port or _free_port(socket.SOCK_STREAM)
        self.udp_port = udp_port or _free_port(socket.SOCK_DGRAM)
        self.received = self.dir / "received.jsonl"
        self.conf = self.dir / "rsyslog.conf"
        self.conf.write_text(CONFIG.format(work=self.dir / "work", pki=pki, tls_port=self.tls_port,
                                           udp_port=self.udp_port, received=self.received))
        self.proc = None
        self.log = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self, timeout=15):
        self.log = open(self.dir / "rsyslogd.log", "ab")
        self.proc = subprocess.Popen(["rsyslogd", "-n", "-f", str(self.conf), "-i", str(self.dir / "rsyslogd.pid")],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("rsyslogd exited: " + self.log_text())
            try:
                socket.create_connection(("127.0.0.1", self.tls_port), timeout=0.2).close()
                if _udp_bound(self.udp_port):
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("rsyslogd did not start: " + self.log_text())

    def stop(self, timeout=15):
        if not self.proc:
            return
        self.proc.terminate()
        self.proc.wait(timeout=timeout)
        self.proc = None
        self.log.close()

    def log_text(self):
        return (self.dir / "rsyslogd.log").read_text(errors="replace")

    def messages(self, input=None):
        """Every message received so far (over "imtcp", TLS, or "imudp", or both), as
        received (str, UTF-8 decoded)."""
        if not self.received.exists():
            return []
        lines = self.received.read_text(encoding="utf-8").splitlines()
        records = [json.loads(line) for line in lines if line.endswith("}")]
        return [r["msg"] for r in records if input in (None, r["input"])]

    def wait_for(self, done, timeout=10, input=None):
        """Polls messages(input) until done(messages) holds; returns them, or fails with what arrived."""
        deadline = time.time() + timeout
        while True:
            messages = self.messages(input)
            if done(messages):
                return messages
            if time.time() > deadline:
                raise AssertionError(f"rsyslog received {len(messages)} messages, not what was awaited; "
                                     f"last: {messages[-1:]!r}; log: {self.log_text()[-2000:]}")
            time.sleep(0.05)


def parse_syslog(message):
    """An RFC 5424 message as a dict: pri, version, timestamp, hostname, app, procid,
    msgid, sd ({SD-ID: {name: unescaped value}}), msg (after the BOM, if any)."""
    fields = message.split(" ", 6)
    pri, version = fields[0][1:].split(">")
    parsed = dict(pri=int(pri), version=version, timestamp=fields[1], hostname=fields[2], app=fields[3],
                  procid=fields[4], msgid=fields[5], sd={})
    rest = fields[6]
    if rest.startswith("-"):
        rest = rest[1:]
    while rest.startswith("["):
        end = 1
        while rest[end] != "]":  # RFC 5424 6.3.3: inside a value, '"', '\' and ']' come escaped
            if rest[end] == '"':
                end += 1
                while rest[end] != '"':
                    end += 2 if rest[end] == "\\" else 1
            end += 1
        element, rest = rest[1:end], rest[end + 1:]
        sd_id, _, params = element.partition(" ")
        values = {}
        while params:
            name, _, params = params.partition('="')
            value, i = "", 0
            while params[i] != '"':
                if params[i] == "\\" and params[i + 1] in '"\\]':
                    i += 1
                value += params[i]
                i += 1
            values[name.strip()] = value
            params = params[i + 1:].lstrip()
        parsed["sd"][sd_id] = values
    parsed["msg"] = rest[1:].removeprefix("\ufeff") if rest.startswith(" ") else rest
    return parsed
