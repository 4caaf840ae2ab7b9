"""Debian's Postfix as an ordinary process for the tests and benchmarks: its own
main.cf/master.cf, queue, data directory and maildirs under a temporary directory,
one smtpd on a free port of 127.0.0.1. Run as root (Postfix drops privileges)."""
import os
import pty
import pwd
import subprocess
import time
from pathlib import Path

from plexus_harness import free_port_offset

QUEUE_DIRS = ("maildrop", "incoming", "active", "deferred", "hold", "corrupt")


def read_all(fd):
    """Everything written to a pty whose writers have all exited."""
    chunks = []
    try:
        while chunk := os.read(fd, 4096):
            chunks.append(chunk)
    except OSError:  # EIO: the other side is closed
        pass
    os.close(fd)
    return b"".join(chunks)


class Postfix:
    """A private Postfix under root/name. Its smtpd requires STARTTLS (TLS 1.2+) and relays
    for 127.0.0.0/8; `mailboxes` of `domain` are delivered by virtual(8) into maildirs.
    Until start(), `settings` (main.cf) may be changed, as use_certificate(),
    require_client_certificates() and relay_to() do."""

    def __init__(self, root, domain=None, mailboxes=(), name="postfix", hostname="postfix.bench.test"):
        self.root = Path(root) / name
        self.etc, self.queue, self.maildir_base = self.root / "etc", self.root / "queue", self.root / "vmail"
        self.hostname = hostname
        self.port = free_port_offset() + 587
        for d in (self.etc, self.queue, self.root / "data", self.maildir_base):
            d.mkdir(parents=True)
        owner = pwd.getpwnam("postfix")
        # Postfix writes these as its own user (virtual(8) as the static uid below);
        # `postfix start` sets up the queue directory itself.
        for d in (self.root / "data", self.maildir_base):
            os.chown(d, owner.pw_uid, owner.pw_gid)
        # A self-signed certificate until use_certificate() gives one from a CA.
        self.certificate, self.key = self.etc / "cert.pem", self.etc / "key.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", f"/CN={hostname}", "-keyout", str(self.key), "-out", str(self.certificate)],
                       check=True, capture_output=True)
        self.settings = {
            "compatibility_level": "3.6",
            "queue_directory": self.queue,
            "data_directory": self.root / "data",
            # postfix(1) has no syslog here: the daemons log through postlogd into this file.
            "maillog_file": self.root / "maillog",
            "maillog_file_prefixes": self.root,
            "mail_owner": "postfix",
            "myhostname": hostname,
            "mydestination": "",
            "local_recipient_maps": "",
            "alias_maps": "",
            "alias_database": "",
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "mynetworks": "127.0.0.0/8",
            "smtpd_relay_restrictions": "permit_mynetworks, reject_unauth_destination",
            "smtpd_peername_lookup": "no",
            "smtpd_tls_security_level": "encrypt",
            "smtpd_tls_protocols": ">=TLSv1.2",
            "smtpd_tls_mandatory_protocols": ">=TLSv1.2",
            "smtpd_tls_cert_file": self.certificate,
            "smtpd_tls_key_file": self.key,
        }
        if domain:
            self.settings.update({
                "virtual_mailbox_domains": domain,
                "virtual_mailbox_base": self.maildir_base,
                "virtual_mailbox_maps": "inline:{ " + ", ".join(f"{m}={m}/" for m in mailboxes) + " }",
                "virtual_uid_maps": f"static:{owner.pw_uid}",
                "virtual_gid_maps": f"static:{owner.pw_gid}",
            })

    def use_certificate(self, certificate, key):
        """Presented as server certificate and, to the servers we relay to, as client certificate."""
        self.certificate, self.key = certificate, key
        self.settings.update({
            "smtpd_tls_cert_file": self.certificate,
            "smtpd_tls_key_file": self.key,
            "smtp_tls_cert_file": self.certificate,
            "smtp_tls_key_file": self.key,
        })

    def require_client_certificates(self, trusted_ca):
        """Our smtpd serves only clients whose certificate chains to trusted_ca."""
        self.settings.update({
            "smtpd_tls_CAfile": trusted_ca,
            "smtpd_tls_ask_ccert": "yes",
            "smtpd_tls_req_ccert": "yes",
        })

    def relay_to(self, domain, peer, trusted_ca):
        """Mail for `domain` goes to the Postfix `peer` over STARTTLS only (TLS 1.2+), its
        certificate chain verified against trusted_ca and its name against peer.hostname."""
        self.settings.update({
            "transport_maps": f"inline:{{ {domain}=smtp:[127.0.0.1]:{peer.port} }}",
            "smtp_tls_security_level": "secure",
            "smtp_tls_secure_cert_match": peer.hostname,
            "smtp_tls_CAfile": trusted_ca,
            "smtp_tls_protocols": ">=TLSv1.2",
            "smtp_tls_mandatory_protocols": ">=TLSv1.2",
        })

    def main_cf(self):
        return "".join(f"{name} = {value}\n" for name, value in self.settings.items())

    def master_cf(self):
        # Only the services used here; nothing chrooted (the queue is not a chroot jail).
        return f"""\
127.0.0.1:{self.port} inet n - n - - smtpd
cleanup   unix  n - n -    0 cleanup
qmgr      unix  n - n 300  1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n -    - trivial-rewrite
bounce    unix  - - n -    0 bounce
defer     unix  - - n -    0 bounce
trace     unix  - - n -    0 bounce
verify    unix  - - n -    1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -    - proxymap
showq     unix  n - n -    - showq
error     unix  - - n -    - error
retry     unix  - - n -    - error
discard   unix  - - n -    - discard
smtp      unix  - - n -    - smtp
virtual   unix  - n n -    - virtual
anvil     unix  - - n -    1 anvil
scache    unix  - - n -    1 scache
postlog   unix-dgram n - n - 1 postlogd
"""

    def postfix(self, command):
        # postfix(1) prints its errors only to a terminal (else to syslog, often absent): give it one.
        terminal, stderr = pty.openpty()
        r = subprocess.run(["postfix", "-c", str(self.etc), command], stdin=subprocess.DEVNULL,
                           stdout=stderr, stderr=stderr, timeout=60)
        os.close(stderr)
        output = read_all(terminal).decode(errors="replace")
        if r.returncode != 0:
            raise RuntimeError(f"postfix {command} failed:\n{output}{self.log_tail()}")

    def log_tail(self):
        log = self.root / "maillog"
        return "\n".join(log.read_text(errors="replace").splitlines()[-20:]) if log.exists() else ""

    def start(self):
        """Writes the configuration, starts the master; returns its pid."""
        (self.etc / "main.cf").write_text(self.main_cf())
        (self.etc / "master.cf").write_text(self.master_cf())
        self.postfix("start")
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                return int((self.queue / "pid/master.pid").read_text())
            except (OSError, ValueError):
                time.sleep(0.1)
        raise RuntimeError("postfix master did not write its pid")

    def stop(self):
        if subprocess.run(["postfix", "-c", str(self.etc), "status"], capture_output=True).returncode == 0:
            self.postfix("stop")

    def queued(self):
        return sum(1 for d in QUEUE_DIRS for f in (self.queue / d).rglob("*") if f.is_file())

    def maildir_files(self, mailbox):
        box = self.maildir_base / mailbox
        return [f for d in ("new", "cur") if (box / d).is_dir() for f in (box / d).iterdir()]

    def delivered(self, mailbox):
        return len(self.maildir_files(mailbox))

    def wait_delivery(self, mailbox, expected, timeout=120):
        """Delivery to the maildir is asynchronous: wait for the queue to drain."""
        deadline = time.time() + timeout
        while time.time() < deadline and self.delivered(mailbox) < expected and self.queued():
            time.sleep(0.5)
