"""The SMTP edge (``SmtpSender``) against a real aiosmtpd server: a login, TLS from the first
byte with the certificate checked, and each kind of refusal sorted into "for good"
(:class:`MailRefused`) or "try later" (:class:`MailUnavailable`)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from support.live import free_port

from subledger.mail_config import SmtpConfig
from subledger.messages.smtp import MailRefused, MailUnavailable, SmtpSender

USER, PASSWORD = "billing", "s3cret"


class _Handler:
    def __init__(self) -> None:
        self.delivered: list[tuple[str, list[str]]] = []
        self.logins: list[str] = []
        self.rcpt_answer: str | None = None

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any,  # noqa: N802
                          address: str, options: list[str]) -> str:
        if self.rcpt_answer is not None:
            return self.rcpt_answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.delivered.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str,
                     auth_data: Any) -> AuthResult:
        ok = auth_data.login.decode() == USER and auth_data.password.decode() == PASSWORD
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok, handled=False)


def _certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (the CA file a client may trust) and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "subledger test smtp")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "smtp.pem", directory / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class _Server:
    def __init__(self, *, tls: ssl.SSLContext | None = None) -> None:
        self.handler = _Handler()
        self.port = free_port()
        self._controller = Controller(
            self.handler, hostname="127.0.0.1", port=self.port, ssl_context=tls,
            authenticator=self.handler.authenticate, auth_require_tls=False)
        self._controller.start()

    def sender(self, *, tls: bool = False, user: str | None = None,
               password: str | None = None) -> SmtpSender:
        return SmtpSender(SmtpConfig("127.0.0.1", self.port, tls, user, password), timeout=5)

    def close(self) -> None:
        self._controller.stop()


@pytest.fixture
def server() -> Iterator[_Server]:
    made = _Server()
    yield made
    made.close()


def _message() -> EmailMessage:
    message = EmailMessage()
    message["From"] = "billing@example.com"
    message["To"] = "ada@example.com"
    message["Subject"] = "Your receipt"
    message.set_content("Paid.")
    return message


def test_a_configured_user_logs_in_before_the_message_is_handed_over(server: _Server) -> None:
    server.sender(user=USER, password=PASSWORD).send(_message())
    assert server.handler.logins == [USER]
    assert server.handler.delivered == [("billing@example.com", ["ada@example.com"])]


def test_a_refused_login_is_unavailable_not_refused_and_nothing_is_sent(server: _Server) -> None:
    with pytest.raises(MailUnavailable, match=r"SMTP login refused \(535\)"):
        server.sender(user=USER, password="wrong").send(_message())
    assert server.handler.delivered == []


@pytest.mark.parametrize(("answer", "kind"), [
    ("550 5.1.1 No such mailbox", MailRefused),
    ("450 4.2.1 Mailbox busy", MailUnavailable),
])
def test_a_refused_recipient_is_for_good_on_5xx_and_for_later_on_4xx(
    server: _Server, answer: str, kind: type[Exception],
) -> None:
    server.handler.rcpt_answer = answer
    with pytest.raises(kind, match="recipient refused"):
        server.sender().send(_message())
    assert server.handler.delivered == []


def test_a_server_that_is_not_there_is_unavailable() -> None:
    closed = SmtpSender(SmtpConfig("127.0.0.1", free_port(), False), timeout=5)
    with pytest.raises(MailUnavailable, match="ConnectionRefusedError"):
        closed.send(_message())


def test_smtps_sends_over_tls_to_a_server_whose_certificate_is_trusted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    cert, key = _certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = _Server(tls=context)
    try:
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the system's trust, here this one CA
        server.sender(tls=True, user=USER, password=PASSWORD).send(_message())
        assert server.handler.delivered == [("billing@example.com", ["ada@example.com"])]
    finally:
        server.close()


def test_smtps_refuses_a_server_whose_certificate_is_not_trusted(tmp_path: Path) -> None:
    cert, key = _certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = _Server(tls=context)
    try:
        with pytest.raises(MailUnavailable, match="SSLCertVerificationError"):
            server.sender(tls=True, user=USER, password=PASSWORD).send(_message())
        assert server.handler.delivered == []
        assert server.handler.logins == []
    finally:
        server.close()
