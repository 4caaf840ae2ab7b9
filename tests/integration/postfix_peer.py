"""Debian's Postfix as the MTA of another MSSanté operator, for the relay tests.

A private instance (postfix_harness.Postfix, run as root) receiving for its
domain over TLS with a verified client certificate only, and sending to other
operators over mandatory TLS with its own certificate as client certificate,
through the transports a test gives it."""
import contextlib
import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from postfix_harness import Postfix

OPERATOR_ORG = "Operateur Postfix"


def operator_dn(domain, org=OPERATOR_ORG):
    """The subject DN of the certificate operator_postfix() gives the MTA, as the whitelist lists it."""
    return f"CN=mx.{domain},O={org},C=FR"


class OperatorPostfix(Postfix):
    """Mutual TLS inbound for `domain` (virtual mailboxes `mailboxes`) with
    `certificate` (cert, key) and clients of `trusted_ca`; mandatory TLS outbound
    with the same certificate; `settings` override or add main.cf parameters;
    `transports` are extra smtp(8) client services, {name: "-o parameter=value ..."}."""

    def __init__(self, root, domain, mailboxes, certificate, trusted_ca, settings, transports):
        super().__init__(root, domain, mailboxes, hostname=f"mx.{domain}")
        self.transports = transports
        # Copied beside main.cf: Postfix's unprivileged processes must be able to reach them.
        for source, target in ((certificate[0], "mx.crt"), (certificate[1], "mx.key"), (trusted_ca, "ca.crt")):
            shutil.copy(source, self.etc / target)
        self.use_certificate(self.etc / "mx.crt", self.etc / "mx.key")
        self.require_client_certificates(self.etc / "ca.crt")
        self.settings.update({
            "smtpd_tls_received_header": "yes",
            "smtp_tls_security_level": "encrypt",
            "smtp_tls_mandatory_protocols": ">=TLSv1.2",
            **settings,
        })

    def master_cf(self):
        return super().master_cf() + "".join(
            f"{name} unix - - n - - smtp {options}\n" for name, options in self.transports.items())

    def maildir_messages(self, address):
        return [f.read_bytes() for f in self.maildir_files(address)]

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
def operator_postfix(domain, mailboxes, authority, trusted_ca, settings=None, transports=None):
    """A running OperatorPostfix whose certificate (operator_dn(domain)) is issued by
    `authority` (authority.Authority), accepting client certificates of `trusted_ca` (a CA file)."""
    if os.geteuid() != 0 or not shutil.which("postfix"):
        pytest.skip("Postfix runs as root from Debian's package")
    certificate = authority.issue(f"mx.{domain}", f"/C=FR/O={OPERATOR_ORG}/CN=mx.{domain}", dns_name=f"mx.{domain}")
    # Not under pytest's 0700 folders: Postfix's unprivileged processes must traverse it.
    root = Path(tempfile.mkdtemp(prefix="operator-postfix-"))
    root.chmod(0o755)
    pf = OperatorPostfix(root, domain, mailboxes, certificate, trusted_ca, settings or {}, transports or {})
    try:
        pf.start()
        yield pf
    finally:
        pf.stop()
        shutil.rmtree(root)
