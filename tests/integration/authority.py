"""A certificate authority made with openssl for the tests and benchmarks."""
import shutil
import subprocess
from pathlib import Path


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def subject_of(cert):
    """The subject DN as the whitelist writes it (what plexus_harness.server_dn prints)."""
    r = subprocess.run(["openssl", "x509", "-noout", "-subject", "-nameopt", "RFC2253,-esc_msb", "-in", str(cert)],
                       capture_output=True, text=True, check=True)
    return r.stdout.strip().removeprefix("subject=")


class Authority:
    """A CA made with openssl for the test, able to issue certificates and CRLs."""

    def __init__(self, folder, name, existing=None):
        """A new CA in folder/name, or one issuing with an `existing` (certificate, key),
        such as a plexusd's development CA."""
        self.dir = Path(folder) / name
        self.dir.mkdir()
        self.cert, self.key = self.dir / "ca.crt", self.dir / "ca.key"
        if existing:
            shutil.copy(existing[0], self.cert)
            shutil.copy(existing[1], self.key)
        else:
            openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
                    "-days", "30", "-subj", f"/CN={name}/O=Plexus tests/C=FR",
                    "-addext", "basicConstraints=critical,CA:TRUE",
                    "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=self.dir)
        (self.dir / "index.txt").touch()
        (self.dir / "crlnumber").write_text("01\n")
        (self.dir / "ca.cnf").write_text(
            f"[ca]\ndefault_ca = own\n[own]\ndatabase = {self.dir}/index.txt\ncrlnumber = {self.dir}/crlnumber\n"
            "default_md = sha256\ndefault_crl_days = 7\n")

    def issue(self, name, subject, dns_name="localhost"):
        """A leaf certificate (serverAuth + clientAuth: an MTA's certificate serves both ways),
        with subject alternative names dns_name and 127.0.0.1."""
        (self.dir / f"{name}.ext").write_text(
            "basicConstraints = CA:FALSE\nkeyUsage = critical,digitalSignature,keyEncipherment\n"
            f"extendedKeyUsage = clientAuth,serverAuth\nsubjectAltName = DNS:{dns_name},IP:127.0.0.1\n")
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj",
                subject, cwd=self.dir)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", f"{name}.crt", "-days", "30", "-extfile", f"{name}.ext", cwd=self.dir)
        return self.dir / f"{name}.crt", self.dir / f"{name}.key"

    def crl(self, name, revoke=(), der=False):
        """A CRL of every certificate revoked so far and those of `revoke`, in PEM or DER."""
        for cert in revoke:
            openssl("ca", "-config", "ca.cnf", "-keyfile", "ca.key", "-cert", "ca.crt", "-revoke", str(cert),
                    cwd=self.dir)
        pem = name + ".pem" if der else name
        openssl("ca", "-config", "ca.cnf", "-keyfile", "ca.key", "-cert", "ca.crt", "-gencrl", "-out", pem,
                cwd=self.dir)
        if der:
            openssl("crl", "-in", pem, "-outform", "DER", "-out", name, cwd=self.dir)
        return self.dir / name
