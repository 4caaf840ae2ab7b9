"""Failed authentications are throttled per account (and per client address)."""
import base64

from conftest import DOMAIN

DURAND = f"ide.durand@{DOMAIN}"


def auth_plain(s, password):
    return s.docmd("AUTH", "PLAIN " + base64.b64encode(f"\0{DURAND}\0{password}".encode()).decode())


def test_account_locked_after_repeated_failures(plexus):
    for _ in range(10):
        s = plexus.smtp()
        code, text = auth_plain(s, "guess")
        assert code == 535 and b"5.7.8" in text
        s.quit()
    # Even the right password is now refused, temporarily.
    s = plexus.smtp()
    code, text = auth_plain(s, "durand-password")
    assert code == 454 and b"4.7.0" in text
    s.quit()
