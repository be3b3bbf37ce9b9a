"""Gateways that remember the money they moved, as a provider does."""

from __future__ import annotations

from collections.abc import Callable

from subledger.bootstrap import ledger_env
from subledger.commands.gateways import (
    ChargeRequest,
    ChargeResult,
    GatewayUnavailable,
    RefundRequest,
    RefundResult,
)
from subledger.commands.gateways.sandbox import SandboxGateway
from subledger.commands.ledger import Ledger
from subledger.config import Settings


class RecordingGateway(SandboxGateway):
    """The sandbox gateway, remembering each charge and refund it made by idempotency key,
    as a provider does: a second request with the same key moves no more money."""

    def __init__(self) -> None:
        self.charged: dict[str, int] = {}
        self.refunded: dict[str, int] = {}

    def charge(self, request: ChargeRequest) -> ChargeResult:
        result = super().charge(request)
        if result.succeeded:
            self.charged.setdefault(request.idempotency_key, request.amount)
        return result

    def refund(self, request: RefundRequest) -> RefundResult:
        result = super().refund(request)
        if result.succeeded:
            self.refunded.setdefault(request.idempotency_key, request.amount)
        return result


class DownGateway(SandboxGateway):
    """The sandbox gateway while it cannot be reached: every call raises
    ``GatewayUnavailable``, so a charge decided stays due."""

    def charge(self, request: ChargeRequest) -> ChargeResult:
        raise GatewayUnavailable("the sandbox is down")

    def refund(self, request: RefundRequest) -> RefundResult:
        raise GatewayUnavailable("the sandbox is down")


class RacedGateway(SandboxGateway):
    """The sandbox gateway, while another writer saves: before answering its first charge
    it runs ``meanwhile`` (set by the test once the subscription exists)."""

    def __init__(self) -> None:
        self.meanwhile: Callable[[], object] | None = None

    def charge(self, request: ChargeRequest) -> ChargeResult:
        meanwhile, self.meanwhile = self.meanwhile, None
        if meanwhile is not None:
            meanwhile()
        return super().charge(request)


def recording_ledger(settings: Settings, gateway: RecordingGateway) -> Ledger:
    """A ledger on the store of ``settings`` whose ``sandbox`` gateway is ``gateway``."""
    return Ledger(ledger_env(settings), gateways={"sandbox": gateway})
