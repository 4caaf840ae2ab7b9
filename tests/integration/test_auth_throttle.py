"""Failed authentications are throttled per account (and per client address)."""
import smtplib

import pytest

from conftest import DOMAIN

DURAND = f"ide.durand@{DOMAIN}"


def test_account_locked_after_repeated_failures(plexus):
    s = plexus.smtp()
    for _ in range(10):
        with pytest.raises(smtplib.SMTPAuthenticationError) as e:
            s.login(DURAND, "guess")
        assert e.value.smtp_code == 535
        s.quit()
        s = plexus.smtp()
    # Even the right password is now refused, temporarily.
    code, text = s.docmd("AUTH", "PLAIN " + __import__("base64").b64encode(
        f"\0{DURAND}\0durand-password".encode()).decode())
    assert code == 454 and b"4.7.0" in text
    s.quit()
