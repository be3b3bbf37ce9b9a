"""The PayPal, Razorpay and Authorize.net settings: off when unset, on with both credentials,
refused at start-up with one line naming the variable when half set or badly based."""

from __future__ import annotations

import pytest
from fakes import authorizenet as fake_authorizenet
from fakes import paypal as fake_paypal
from fakes import razorpay as fake_razorpay
from fakes.authorizenet import FakeAuthorizeNet
from fakes.paypal import FakePayPal
from fakes.razorpay import FakeRazorpay

from subledger.bootstrap import build_gateways
from subledger.cli import main
from subledger.commands.gateways import ChargeRequest
from subledger.config import ConfigError, GatewayCredentials, Settings

GATEWAYS = [
    ("paypal", "SUBLEDGER_PAYPAL_CLIENT_ID", "SUBLEDGER_PAYPAL_CLIENT_SECRET",
     "SUBLEDGER_PAYPAL_API_BASE", "https://api-m.paypal.com"),
    ("razorpay", "SUBLEDGER_RAZORPAY_KEY_ID", "SUBLEDGER_RAZORPAY_KEY_SECRET",
     "SUBLEDGER_RAZORPAY_API_BASE", "https://api.razorpay.com"),
    ("authorizenet", "SUBLEDGER_AUTHORIZENET_LOGIN_ID", "SUBLEDGER_AUTHORIZENET_TRANSACTION_KEY",
     "SUBLEDGER_AUTHORIZENET_API_BASE", "https://api.authorize.net"),
]


def test_every_gateway_is_off_when_its_variables_are_unset_or_empty() -> None:
    environ = {variable: "" for row in GATEWAYS for variable in row[1:4]}
    for settings in (Settings.from_env({}), Settings.from_env(environ)):
        assert settings.gateways == frozenset({"sandbox"})
        assert (settings.paypal, settings.razorpay, settings.authorizenet) == (None, None, None)


@pytest.mark.parametrize(("name", "id_var", "secret_var", "base_var", "default"), GATEWAYS)
def test_a_gateway_is_on_with_its_id_and_secret_at_its_default_api_base(
    name: str, id_var: str, secret_var: str, base_var: str, default: str,
) -> None:
    settings = Settings.from_env({id_var: "the-id", secret_var: "the-secret"})
    assert settings.gateways == frozenset({"sandbox", name})
    assert getattr(settings, name) == GatewayCredentials("the-id", "the-secret", default)
    based = Settings.from_env({id_var: "i", secret_var: "s", base_var: "http://127.0.0.1:9/"})
    assert getattr(based, name).api_base == "http://127.0.0.1:9"


@pytest.mark.parametrize(("name", "id_var", "secret_var", "base_var", "default"), GATEWAYS)
def test_an_id_without_its_secret_or_a_secret_without_its_id_is_refused(
    name: str, id_var: str, secret_var: str, base_var: str, default: str,
) -> None:
    for environ, variable in (({id_var: "i"}, secret_var), ({secret_var: "s"}, id_var),
                              ({id_var: " ", secret_var: "s"}, id_var)):
        with pytest.raises(ConfigError) as error:
            Settings.from_env(environ)
        assert error.value.variable == variable
        assert str(error.value).startswith(f"{variable}: expected ")
        assert "\n" not in str(error.value)


@pytest.mark.parametrize(("name", "id_var", "secret_var", "base_var", "default"), GATEWAYS)
@pytest.mark.parametrize("base", ["ftp://x", "api.example.com", "https://x/?q=1", "https://"])
def test_a_bad_api_base_is_refused_naming_the_variable_and_the_default(
    name: str, id_var: str, secret_var: str, base_var: str, default: str, base: str,
) -> None:
    with pytest.raises(ConfigError) as error:
        Settings.from_env({id_var: "i", secret_var: "s", base_var: base})
    assert error.value.variable == base_var
    assert default in str(error.value)


def test_the_cli_refuses_a_half_set_gateway_with_exit_code_2_and_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SUBLEDGER_RAZORPAY_KEY_ID", "rzp_test_x")
    monkeypatch.delenv("SUBLEDGER_RAZORPAY_KEY_SECRET", raising=False)
    assert main(["billing", "run", "--until", "2026-01-01T00:00:00Z"]) == 2
    err = capsys.readouterr().err.strip()
    assert "SUBLEDGER_RAZORPAY_KEY_SECRET" in err and "\n" not in err


def test_the_configured_gateways_are_built_and_charge_at_their_api_bases() -> None:
    with FakePayPal() as paypal, FakeRazorpay() as razorpay, FakeAuthorizeNet() as authorizenet:
        settings = Settings.from_env({
            "SUBLEDGER_PAYPAL_CLIENT_ID": fake_paypal.CLIENT_ID,
            "SUBLEDGER_PAYPAL_CLIENT_SECRET": fake_paypal.CLIENT_SECRET,
            "SUBLEDGER_PAYPAL_API_BASE": paypal.url,
            "SUBLEDGER_RAZORPAY_KEY_ID": fake_razorpay.KEY_ID,
            "SUBLEDGER_RAZORPAY_KEY_SECRET": fake_razorpay.KEY_SECRET,
            "SUBLEDGER_RAZORPAY_API_BASE": razorpay.url,
            "SUBLEDGER_AUTHORIZENET_LOGIN_ID": fake_authorizenet.LOGIN_ID,
            "SUBLEDGER_AUTHORIZENET_TRANSACTION_KEY": fake_authorizenet.TRANSACTION_KEY,
            "SUBLEDGER_AUTHORIZENET_API_BASE": authorizenet.url,
        })
        gateways = build_gateways(settings)
        tokens = {"paypal": ("card_ok", "USD"),
                  "razorpay": (f"{fake_razorpay.CUSTOMER}:token_ok", "INR"),
                  "authorizenet": (f"{fake_authorizenet.CUSTOMER}:1000", "USD")}
        assert sorted(gateways) == ["authorizenet", "paypal", "razorpay", "sandbox"]
        for name, (token, currency) in tokens.items():
            result = gateways[name].charge(ChargeRequest("subledger-k", 1000, currency, token, "s", "d"))
            assert gateways[name].name == name and result.succeeded
        assert paypal.captured() == razorpay.captured() == authorizenet.captured() == 1000
