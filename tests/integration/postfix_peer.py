"""Debian's Postfix as the MTA of another MSSanté operator, for the relay tests.

A private instance (own configuration, queue and maildirs; the benchmark's
`Postfix`, run as root) receiving for its domain over TLS with a verified
client certificate only, and sending to other operators over mandatory TLS
with its own client certificate, through the transports a test gives it."""
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from smtp_submission import Postfix  # noqa: E402

OPERATOR_ORG = "Operateur Postfix"


def make_ca(directory, name):
    """A self-signed test CA: (certificate, key)."""
    directory = Path(directory)
    cert, key = directory / f"{name}-ca.crt", directory / f"{name}-ca.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-sha256",
                    "-subj", f"/C=FR/O={name}/CN={name} Root CA", "-keyout", str(key), "-out", str(cert),
                    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
                   check=True, capture_output=True)
    return cert, key


def issue_certificate(ca, subject, stem):
    """A key and a certificate for serverAuth and clientAuth signed by `ca`
    (certificate, key): `stem`.crt and `stem`.key. subject: "/C=FR/O=.../CN=host"."""
    stem = Path(stem)
    key, csr, ext, cert = (stem.with_suffix(s) for s in (".key", ".csr", ".ext", ".crt"))
    host = subject.rpartition("/CN=")[2]
    subprocess.run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr),
                    "-subj", subject], check=True, capture_output=True)
    ext.write_text(f"extendedKeyUsage = serverAuth, clientAuth\nsubjectAltName = DNS:{host}\n")
    subprocess.run(["openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca[0]), "-CAkey", str(ca[1]),
                    "-CAcreateserial", "-days", "2", "-sha256", "-extfile", str(ext), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


def operator_dn(domain, org=OPERATOR_ORG):
    """The subject DN of the certificate operator_postfix() gives the MTA, as the whitelist lists it."""
    return f"CN=mx.{domain},O={org},C=FR"


class OperatorPostfix(Postfix):
    """main.cf: mutual TLS inbound for `domain` (virtual mailboxes `mailboxes`),
    mandatory TLS outbound with etc/mx.crt as client certificate; `settings`
    override or add main.cf parameters; `transports` are extra smtp(8) client
    services of master.cf, {name: "-o parameter=value ..."}."""

    def __init__(self, root, domain, mailboxes, settings, transports):
        self.domain, self.mailboxes = domain, mailboxes
        self.settings, self.transports = settings, transports
        super().__init__(root)

    def main_cf(self, owner):
        maps = ", ".join(f"{address}={address}/" for address in self.mailboxes)
        overrides = {
            "myhostname": f"mx.{self.domain}",
            "smtpd_tls_cert_file": self.etc / "mx.crt",
            "smtpd_tls_key_file": self.etc / "mx.key",
            "smtpd_tls_CAfile": self.etc / "ca.crt",
            "smtpd_tls_ask_ccert": "yes",
            "smtpd_tls_req_ccert": "yes",
            "smtpd_tls_received_header": "yes",
            "virtual_mailbox_domains": self.domain,
            "virtual_mailbox_maps": f"inline:{{ {maps} }}",
            "smtp_tls_security_level": "encrypt",
            "smtp_tls_mandatory_protocols": ">=TLSv1.2",
            "smtp_tls_cert_file": self.etc / "mx.crt",
            "smtp_tls_key_file": self.etc / "mx.key",
            **self.settings,
        }
        # Replaced, not repeated: postconf warns about each repeated name.
        kept = [line for line in super().main_cf(owner).splitlines()
                if line.partition("=")[0].strip() not in overrides]
        return "\n".join(kept + [f"{name} = {value}" for name, value in overrides.items()]) + "\n"

    def master_cf(self):
        services = ["smtp      unix  - - n -    - smtp"]
        services += [f"{name} unix - - n - - smtp {options}" for name, options in self.transports.items()]
        return super().master_cf() + "\n".join(services) + "\n"

    def maildir_messages(self, address):
        new = self.maildir_base / address / "new"
        return [f.read_bytes() for f in new.iterdir()] if new.is_dir() else []

    def maillog(self):
        log = self.root / "maillog"
        return log.read_text(errors="replace") if log.exists() else ""

    def wait_for_log(self, *texts, timeout=30):
        """The first mail log line holding every one of `texts`, once Postfix has written it."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            lines = [line for line in self.maillog().splitlines() if all(text in line for text in texts)]
            if lines:
                return lines[0]
            time.sleep(0.2)
        raise AssertionError(f"no log line with {texts!r}:\n{self.log_tail()}")


@contextlib.contextmanager
def operator_postfix(domain, mailboxes, ca, trusted_ca, settings=None, transports=None):
    """A running OperatorPostfix whose certificate (operator_dn(domain)) is
    issued by `ca` (certificate, key), accepting client certificates of
    `trusted_ca` (a CA file)."""
    if os.geteuid() != 0 or not shutil.which("postfix"):
        pytest.skip("Postfix runs as root from Debian's package")
    # Not under pytest's 0700 folders: Postfix's unprivileged processes must traverse it.
    root = Path(tempfile.mkdtemp(prefix="operator-postfix-"))
    root.chmod(0o755)
    pf = OperatorPostfix(root, domain, mailboxes, settings or {}, transports or {})
    issue_certificate(ca, f"/C=FR/O={OPERATOR_ORG}/CN=mx.{domain}", pf.etc / "mx")
    shutil.copy(trusted_ca, pf.etc / "ca.crt")
    try:
        pf.start()
        yield pf
    finally:
        pf.stop()
        shutil.rmtree(root)
