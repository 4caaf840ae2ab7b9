import pytest

from plexus_harness import Plexus

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
    p.start()
    yield p
    p.stop()
