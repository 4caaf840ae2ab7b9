import pytest

from plexus_harness import Plexus, unused_port

DOMAIN = "hopital.mssante.test"
PEER_DOMAIN = "clinique.mssante.test"
OTHER_DOMAIN = "autre-operateur.mssante.test"


@pytest.fixture(scope="module")
def plexus(tmp_path_factory):
    """A running instance with the usual kinds of mailboxes, and a whitelist
    listing a peer operator whose certificate the tests hold."""
    p = Plexus(tmp_path_factory.mktemp("plexus"), DOMAIN)
    p.add_mailbox(f"dr.martin@{DOMAIN}", "PER", "810000000001", "martin-password")
    p.add_mailbox(f"ide.durand@{DOMAIN}", "PER", "810000000002", "durand-password")
    p.add_mailbox(f"secretariat@{DOMAIN}", "ORG", "750000001")
    p.add_mailbox(f"labo@{DOMAIN}", "APP", "750000002")
    assert p.ctl("delegate", "add", f"secretariat@{DOMAIN}", f"dr.martin@{DOMAIN}").returncode == 0
    p.app_cert = p.issue_cert(f"labo@{DOMAIN}")
    p.peer_cert = p.issue_cert(f"mx.{PEER_DOMAIN}")
    p.other_cert = p.issue_cert(f"mx.{OTHER_DOMAIN}")
    p.write_whitelist([(DOMAIN, p.server_dn()), (PEER_DOMAIN, p.peer_cert[2]),
                       (OTHER_DOMAIN, p.other_cert[2])])
    p.set_config("limits", "idle_timeout", "3")
    # Mail for the listed peers waits in the queue, as tests find it: its first
    # attempt is refused at once, the next is an hour away, and the queue reads
    # the store for entries retried by plexusctl only hourly.
    for key in ("first_retry_seconds", "max_retry_seconds", "scan_seconds"):
        p.set_config("relay", key, "3600")
    nobody = unused_port()
    for domain in (PEER_DOMAIN, OTHER_DOMAIN):
        assert p.ctl("route", "set", domain, f"127.0.0.1:{nobody}").returncode == 0
    p.start()
    yield p
    p.stop()
