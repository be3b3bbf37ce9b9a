"""The e-mail part of the configuration (and Stripe's webhook secret): read from the
environment, validated, a bad value refused with one line naming the variable."""

from __future__ import annotations

import pytest

from subledger.config import ConfigError, Settings
from subledger.mail_config import DEFAULT_FROM, MailSettings, SmtpConfig


def _mail(**environ: str) -> MailSettings:
    return Settings.from_env(environ).mail


def test_unset_means_no_emails_and_the_documented_defaults() -> None:
    assert _mail() == MailSettings(smtp=None, sender=DEFAULT_FROM, renewal_days=7,
                                   winback_coupon=None, winback_days=30)
    assert Settings.from_env({}).stripe_webhook_secret is None


@pytest.mark.parametrize(("url", "smtp"), [
    ("smtp://mail.example.com", SmtpConfig("mail.example.com", 25, False)),
    ("smtp://mail.example.com:2525", SmtpConfig("mail.example.com", 2525, False)),
    ("smtps://ops%40shop:p%3Ass@mail.example.com", SmtpConfig("mail.example.com", 465, True,
                                                              "ops@shop", "p:ss")),
])
def test_the_smtp_url_names_the_server_its_tls_and_its_login(url: str, smtp: SmtpConfig) -> None:
    assert _mail(SUBLEDGER_SMTP_URL=url).smtp == smtp


@pytest.mark.parametrize(("variable", "value"), [
    ("SUBLEDGER_SMTP_URL", "mail.example.com:25"),
    ("SUBLEDGER_SMTP_URL", "http://mail.example.com"),
    ("SUBLEDGER_SMTP_URL", "smtp://mail.example.com:99999"),
    ("SUBLEDGER_SMTP_URL", "smtp://mail.example.com/path"),
    ("SUBLEDGER_MAIL_FROM", "not an address"),
    ("SUBLEDGER_MAIL_FROM", "Shop <billing@shop"),
    ("SUBLEDGER_RENEWAL_REMINDER_DAYS", "-1"),
    ("SUBLEDGER_RENEWAL_REMINDER_DAYS", "366"),
    ("SUBLEDGER_WINBACK_DAYS", "0"),
    ("SUBLEDGER_WINBACK_DAYS", "ten"),
    ("SUBLEDGER_WINBACK_COUPON", "come back"),
])
def test_a_bad_value_is_refused_naming_its_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError) as error:
        Settings.from_env({variable: value})
    assert error.value.variable == variable
    assert str(error.value).startswith(f"{variable}: expected ")


def test_the_timing_of_the_messages_is_configurable() -> None:
    mail = _mail(SUBLEDGER_RENEWAL_REMINDER_DAYS="0", SUBLEDGER_WINBACK_COUPON="COMEBACK20",
                 SUBLEDGER_WINBACK_DAYS="45", SUBLEDGER_MAIL_FROM="Shop <billing@shop.test>")
    assert (mail.renewal_days, mail.winback_coupon, mail.winback_days, mail.sender) == (
        0, "COMEBACK20", 45, "Shop <billing@shop.test>")
    assert Settings.from_env({"SUBLEDGER_STRIPE_WEBHOOK_SECRET": "whsec_x"}).stripe_webhook_secret \
        == "whsec_x"
