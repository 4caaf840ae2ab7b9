"""A real OpenLDAP slapd from Debian for the directory tests: an ordinary process
in a temporary folder, listening on 127.0.0.1 (ldap:// with StartTLS and ldaps://),
mdb backend, the syncprov overlay (or none, for the paged fallback), the test
schema of tests/ldap, a test CA issuing its server certificate and a client
certificate for SASL EXTERNAL. Entries are seeded with ldapadd (small sets) or
slapadd (large sets, slapd stopped) and changed with ldapmodify."""
import base64
import signal
import socket
import subprocess
import time
from pathlib import Path

SLAPD = "/usr/sbin/slapd"
SCHEMA = Path(__file__).resolve().parents[1] / "ldap" / "plexus-test.schema"
SUFFIX = "dc=sante,dc=test"
PEOPLE = f"ou=people,{SUFFIX}"
ADMIN_DN = f"cn=admin,{SUFFIX}"
ADMIN_PASSWORD = "admin-secret"
READER_DN = f"cn=plexus-reader,{SUFFIX}"
READER_PASSWORD = "reader-secret"
CLIENT_CN = "plexus-sync"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_pki(folder):
    """A test CA, a server certificate for 127.0.0.1/localhost, a client certificate."""
    folder.mkdir(parents=True, exist_ok=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    _openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj",
             "/O=Plexus test LDAP/CN=Test LDAP CA", "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=folder)
    for name, subject, ext in (
            ("server", "/O=Plexus test LDAP/CN=localhost",
             "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth"),
            ("client", f"/O=Plexus test LDAP/CN={CLIENT_CN}", "extendedKeyUsage=clientAuth")):
        _openssl("req", "-new", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subject, cwd=folder)
        (folder / f"{name}.ext").write_text(ext + "\n")
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                 "-days", "2", "-extfile", f"{name}.ext", "-out", f"{name}.crt", cwd=folder)
    return folder


def _sparse_copy(source, target):
    """slapadd leaves data.mdb at the full maxsize (4 GiB), mostly zeros: copy only what is used."""
    subprocess.run(["cp", "--sparse=always", str(source), str(target)], check=True)


def person(i, **overrides):
    """Attributes of a generated PER mailbox entry; overrides replace or add (None removes)."""
    attrs = {
        "objectClass": ["inetOrgPerson", "mssanteMailbox"],
        "uid": f"ps{i:07d}",
        "cn": f"Prenom{i} Nom{i}",
        "sn": f"Nom{i}",
        "givenName": f"Prenom{i}",
        "healthNationalId": f"8{10000000000 + i}",
        "healthCivility": "DR",
        "healthProfessionCode": "10",
        "healthProfessionLabel": "Médecin",
        "healthSpecialty": "Cardiologie" if i % 2 else "Médecine générale",
        "healthPracticeMode": "Libéral",
        "structureFiness": f"75{i % 10000000:07d}",
        "structureName": f"Cabinet {i}",
        "structureAddress": f"{i % 200 + 1} rue de la Paix",
        "structureCity": "Paris" if i % 3 else "Lyon",
        "structureDepartment": "75" if i % 3 else "69",
        "mssanteAddress": f"ps{i}@sante.mssante.test",
        "mssanteMailboxType": "PER",
        "mssanteService": "",
        "mssanteHidden": "FALSE",
    }
    attrs.update(overrides)
    return {k: v for k, v in attrs.items() if v not in (None, "")}


def ldif_entry(dn, attrs):
    lines = [f"dn: {dn}"]
    for key, value in attrs.items():
        for v in value if isinstance(value, list) else [value]:
            v = str(v)
            if v.isascii() and not v.startswith((" ", ":", "<")):
                lines.append(f"{key}: {v}")
            else:
                lines.append(f"{key}:: {base64.b64encode(v.encode()).decode()}")
    return "\n".join(lines) + "\n\n"


def person_dn(i):
    return f"uid=ps{i:07d},{PEOPLE}"


class Slapd:
    def __init__(self, root, syncprov=True, size_limit=None, session_log=None):
        self.dir = Path(root)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.syncprov = syncprov
        self.size_limit = size_limit
        # syncprov-sessionlog size: with one, a cookie's refresh sends the changes it
        # logged (delete phase); without, or after a restart, a present phase over every entry.
        self.session_log = session_log
        self.pki = make_pki(self.dir / "pki")
        self.ca = self.pki / "ca.crt"
        self.client_cert, self.client_key = self.pki / "client.crt", self.pki / "client.key"
        self.port, self.tls_port = free_port(), free_port()
        self.uri = f"ldap://127.0.0.1:{self.port}"
        self.ldaps_uri = f"ldaps://127.0.0.1:{self.tls_port}"
        self.proc = None
        (self.dir / "db").mkdir(exist_ok=True)
        self.conf = self.dir / "slapd.conf"
        self.conf.write_text(self._config())
        self.reader_password_file = self.dir / "reader.password"
        self.reader_password_file.write_text(READER_PASSWORD + "\n")
        self.reader_password_file.chmod(0o600)

    def _config(self):
        limit = self.size_limit or "unlimited"
        modules = "moduleload back_mdb\n" + ("moduleload syncprov\n" if self.syncprov else "")
        overlay = "overlay syncprov\nsyncprov-checkpoint 100 5\n" if self.syncprov else ""
        if self.syncprov and self.session_log:
            overlay += f"syncprov-sessionlog {self.session_log}\n"
        return f"""include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include {SCHEMA}
modulepath /usr/lib/ldap
{modules}pidfile {self.dir}/slapd.pid
TLSCACertificateFile {self.pki}/ca.crt
TLSCertificateFile {self.pki}/server.crt
TLSCertificateKeyFile {self.pki}/server.key
TLSVerifyClient try
authz-regexp "^cn={CLIENT_CN},o=plexus test ldap$" "{READER_DN}"
database mdb
maxsize 4294967296
suffix "{SUFFIX}"
rootdn "{ADMIN_DN}"
rootpw {ADMIN_PASSWORD}
directory {self.dir}/db
index entryUUID,entryCSN,objectClass eq
limits dn.exact="{READER_DN}" size.soft={limit} size.hard={limit} size.prtotal=unlimited
access to attrs=userPassword by self write by anonymous auth by * none
access to * by users read by * none
{overlay}"""

    # --- process -------------------------------------------------------------
    def start(self, timeout=20):
        self.log = open(self.dir / "slapd.log", "ab")
        self.proc = subprocess.Popen(
            [SLAPD, "-h", f"{self.uri}/ {self.ldaps_uri}/", "-f", str(self.conf), "-d", "0"],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("slapd exited: " + (self.dir / "slapd.log").read_text(errors="replace"))
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("slapd did not start")

    def stop(self, sig=signal.SIGTERM):
        if self.proc:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=30)
            self.proc = None
            self.log.close()

    def restart(self):
        self.stop()
        return self.start()

    def configure_session_log(self, size):
        """A new syncprov-sessionlog size (None: none), applied by restarting slapd if it runs."""
        self.session_log = size
        self.conf.write_text(self._config())
        if self.proc:
            self.restart()

    # --- data ----------------------------------------------------------------
    def _tool(self, tool, ldif, *extra):
        r = subprocess.run([tool, "-x", "-H", self.uri, "-D", ADMIN_DN, "-w", ADMIN_PASSWORD, *extra],
                           input=ldif, capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            raise RuntimeError(f"{tool} failed: {r.stderr}")
        return r.stdout

    def base_ldif(self):
        return (ldif_entry(SUFFIX, {"objectClass": ["dcObject", "organization"], "dc": "sante", "o": "Sante test"})
                + ldif_entry(PEOPLE, {"objectClass": "organizationalUnit", "ou": "people"})
                + ldif_entry(READER_DN, {"objectClass": ["organizationalRole", "simpleSecurityObject"],
                                         "cn": "plexus-reader", "userPassword": READER_PASSWORD}))

    def seed(self, count, first=0):
        """The base entries and `count` generated people, with ldapadd (slapd running)."""
        ldif = self.base_ldif() + "".join(ldif_entry(person_dn(i), person(i)) for i in range(first, first + count))
        self._tool("ldapadd", ldif)

    def bulk_seed(self, count, chunk=50000, cache=None):
        """The base entries and `count` people into an empty database, with slapadd
        (offline: slapd is stopped, and started again if it was running). With a
        `cache` folder, the database seeded once is kept in cache/COUNT and copied
        from there the next times (slapadd of 1 M entries takes minutes)."""
        running = self.proc is not None
        self.stop()
        kept = Path(cache) / str(count) / "data.mdb" if cache else None
        if kept and kept.exists():
            _sparse_copy(kept, self.dir / "db" / "data.mdb")
        else:
            self._slapadd(count, chunk)
            if kept:
                kept.parent.mkdir(parents=True, exist_ok=True)
                _sparse_copy(self.dir / "db" / "data.mdb", kept.with_suffix(".partial"))
                kept.with_suffix(".partial").rename(kept)
        if running:
            self.start()

    def _slapadd(self, count, chunk):
        proc = subprocess.Popen(["/usr/sbin/slapadd", "-q", "-f", str(self.conf), "-b", SUFFIX],
                                stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            proc.stdin.write(self.base_ldif())
            for start in range(0, count, chunk):
                proc.stdin.write("".join(ldif_entry(person_dn(i), person(i))
                                         for i in range(start, min(count, start + chunk))))
            proc.stdin.close()
        except BrokenPipeError:
            pass  # slapadd stopped reading: its status and message say why
        if proc.wait() != 0:
            raise RuntimeError("slapadd failed: " + proc.stderr.read())

    def add(self, dn, attrs):
        self._tool("ldapadd", ldif_entry(dn, attrs))

    def modify(self, dn, **replace):
        """Replaces attributes (a None value deletes the attribute)."""
        lines = [f"dn: {dn}", "changetype: modify"]
        for key, value in replace.items():
            if value is None:
                lines += [f"delete: {key}", "-"]
            else:
                lines += [f"replace: {key}", f"{key}: {value}", "-"]
        self._tool("ldapmodify", "\n".join(lines) + "\n")

    def rename(self, dn, new_rdn, new_superior=None):
        lines = [f"dn: {dn}", "changetype: modrdn", f"newrdn: {new_rdn}", "deleteoldrdn: 1"]
        if new_superior:
            lines.append(f"newsuperior: {new_superior}")
        self._tool("ldapmodify", "\n".join(lines) + "\n")

    def delete(self, *dns):
        self._tool("ldapmodify", "".join(f"dn: {dn}\nchangetype: delete\n\n" for dn in dns))

    def entry_uuid(self, dn):
        out = self._tool("ldapsearch", "", "-LLL", "-b", dn, "-s", "base", "(objectClass=*)", "entryUUID")
        for line in out.splitlines():
            if line.startswith("entryUUID: "):
                return line.split(": ", 1)[1]
        raise KeyError(dn)
