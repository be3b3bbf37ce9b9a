"""The seller on invoices and credit notes (``SUBLEDGER_SELLER``): read as lines, refused at
start-up with one line naming the variable when malformed."""

from __future__ import annotations

import pytest

from subledger.cli import main
from subledger.config import DEFAULT_SELLER, ConfigError, Settings


def test_the_seller_defaults_to_subledger_and_is_read_as_lines_between_bars() -> None:
    assert Settings.from_env({}).seller == DEFAULT_SELLER == ("subledger",)
    assert Settings.from_env({"SUBLEDGER_SELLER": ""}).seller == DEFAULT_SELLER
    seller = Settings.from_env({"SUBLEDGER_SELLER": "Zoë & Co GmbH | Straße 1|10115 Berlin"}).seller
    assert seller == ("Zoë & Co GmbH", "Straße 1", "10115 Berlin")


@pytest.mark.parametrize("value", ["Acme||Berlin", "Acme| ", "Acme|\x07bell", "a\u0085b",
                                   "|".join(["line"] * 9), "x" * 101])
def test_a_bad_seller_is_refused(value: str) -> None:
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({"SUBLEDGER_SELLER": value})
    assert refused.value.variable == "SUBLEDGER_SELLER"


def test_the_cli_refuses_a_bad_seller_with_one_line_and_exit_code_2(capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SUBLEDGER_SELLER", "Acme||Berlin")

    assert main(["serve", "--port", "8123"]) == 2

    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("subledger: SUBLEDGER_SELLER: expected ")
