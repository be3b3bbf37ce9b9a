"""Configuration: read once from the environment, validated; a bad value is refused with one
line naming the variable. And the CLI's exit code 2 with one line on stderr."""

from __future__ import annotations

import base64

import pytest

from subledger.cli import main
from subledger.config import (
    DEFAULT_BILLING_INTERVAL,
    DEFAULT_DATABASE_URL,
    ConfigError,
    PostgresConfig,
    Settings,
    SQLiteConfig,
    parse_database_url,
)
from subledger.domain.charges import DUNNING, Dunning


def b64(size: int) -> str:
    return base64.b64encode(bytes(range(size))).decode()


def refused(environ: dict[str, str]) -> ConfigError:
    with pytest.raises(ConfigError) as error:
        Settings.from_env(environ)
    return error.value


# -- defaults ---------------------------------------------------------------------------------


def test_an_empty_environment_gives_the_defaults() -> None:
    settings = Settings.from_env({})

    assert settings.database_url == DEFAULT_DATABASE_URL == "sqlite:///./subledger.db"
    assert settings.database == SQLiteConfig(path="subledger.db")
    assert settings.kafka_bootstrap is None
    assert settings.topic_prefix == "subledger"
    assert dict(settings.api_keys) == {}
    assert settings.cipher_key is None
    assert settings.audit_key is None
    assert settings.stripe_api_key is None
    assert settings.gateways == frozenset({"sandbox"})
    assert settings.billing_interval == DEFAULT_BILLING_INTERVAL == 60
    assert settings.dunning == DUNNING == Dunning(retry_days=(3, 5, 7), final="cancel")


def test_empty_values_count_as_unset() -> None:
    settings = Settings.from_env({
        "SUBLEDGER_DATABASE_URL": "", "SUBLEDGER_TOPIC_PREFIX": "", "SUBLEDGER_API_KEYS": "",
        "SUBLEDGER_STRIPE_API_KEY": "", "SUBLEDGER_CIPHER_KEY": "",
        "SUBLEDGER_BILLING_INTERVAL": "", "SUBLEDGER_DUNNING": "",
    })

    assert settings == Settings.from_env({})


def test_variables_without_the_prefix_are_ignored() -> None:
    assert Settings.from_env({"DATABASE_URL": "mysql://x", "PORT": "abc"}) == Settings.from_env({})


# -- the database URL -------------------------------------------------------------------------


def test_a_postgresql_url_is_parsed_with_escaped_credentials_and_schema() -> None:
    url = "postgresql://ledger%40ops:p%40ss%2Fw%3Ard@db.internal:6543/subledger?schema=tenant_1"

    settings = Settings.from_env({"SUBLEDGER_DATABASE_URL": url})

    assert settings.database == PostgresConfig(
        host="db.internal", port=6543, user="ledger@ops", password="p@ss/w:rd",
        dbname="subledger", schema="tenant_1",
    )
    assert settings.database_url == url


def test_a_postgresql_url_without_port_or_schema_uses_5432_and_no_schema() -> None:
    assert parse_database_url("postgres://ada@localhost/ledger") == PostgresConfig(
        host="localhost", port=5432, user="ada", password="", dbname="ledger", schema=None
    )


def test_four_slashes_make_an_absolute_sqlite_path_and_three_a_relative_one() -> None:
    assert parse_database_url("sqlite:////var/lib/subledger/ledger.db") == SQLiteConfig(
        path="/var/lib/subledger/ledger.db"
    )
    assert parse_database_url("sqlite:///data/ledger.db") == SQLiteConfig(path="data/ledger.db")


@pytest.mark.parametrize(
    "url",
    [
        "mysql://ada:s3cr3t@localhost/ledger",  # bad scheme
        "ledger.db",  # no scheme
        "sqlite://ledger.db",  # two slashes
        "sqlite:///",  # no path
        "sqlite:///data/",  # a directory
        "postgresql://ada:s3cr3t@localhost",  # no database
        "postgresql://ada:s3cr3t@localhost/",  # no database
        "postgresql://localhost/ledger",  # no user
        "postgresql://ada:s3cr3t@/ledger",  # no host
        "postgresql://ada:s3cr3t@localhost:abc/ledger",  # bad port
        "postgresql://ada:s3cr3t@localhost:70000/ledger",  # port out of range
        "postgresql://ada:s3cr3t@localhost/ledger?sslmode=require",  # unknown query parameter
        "postgresql://ada:s3cr3t@localhost/ledger?schema=tenant-1",  # bad schema name
        "postgresql://ada:s3cr3t@localhost/ledger?schema=1tenant",  # bad schema name
        "postgresql://ada:s3cr3t@localhost/ledger?schema=a%3Bdrop",  # bad schema name
    ],
)
def test_a_bad_database_url_is_refused_naming_the_variable(url: str) -> None:
    error = refused({"SUBLEDGER_DATABASE_URL": url})

    assert error.variable == "SUBLEDGER_DATABASE_URL"
    assert str(error).startswith("SUBLEDGER_DATABASE_URL: expected ")
    assert "\n" not in str(error)
    assert "s3cr3t" not in str(error)  # the password is never echoed


def test_port_zero_in_the_database_url_is_refused() -> None:
    error = refused({"SUBLEDGER_DATABASE_URL": "postgresql://ada:pw@localhost:0/ledger"})

    assert error.variable == "SUBLEDGER_DATABASE_URL"


# -- the other variables ----------------------------------------------------------------------


def test_kafka_bootstrap_servers_are_host_port_pairs() -> None:
    settings = Settings.from_env({"SUBLEDGER_KAFKA_BOOTSTRAP": "kafka-1:9092, kafka-2.internal:19092"})

    assert settings.kafka_bootstrap == ("kafka-1:9092", "kafka-2.internal:19092")


@pytest.mark.parametrize("value", ["localhost", "kafka-1:9092,kafka-2", "kafka:", ":9092", "a:9092,,b:9092", "kafka:port"])
def test_a_kafka_bootstrap_without_a_port_is_refused(value: str) -> None:
    error = refused({"SUBLEDGER_KAFKA_BOOTSTRAP": value})

    assert error.variable == "SUBLEDGER_KAFKA_BOOTSTRAP"
    assert str(error).startswith("SUBLEDGER_KAFKA_BOOTSTRAP: ")


@pytest.mark.parametrize("value", ["kafka:99999", "kafka:0"])
def test_a_kafka_bootstrap_port_outside_1_to_65535_is_refused(value: str) -> None:
    error = refused({"SUBLEDGER_KAFKA_BOOTSTRAP": value})

    assert error.variable == "SUBLEDGER_KAFKA_BOOTSTRAP"


def test_api_keys_map_keys_to_roles() -> None:
    settings = Settings.from_env({"SUBLEDGER_API_KEYS": "k-admin:admin, k-w:writer,k-r:reader"})

    assert dict(settings.api_keys) == {"k-admin": "admin", "k-w": "writer", "k-r": "reader"}


@pytest.mark.parametrize(
    "value",
    [
        "k-admin",  # no role
        "k-admin:",  # empty role
        ":admin",  # empty key
        "k-admin:root",  # unknown role
        "k-admin:Admin",  # roles are lower case
        "k1:admin,k1:reader",  # duplicate key
        "k1:admin,",  # empty entry
    ],
)
def test_malformed_api_keys_are_refused(value: str) -> None:
    error = refused({"SUBLEDGER_API_KEYS": value})

    assert error.variable == "SUBLEDGER_API_KEYS"
    assert str(error).startswith("SUBLEDGER_API_KEYS: ")
    assert "k1" not in str(error) and "k-admin" not in str(error)  # keys are secrets


@pytest.mark.parametrize("size", [16, 24, 32])
def test_a_cipher_key_is_base64_of_16_24_or_32_bytes(size: int) -> None:
    assert Settings.from_env({"SUBLEDGER_CIPHER_KEY": b64(size)}).cipher_key == bytes(range(size))


@pytest.mark.parametrize("value", ["not base64!", "abc", b64(15), b64(31), b64(33), b64(64)])
def test_a_bad_cipher_key_is_refused(value: str) -> None:
    error = refused({"SUBLEDGER_CIPHER_KEY": value})

    assert error.variable == "SUBLEDGER_CIPHER_KEY"
    assert str(error).startswith("SUBLEDGER_CIPHER_KEY: ")


def test_a_previous_cipher_key_is_read_only_beside_a_current_one() -> None:
    both = Settings.from_env({"SUBLEDGER_CIPHER_KEY": b64(32), "SUBLEDGER_CIPHER_KEY_PREVIOUS": b64(16)})

    assert (both.cipher_key, both.cipher_key_previous) == (bytes(range(32)), bytes(range(16)))
    alone = refused({"SUBLEDGER_CIPHER_KEY_PREVIOUS": b64(32)})
    assert alone.variable == "SUBLEDGER_CIPHER_KEY_PREVIOUS" and "SUBLEDGER_CIPHER_KEY set too" in str(alone)
    bad = refused({"SUBLEDGER_CIPHER_KEY": b64(32), "SUBLEDGER_CIPHER_KEY_PREVIOUS": b64(5)})
    assert bad.variable == "SUBLEDGER_CIPHER_KEY_PREVIOUS"


def test_an_audit_key_is_the_base64_of_a_32_byte_seed() -> None:
    assert Settings.from_env({"SUBLEDGER_AUDIT_KEY": b64(32)}).audit_key == bytes(range(32))
    for value in ("%%%", b64(7), b64(33)):
        assert refused({"SUBLEDGER_AUDIT_KEY": value}).variable == "SUBLEDGER_AUDIT_KEY"


def test_an_audit_key_may_be_an_ed25519_pem_and_no_other_kind() -> None:
    from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    seed = bytes(range(32))
    pem = Ed25519PrivateKey.from_private_bytes(seed).private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    assert Settings.from_env({"SUBLEDGER_AUDIT_KEY": pem}).audit_key == seed
    escaped = pem.replace("\n", "\\n")  # as one line in an env file
    assert Settings.from_env({"SUBLEDGER_AUDIT_KEY": escaped}).audit_key == seed
    ec_pem = generate_private_key(SECP256R1()).private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    for value in (ec_pem, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"):
        error = refused({"SUBLEDGER_AUDIT_KEY": value})
        assert str(error).startswith("SUBLEDGER_AUDIT_KEY: expected an Ed25519 private key")


def test_the_tree_head_cadence_has_defaults_and_bounds() -> None:
    settings = Settings.from_env({})
    assert (settings.audit_head_events, settings.audit_head_seconds) == (1000, 60)
    settings = Settings.from_env({"SUBLEDGER_AUDIT_HEAD_EVENTS": "50", "SUBLEDGER_AUDIT_HEAD_SECONDS": "5"})
    assert (settings.audit_head_events, settings.audit_head_seconds) == (50, 5)
    for variable in ("SUBLEDGER_AUDIT_HEAD_EVENTS", "SUBLEDGER_AUDIT_HEAD_SECONDS"):
        for value in ("0", "-1", "x", "99999999"):
            assert refused({variable: value}).variable == variable


def test_a_topic_prefix_is_letters_digits_dots_dashes_and_underscores() -> None:
    assert Settings.from_env({"SUBLEDGER_TOPIC_PREFIX": "acme.billing_v-2"}).topic_prefix == "acme.billing_v-2"


@pytest.mark.parametrize("value", ["acme billing", " acme", "acme/billing", "a" * 101])
def test_a_bad_topic_prefix_is_refused(value: str) -> None:
    error = refused({"SUBLEDGER_TOPIC_PREFIX": value})

    assert error.variable == "SUBLEDGER_TOPIC_PREFIX"
    assert str(error).startswith("SUBLEDGER_TOPIC_PREFIX: ")


def test_a_projector_group_is_named_like_a_topic_prefix_and_unset_by_default() -> None:
    assert Settings.from_env({}).projector_group is None
    assert Settings.from_env({"SUBLEDGER_PROJECTOR_GROUP": "views-1"}).projector_group == "views-1"

    error = refused({"SUBLEDGER_PROJECTOR_GROUP": "views 1"})

    assert error.variable == "SUBLEDGER_PROJECTOR_GROUP"


def test_stripe_is_a_gateway_only_when_its_api_key_is_set() -> None:
    assert Settings.from_env({}).gateways == frozenset({"sandbox"})
    with_stripe = Settings.from_env({"SUBLEDGER_STRIPE_API_KEY": "sk_test_123"})
    assert with_stripe.gateways == frozenset({"sandbox", "stripe"})
    assert with_stripe.stripe_api_key == "sk_test_123"


TIMEOUTS = [("SUBLEDGER_WEBHOOK_TIMEOUT", "webhook_timeout", 10.0),
            ("SUBLEDGER_STORE_TIMEOUT", "store_timeout", 2.0),
            ("SUBLEDGER_READ_WAIT", "read_wait", 5.0)]


@pytest.mark.parametrize(("variable", "setting", "default"), TIMEOUTS)
def test_the_webhook_and_store_timeouts_are_seconds_from_a_tenth_to_300(
    variable: str, setting: str, default: float,
) -> None:
    assert getattr(Settings.from_env({}), setting) == default
    assert getattr(Settings.from_env({variable: "2.5"}), setting) == 2.5


@pytest.mark.parametrize("value", ["0", "0.01", "301", "ten", "nan", "-1"])
@pytest.mark.parametrize("variable", [variable for variable, _, _ in TIMEOUTS])
def test_a_bad_webhook_or_store_timeout_is_refused(variable: str, value: str) -> None:
    assert refused({variable: value}).variable == variable


@pytest.mark.parametrize("value, seconds", [("0", 0), ("1", 1), ("60", 60), ("86400", 86400)])
def test_the_billing_interval_is_whole_seconds_and_0_turns_the_clock_off(value: str, seconds: int) -> None:
    assert Settings.from_env({"SUBLEDGER_BILLING_INTERVAL": value}).billing_interval == seconds


@pytest.mark.parametrize("value", ["-1", "1.5", "1e3", "60s", "86401", "\u0663", "ten"])
def test_a_bad_billing_interval_is_refused_naming_what_was_expected(value: str) -> None:
    error = refused({"SUBLEDGER_BILLING_INTERVAL": value})

    assert error.variable == "SUBLEDGER_BILLING_INTERVAL"
    assert str(error) == ("SUBLEDGER_BILLING_INTERVAL: expected a whole number of seconds"
                          " from 0 (off) to 86400")


@pytest.mark.parametrize("value, days", [(None, 62), ("0", 0), ("31", 31), ("365", 365)])
def test_the_settlement_days_are_whole_days_62_unless_set_and_0_turns_the_asking_off(
        value: str | None, days: int) -> None:
    env = {} if value is None else {"SUBLEDGER_SETTLEMENT_DAYS": value}
    assert Settings.from_env(env).settlement_days == days


@pytest.mark.parametrize("value", ["-1", "1.5", "366", "7d"])
def test_bad_settlement_days_are_refused_naming_what_was_expected(value: str) -> None:
    error = refused({"SUBLEDGER_SETTLEMENT_DAYS": value})
    assert str(error) == "SUBLEDGER_SETTLEMENT_DAYS: expected a whole number of days from 0 (off) to 365"


@pytest.mark.parametrize("value, policy", [
    ("3,5,7:cancel", Dunning((3, 5, 7), "cancel")),
    ("3,5,7:unpaid", Dunning((3, 5, 7), "unpaid")),
    ("1:cancel", Dunning((1,), "cancel")),
    ("2, 10, 365:unpaid", Dunning((2, 10, 365), "unpaid")),
    ("3,5,7:cancel_write_off", Dunning((3, 5, 7), "cancel_write_off")),
])
def test_the_dunning_policy_is_retry_days_and_a_final_action(value: str, policy: Dunning) -> None:
    assert Settings.from_env({"SUBLEDGER_DUNNING": value}).dunning == policy


@pytest.mark.parametrize("value", [
    "3,5,7",  # no final action
    "3,5,7:pause",  # not a final action
    "3,5,7:Cancel",
    ":cancel",  # no retry
    "5,3:cancel",  # not increasing
    "3,3:cancel",
    "0,3:cancel",  # a retry on the day of the failure
    "3,366:cancel",  # beyond a year
    "3,,5:cancel",
    "3;5:cancel",
    "1.5:cancel",
    "3,5,7:cancel\n",
    "3,5,7:cancel_",
    "3,5,7:cancel-write-off",
])
def test_a_bad_dunning_policy_is_refused_naming_what_was_expected(value: str) -> None:
    error = refused({"SUBLEDGER_DUNNING": value})

    assert error.variable == "SUBLEDGER_DUNNING"
    assert str(error) == ("SUBLEDGER_DUNNING: expected retry days increasing from 1 to 365,"
                          " comma-separated, then :cancel or :unpaid or :cancel_write_off"
                          " (e.g. 3,5,7:cancel)")


# -- the CLI ----------------------------------------------------------------------------------


def one_line(text: str) -> str:
    assert text.endswith("\n")
    assert text.count("\n") == 1, text
    return text


def test_the_cli_refuses_an_unknown_command_with_exit_code_2(capsys) -> None:
    assert main(["frobnicate"]) == 2

    out, err = capsys.readouterr()
    assert out == ""
    assert "frobnicate" in one_line(err)
    assert err.startswith("subledger")


def test_the_cli_refuses_no_command_with_exit_code_2(capsys) -> None:
    assert main([]) == 2

    out, err = capsys.readouterr()
    assert out == ""
    one_line(err)


def test_the_cli_refuses_a_non_numeric_port_with_exit_code_2(capsys) -> None:
    assert main(["serve", "--port", "abc"]) == 2

    out, err = capsys.readouterr()
    assert out == ""
    assert "abc" in one_line(err)
    assert "--port" in err


def test_the_cli_refuses_a_bad_database_url_naming_the_variable(capsys, monkeypatch) -> None:
    monkeypatch.setenv("SUBLEDGER_DATABASE_URL", "mysql://ada:secret@localhost/ledger")

    assert main(["serve", "--port", "8123"]) == 2

    out, err = capsys.readouterr()
    assert out == ""
    assert one_line(err).startswith("subledger: SUBLEDGER_DATABASE_URL: expected ")
    assert "secret" not in err


@pytest.mark.parametrize("port", ["0", "70000"])
def test_the_cli_refuses_a_port_out_of_range(capsys, monkeypatch, tmp_path, port: str) -> None:
    import uvicorn

    import subledger.bootstrap

    def must_not_start(*args, **kwargs):
        raise AssertionError("the server must not start")

    monkeypatch.setenv("SUBLEDGER_DATABASE_URL", f"sqlite:///{tmp_path}/ledger.db")
    monkeypatch.setattr(subledger.bootstrap, "build_api", must_not_start)
    monkeypatch.setattr(uvicorn, "run", must_not_start)

    assert main(["serve", "--port", port]) == 2

    out, err = capsys.readouterr()
    assert out == ""
    assert "--port" in one_line(err)


def test_topic_partitions_and_replication_default_to_three_and_one() -> None:
    settings = Settings.from_env({})
    assert (settings.kafka_partitions, settings.kafka_replication_factor) == (3, 1)
    assert settings.kafka_timeout == 10.0


def test_topic_partitions_and_replication_are_read_from_the_environment() -> None:
    settings = Settings.from_env({"SUBLEDGER_KAFKA_PARTITIONS": "12",
                                  "SUBLEDGER_KAFKA_REPLICATION_FACTOR": "3"})
    assert (settings.kafka_partitions, settings.kafka_replication_factor) == (12, 3)


@pytest.mark.parametrize("value", ["0", "-1", "three", "1.5", "1001"])
def test_a_partition_count_that_is_not_a_small_positive_integer_is_refused(value: str) -> None:
    error = refused({"SUBLEDGER_KAFKA_PARTITIONS": value})
    assert error.variable == "SUBLEDGER_KAFKA_PARTITIONS"


@pytest.mark.parametrize("variable, value", [("SUBLEDGER_BILLING_INTERVAL", "1m"),
                                             ("SUBLEDGER_DUNNING", "3,5,7:pause")])
@pytest.mark.parametrize("command", [["serve", "--port", "8123"], ["billing", "follow"],
                                     ["billing", "run", "--until", "2026-01-01T00:00:00Z"]])
def test_the_cli_refuses_a_bad_billing_setting_naming_the_variable(
        capsys, monkeypatch, tmp_path, variable: str, value: str, command: list[str]) -> None:
    monkeypatch.setenv("SUBLEDGER_DATABASE_URL", f"sqlite:///{tmp_path}/ledger.db")
    monkeypatch.setenv(variable, value)

    assert main(command) == 2

    out, err = capsys.readouterr()
    assert out == ""
    assert one_line(err).startswith(f"subledger: {variable}: expected ")
    assert not (tmp_path / "ledger.db").exists(), "refused before the store is opened"
