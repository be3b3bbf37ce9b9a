"""docker-compose.yml and the Dockerfile, checked as far as a machine without a Docker engine
allows: the compose file is parsed, its variables substituted as compose does, every app
service's command parsed by the real CLI parser and its environment validated by the real
``Settings.from_env``; the container health checks are run against real services."""

from __future__ import annotations

import re
import shlex
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement

from subledger import healthcheck
from subledger.cli_parser import UsageError, build_parser
from subledger.config import PostgresConfig, Settings, parse_database_url
from subledger.domain.charges import DUNNING

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
APP_SERVICES = ("api", "projector", "relay", "billing", "merkle", "mail")
SUBCOMMANDS = {"api": "serve", "projector": "project", "relay": "relay", "billing": "billing",
               "merkle": "audit", "mail": "mail"}
SERVICES = {"postgres", "kafka", *APP_SERVICES}
# What an operator must provide (``${VAR:?}`` in the file); everything else has a default.
REQUIRED = {"SUBLEDGER_API_KEYS": "ops-key:admin,dash-key:reader"}

_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


class MissingVariable(ValueError):
    pass


def interpolate(value: Any, environ: dict[str, str]) -> Any:
    """Compose's variable substitution: ``$VAR``, ``${VAR}``, ``${VAR:-default}``,
    ``${VAR-default}``, ``${VAR:?error}``, ``${VAR?error}`` and ``$$``."""
    if isinstance(value, dict):
        return {key: interpolate(item, environ) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, environ) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["bare"]
        op, arg = match["op"], match["arg"] or ""
        present = name in environ
        empty = present and environ[name] == ""
        if op in (":-", ":?"):
            missing = not present or empty
        elif op in ("-", "?"):
            missing = not present
        else:
            return environ.get(name, "")
        if not missing:
            return environ[name]
        if op.endswith("-"):
            return arg
        raise MissingVariable(f"{name}: {arg}")

    return _VARIABLE.sub(substitute, value)


def load_compose(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """The compose file as compose sees it, with ``environ`` as the shell's variables."""
    raw = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    return interpolate(raw, dict(REQUIRED) if environ is None else environ)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose()


def service_environment(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(entry.split("=", 1) for entry in environment)
    return {key: "" if value is None else str(value) for key, value in environment.items()}


def healthcheck_command(service: dict[str, Any]) -> list[str]:
    test = service["healthcheck"]["test"]
    if isinstance(test, str):
        return ["CMD-SHELL", test]
    return list(test)


# -- the services ---------------------------------------------------------------------------


def test_the_services_are_the_store_the_broker_and_the_five_processes(compose) -> None:  # type: ignore[no-untyped-def]
    assert set(compose["services"]) == SERVICES


def test_images_from_registries_are_pinned_to_a_version(compose) -> None:  # type: ignore[no-untyped-def]
    for name in ("postgres", "kafka"):
        image = compose["services"][name]["image"]
        repository, _, tag = image.partition(":")
        assert tag and tag != "latest" and re.match(r"^\d+\.\d+", tag), (
            f"{name}: pin {image!r} to a version (e.g. {repository}:1.2.3)"
        )


def test_the_five_processes_run_one_image_built_once_from_the_dockerfile(compose) -> None:  # type: ignore[no-untyped-def]
    services = compose["services"]
    assert {services[name]["image"] for name in APP_SERVICES} == {"subledger:local"}
    builders = [name for name in SERVICES if "build" in services[name]]
    assert builders == ["api"], "one service builds the image; the others reuse its tag"
    build = services["api"]["build"]
    assert (REPO / build["context"] / build["dockerfile"]).resolve() == DOCKERFILE


def test_every_service_has_a_health_check_and_restarts(compose) -> None:  # type: ignore[no-untyped-def]
    for name, service in compose["services"].items():
        command = healthcheck_command(service)
        assert command[0] in ("CMD", "CMD-SHELL") and len(command) > 1, name
        assert not service["healthcheck"].get("disable"), name
        assert service["restart"] == "unless-stopped", name


def test_processes_wait_for_healthy_dependencies(compose) -> None:  # type: ignore[no-untyped-def]
    services = compose["services"]
    for name in APP_SERVICES:
        depends_on = services[name]["depends_on"]
        assert depends_on["postgres"] == {"condition": "service_healthy"}, name
        assert all(d["condition"] == "service_healthy" for d in depends_on.values()), name
    assert services["relay"]["depends_on"]["kafka"] == {"condition": "service_healthy"}
    assert "depends_on" not in services["postgres"] and "depends_on" not in services["kafka"]


@pytest.mark.parametrize("name", APP_SERVICES)
def test_each_process_command_parses_with_the_real_cli(compose, name: str) -> None:  # type: ignore[no-untyped-def]
    """Every command, `relay` included: a command the CLI does not have yet fails here."""
    command = compose["services"][name]["command"]
    refused = None
    try:
        args = build_parser().parse_args(command)
    except UsageError as error:
        refused = str(error)
    assert refused is None, f"service {name!r}: `subledger {shlex.join(command)}` is refused by the CLI: {refused}"
    assert args.command == SUBCOMMANDS[name]


def test_the_api_listens_on_every_interface_from_two_processes_without_in_process_workers(compose) -> None:  # type: ignore[no-untyped-def]
    args = build_parser().parse_args(compose["services"]["api"]["command"])
    assert (args.host, args.port, args.no_workers, args.processes) == ("0.0.0.0", 8000, True, 2)
    assert compose["services"]["api"]["ports"] == ["8000:8000"]


@pytest.mark.parametrize("name", APP_SERVICES)
def test_each_process_environment_passes_the_real_validation(compose, name: str) -> None:  # type: ignore[no-untyped-def]
    environment = service_environment(compose["services"][name])
    assert all(key.startswith("SUBLEDGER_") for key in environment), name
    settings = Settings.from_env(environment)
    postgres = compose["services"]["postgres"]["environment"]
    assert settings.database == PostgresConfig(
        host="postgres", port=5432, user=postgres["POSTGRES_USER"],
        password=postgres["POSTGRES_PASSWORD"], dbname=postgres["POSTGRES_DB"],
    )
    assert settings.api_keys == {"ops-key": "admin", "dash-key": "reader"}
    assert settings.topic_prefix == "subledger"
    assert settings.cipher_key is None and settings.stripe_api_key is None


def test_the_billing_service_alone_runs_the_clock_every_minute_by_default(compose) -> None:  # type: ignore[no-untyped-def]
    services = compose["services"]
    args = build_parser().parse_args(services["billing"]["command"])
    assert (args.command, args.billing_command) == ("billing", "follow")
    assert Settings.from_env(service_environment(services["billing"])).billing_interval == 60
    commands = {name: build_parser().parse_args(services[name]["command"]) for name in APP_SERVICES}
    with_workers = [name for name, a in commands.items() if a.command == "serve" and not a.no_workers]
    assert with_workers == [], "the API serves HTTP only; the clock is the billing service's"


def test_every_process_pursues_failed_charges_by_the_same_dunning_policy(compose) -> None:  # type: ignore[no-untyped-def]
    policies = {name: Settings.from_env(service_environment(compose["services"][name])).dunning
                for name in APP_SERVICES}
    assert set(policies.values()) == {DUNNING}, policies


def test_the_shell_sets_the_billing_interval_and_the_dunning_policy() -> None:
    compose = load_compose({**REQUIRED, "SUBLEDGER_BILLING_INTERVAL": "300",
                            "SUBLEDGER_DUNNING": "2,4:unpaid"})
    for name in APP_SERVICES:
        settings = Settings.from_env(service_environment(compose["services"][name]))
        assert (settings.billing_interval, str(settings.dunning)) == (300, "2,4:unpaid"), name


def test_only_the_relay_talks_to_kafka_on_the_compose_network(compose) -> None:  # type: ignore[no-untyped-def]
    services = compose["services"]
    relay = service_environment(services["relay"])
    assert Settings.from_env(relay).kafka_bootstrap == ("kafka:9092",)
    assert "PLAINTEXT://kafka:9092" in services["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"]
    assert (relay["SUBLEDGER_KAFKA_PARTITIONS"], relay["SUBLEDGER_KAFKA_REPLICATION_FACTOR"]) == ("3", "1")
    for name in ("api", "projector", "billing", "merkle"):
        assert Settings.from_env(service_environment(services[name])).kafka_bootstrap is None


def test_the_shell_configures_the_processes() -> None:
    compose = load_compose({**REQUIRED, "POSTGRES_PASSWORD": "s3cret", "SUBLEDGER_TOPIC_PREFIX": "acme",
                            "SUBLEDGER_CIPHER_KEY": "A" * 43 + "=", "SUBLEDGER_API_PORT": "9000"})
    services = compose["services"]
    settings = Settings.from_env(service_environment(services["projector"]))
    assert settings.database == parse_database_url("postgresql://subledger:s3cret@postgres:5432/subledger")
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"] == "s3cret"
    assert settings.topic_prefix == "acme" and settings.cipher_key == bytes(32)
    assert services["api"]["ports"] == ["9000:8000"]


def test_the_mail_worker_runs_only_with_its_profile_and_the_smtp_server_given() -> None:
    compose = load_compose({**REQUIRED, "SUBLEDGER_SMTP_URL": "smtp://mailer:587",
                            "SUBLEDGER_WINBACK_COUPON": "COMEBACK"})
    mail = compose["services"]["mail"]
    assert mail["profiles"] == ["mail"]
    settings = Settings.from_env(service_environment(mail))
    assert (settings.mail.smtp.host, settings.mail.smtp.port) == ("mailer", 587)  # type: ignore[union-attr]
    assert settings.mail.winback_coupon == "COMEBACK"
    others = [name for name in APP_SERVICES if name != "mail"]
    assert all(Settings.from_env(service_environment(compose["services"][n])).mail.smtp is None
               for n in others), "only the mail service sends e-mails"


class _Recording(dict[str, str]):
    """An environment that remembers every variable asked of it."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: set[str] = set()

    def get(self, key, default=None):  # type: ignore[no-untyped-def, override]
        self.asked.add(key)
        return super().get(key, default)


def variables_the_processes_read() -> set[str]:
    environ = _Recording()
    Settings.from_env(environ)
    return environ.asked


def compose_doc_section() -> str:
    text = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    return text[text.index("## Docker Compose variables"):]


def documented_names(cell: str, known: set[str]) -> set[str]:
    """The variables a cell of docs/configuration.md names: `SUBLEDGER_X` in full, `_Y`
    after `SUBLEDGER_A_B...` for the known variable of the same family ending in `_Y`, and
    `..._Y` for every known variable ending in `_Y`."""
    names: set[str] = set()
    family = ""
    for name in re.findall(r"`((?:\.\.\.)?_?[A-Z][A-Z0-9_]*)`", cell):
        if name.startswith("SUBLEDGER_"):
            names.add(name)
            family = "_".join(name.split("_")[:2]) + "_"
        elif name.startswith("..._"):
            names |= {k for k in known if k.endswith(name[3:])}
        elif name.startswith("_") and family:
            (expanded,) = [k for k in known if k.startswith(family) and k.endswith(name)]
            names.add(expanded)
    return names


def test_every_service_gets_the_variables_docs_configuration_md_says(compose) -> None:  # type: ignore[no-untyped-def]
    known = variables_the_processes_read()
    services = {name: service_environment(compose["services"][name]) for name in APP_SERVICES}
    section = compose_doc_section()
    rows = [line for line in section.splitlines() if line.startswith("| `SUBLEDGER_")]
    everywhere = [row for row in rows if "for every service" in row]
    assert everywhere
    for row in everywhere:
        for variable in documented_names(row.split(" | ")[0], known):
            missing = [name for name, env in services.items() if variable not in env]
            assert missing == [], f"docker-compose.yml does not pass {variable} to {missing}"
    passed = set().union(*services.values())
    (unpassed,) = [sentence for sentence in re.split(r"\.\s", section) if "not passed through" in sentence]
    said = documented_names(unpassed, known)
    assert not said & passed, f"docs/configuration.md says {sorted(said & passed)} are not passed"
    assert sorted(known - passed - said) == [], (
        "pass these in docker-compose.yml, or say in docs/configuration.md they are not passed")


def test_the_shell_sets_when_the_merkle_follower_signs_a_tree_head() -> None:
    compose = load_compose({**REQUIRED, "SUBLEDGER_AUDIT_HEAD_EVENTS": "500",
                            "SUBLEDGER_AUDIT_HEAD_SECONDS": "30"})
    settings = Settings.from_env(service_environment(compose["services"]["merkle"]))
    assert (settings.audit_head_events, settings.audit_head_seconds) == (500, 30)
    defaults = Settings.from_env(service_environment(load_compose()["services"]["merkle"]))
    assert (defaults.audit_head_events, defaults.audit_head_seconds) == (1000, 60)


def test_api_keys_must_be_given(compose) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(MissingVariable, match="SUBLEDGER_API_KEYS"):
        load_compose({})
    with pytest.raises(MissingVariable, match="SUBLEDGER_API_KEYS"):
        load_compose({"SUBLEDGER_API_KEYS": ""})


def test_kafka_is_one_kraft_node_and_the_relay_creates_the_topics(compose) -> None:  # type: ignore[no-untyped-def]
    services = compose["services"]
    assert not any("zookeeper" in name or "zookeeper" in str(s.get("image", "")) for name, s in services.items())
    kafka = {key: str(value) for key, value in services["kafka"]["environment"].items()}
    assert not any("ZOOKEEPER" in key for key in kafka)
    assert set(kafka["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert kafka["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{kafka['KAFKA_NODE_ID']}@kafka:9093"
    assert "CONTROLLER://:9093" in kafka["KAFKA_LISTENERS"]
    assert kafka["KAFKA_CONTROLLER_LISTENER_NAMES"] == "CONTROLLER"
    assert kafka["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    for key in ("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"):
        assert kafka[key] == "1", key
    assert any(v.startswith("kafka-data:") for v in services["kafka"]["volumes"])
    assert "kafka-broker-api-versions.sh" in " ".join(healthcheck_command(services["kafka"]))


def test_postgres_keeps_its_data_in_a_named_volume_and_checks_with_pg_isready(compose) -> None:  # type: ignore[no-untyped-def]
    postgres = compose["services"]["postgres"]
    assert "postgres-data:/var/lib/postgresql/data" in postgres["volumes"]
    assert set(compose["volumes"]) == {"postgres-data", "kafka-data"}
    assert "pg_isready" in healthcheck_command(postgres)
    assert "ports" not in postgres, "the store is reached on the compose network only"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_each_process_health_check_is_one_the_image_can_run(compose, name: str) -> None:  # type: ignore[no-untyped-def]
    command = healthcheck_command(compose["services"][name])
    assert command[:4] == ["CMD", "python", "-m", "subledger.healthcheck"], name
    checks = command[4:]
    assert checks and all(c in ("store", "kafka") or c.startswith("http://") for c in checks)
    if name == "api":
        assert checks == ["http://127.0.0.1:8000/healthz"]
    if "kafka" in checks:
        assert Settings.from_env(service_environment(compose["services"][name])).kafka_bootstrap


# -- the Dockerfile ---------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines if line and not line.startswith("#")
    ]


def exec_form(argument: str) -> list[str]:
    return yaml.safe_load(argument)  # a JSON array is YAML too


def test_the_dockerfile_pins_its_base_and_runs_subledger_as_a_user() -> None:
    instructions = dockerfile_instructions()
    (base,) = [arg for op, arg in instructions if op == "FROM"]
    assert re.match(r"^python:3\.11\.\d+-slim", base), base
    users = [arg for op, arg in instructions if op == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert [exec_form(arg) for op, arg in instructions if op == "ENTRYPOINT"] == [["subledger"]]
    (cmd,) = [exec_form(arg) for op, arg in instructions if op == "CMD"]
    args = build_parser().parse_args(cmd)
    assert (args.command, args.host, args.port, args.no_workers) == ("serve", "0.0.0.0", 8000, True)
    (check,) = [arg for op, arg in instructions if op == "HEALTHCHECK"]
    assert '"subledger.healthcheck", "http://127.0.0.1:8000/healthz"' in check
    installs = [arg for op, arg in instructions if op == "RUN" and "pip install" in arg]
    assert installs and all("-e " not in arg and "[test]" not in arg for arg in installs)


def test_the_build_context_leaves_out_what_the_image_does_not_need() -> None:
    ignored = {line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()}
    assert {".git", ".venv", "tests", "**/__pycache__", "*.db"} <= ignored
    copied = {arg.split()[0].rstrip("/") for op, arg in dockerfile_instructions() if op == "COPY"}
    assert not {entry.rstrip("/") for entry in ignored} & copied


def copied_into_the_build() -> set[str]:
    """The context paths the Dockerfile's COPY instructions bring into the build (WORKDIR),
    each as a path relative to the context, without trailing slash."""
    copied: set[str] = set()
    for op, arg in dockerfile_instructions():
        if op != "COPY":
            continue
        words = [w for w in arg.split() if not w.startswith("--")]
        sources, destination = words[:-1], words[-1]
        for source in sources:
            source = source.rstrip("/")
            # `COPY x/ x/` or `COPY a b ./`: the source lands at its own path under WORKDIR.
            assert destination in ("./", ".") or destination.rstrip("/") == source, (
                f"COPY {arg}: the build expects {source} at its own path"
            )
            copied.add(source)
    return copied


def test_the_dockerfile_copies_everything_pip_install_needs() -> None:
    """`pip install .` in the image builds from pyproject.toml: every folder of its package
    mapping, its readme, and the constraints file the RUN line names must be copied in, and
    not left out of the context by .dockerignore."""
    import tomllib

    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    setuptools = pyproject["tool"]["setuptools"]
    needed = {"pyproject.toml", pyproject["project"]["readme"]}
    needed |= {folder.rstrip("/") for folder in setuptools["package-dir"].values()}
    for package in setuptools["packages"]:  # subpackages live under their parent's folder
        parent = max((p for p in setuptools["package-dir"] if package == p or package.startswith(p + ".")),
                     key=len)
        folder = Path(setuptools["package-dir"][parent], *package[len(parent):].split(".")[1:])
        assert (REPO / folder / "__init__.py").is_file(), f"{package}: no {folder}/__init__.py"
    installs = [arg for op, arg in dockerfile_instructions() if op == "RUN" and "pip install" in arg]
    for install in installs:
        needed |= set(re.findall(r"(?:--constraint|-c|--requirement|-r)[ =](\S+)", install))
    assert all((REPO / path).exists() for path in needed), needed
    copied = copied_into_the_build()
    missing = sorted(needed - copied)
    assert not missing, f"the Dockerfile does not COPY {missing}; `pip install .` fails without them"
    ignored = {line.strip().rstrip("/") for line in (REPO / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    assert not needed & ignored, f".dockerignore leaves out {sorted(needed & ignored)}"


def test_the_image_pins_every_runtime_dependency_within_its_range() -> None:
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pins = {}
    for line in (REPO / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    for dependency in map(Requirement, project["dependencies"]):
        name = re.sub(r"[-_.]+", "-", dependency.name).lower()
        assert name in pins, f"constraints.txt does not pin {name}"
        assert dependency.specifier.contains(pins[name]), f"{name}=={pins[name]} is not {dependency.specifier}"


# -- the health checks the containers run ------------------------------------------------------


def test_the_api_health_check_asks_healthz(api_url: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # The container's 3 s budget is for a probe every few seconds; a test on a loaded machine
    # proves the answers (2xx -> 0, 404 -> 1), not the server's speed.
    monkeypatch.setattr(healthcheck, "TIMEOUT", 30.0)
    assert healthcheck.main([f"{api_url}/healthz"]) == 0
    assert healthcheck.main([f"{api_url}/no-such-page"]) == 1


def test_the_store_health_check_asks_the_configured_store(settings, ledger, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SUBLEDGER_DATABASE_URL", settings.database_url)
    assert healthcheck.main(["store"]) == 0
    monkeypatch.setenv("SUBLEDGER_DATABASE_URL", "postgresql://nobody:x@127.0.0.1:1/none")
    assert healthcheck.main(["store"]) == 1


def test_the_kafka_health_check_needs_a_listening_bootstrap_server(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        monkeypatch.setenv("SUBLEDGER_KAFKA_BOOTSTRAP", f"127.0.0.1:1,127.0.0.1:{port}")
        assert healthcheck.main(["kafka"]) == 0
    monkeypatch.setenv("SUBLEDGER_KAFKA_BOOTSTRAP", f"127.0.0.1:{port}")
    assert healthcheck.main(["kafka"]) == 1
    monkeypatch.delenv("SUBLEDGER_KAFKA_BOOTSTRAP")
    assert healthcheck.main(["kafka"]) == 1


def test_the_health_check_refuses_bad_usage_and_bad_configuration(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    assert healthcheck.main([]) == 2
    assert healthcheck.main(["disk"]) == 2
    monkeypatch.setenv("SUBLEDGER_DATABASE_URL", "mysql://x")
    assert healthcheck.main(["store"]) == 2


# -- the real compose, where this machine has it ------------------------------------------------


def _docker_compose() -> list[str] | None:
    for command in (["docker", "compose"], ["docker-compose"]):
        if shutil.which(command[0]) is None:
            continue
        probe = subprocess.run([*command, "version"], capture_output=True, text=True, check=False)
        if probe.returncode == 0:
            return command
    return None


def test_docker_compose_itself_accepts_the_file() -> None:
    command = _docker_compose()
    if command is None:
        pytest.skip("neither `docker compose` nor `docker-compose` is installed here; "
                    "the file is checked by the parser above")
    env = {"PATH": "/usr/bin:/bin:/usr/local/bin", **REQUIRED}
    result = subprocess.run(
        [*command, "-f", str(COMPOSE_FILE), "config", "--format", "json"],
        capture_output=True, text=True, env=env, check=False,
    )
    assert result.returncode == 0, result.stderr
    import json

    resolved = json.loads(result.stdout)
    assert set(resolved["services"]) == SERVICES
    for name in APP_SERVICES:
        ours = service_environment(load_compose()["services"][name])
        assert service_environment(resolved["services"][name]) == ours, name
