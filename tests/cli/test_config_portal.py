"""The portal's settings (``SUBLEDGER_SESSION_SECRET``, ``SUBLEDGER_PORTAL_TTL``): defaults,
and values refused at start-up with one line naming the variable."""

from __future__ import annotations

import pytest

from subledger.config import DEFAULT_PORTAL_TTL, ConfigError, Settings


def test_the_portal_settings_default_to_no_secret_of_their_own_and_an_hour() -> None:
    settings = Settings.from_env({"SUBLEDGER_SESSION_SECRET": "", "SUBLEDGER_PORTAL_TTL": ""})
    assert settings.session_secret is None and settings.portal_ttl == DEFAULT_PORTAL_TTL == 3600
    given = Settings.from_env({"SUBLEDGER_SESSION_SECRET": "s" * 32, "SUBLEDGER_PORTAL_TTL": "900"})
    assert given.session_secret == b"s" * 32 and given.portal_ttl == 900


@pytest.mark.parametrize(("variable", "value"), [
    ("SUBLEDGER_SESSION_SECRET", "short"), ("SUBLEDGER_SESSION_SECRET", "x" * 31 + "\n"),
    ("SUBLEDGER_PORTAL_TTL", "59"), ("SUBLEDGER_PORTAL_TTL", "604801"),
    ("SUBLEDGER_PORTAL_TTL", "1h"), ("SUBLEDGER_PORTAL_TTL", "٣٦٠٠"),
])
def test_a_bad_portal_setting_is_refused_naming_its_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({variable: value})
    assert refused.value.variable == variable
