"""The ledger application: the log, and the write side's services composed into one facade.

Each concern is a small service (``catalog``, ``subscribers``, ``subscriptions``,
``settlement``, ``payments``, ``corrections``, ``periods``), sharing one unit of work (``store``); every
command is load -> decide -> save in one transaction (``previews`` runs one on a copy and
saves nothing). :meth:`Ledger.execute` runs a write (:mod:`.writes`) under its idempotency
key: the one way every entry point writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from eventsourcing.application import Application
from eventsourcing.persistence import EventStore, Mapper, Transcoder
from eventsourcing.utils import Environment

from subledger.domain.charges import DUNNING, Dunning
from subledger.store.data_keys import KeyRing
from subledger.store.event_store import SealedEventStore
from subledger.store.sealing import SealingMapper
from subledger.store.transcoder import LedgerTranscoder

from .catalog import Catalog
from .corrections import Corrections
from .gateway_notices import GatewayNotices
from .gateways import PaymentGateway
from .gateways.sandbox import SandboxGateway
from .idempotency import Answer, IdempotencyGuard, IdempotencyKey
from .payments import Payments
from .periods import Periods
from .portal_sessions import PortalSessions
from .previews import Previews
from .settlement import Settlement
from .sources import through_portal
from .store import Clock, LedgerStore, system_clock
from .subscribers import Subscribers
from .subscriptions import Subscriptions
from .writes import Write

if TYPE_CHECKING:
    from subledger.domain.portal_session import PortalSession


class Ledger(Application):
    """The write side of the ledger and the log it keeps."""

    name = "subledger"
    log_section_size = 1000

    def __init__(
        self, env: Mapping[str, str], *, gateways: Mapping[str, PaymentGateway] | None = None,
        clock: Clock = system_clock, dunning: Dunning = DUNNING, keys: KeyRing | None = None,
    ) -> None:
        self.keys = keys  # read by construct_mapper, which the library calls first
        super().__init__(env=env)
        self.payment_gateways: dict[str, PaymentGateway] = dict(
            gateways if gateways is not None else {"sandbox": SandboxGateway()}
        )
        self.gateways = frozenset(self.payment_gateways)
        self.store = LedgerStore(self, clock)
        self.clock = clock
        self.event_log = self.store.event_log
        self.catalog = Catalog(self.store)
        self.subscribers = Subscribers(self.store, self.gateways)
        self.settlement = Settlement(self.store, self.subscribers, self.payment_gateways,
                                     dunning)
        self.subscriptions = Subscriptions(self.store, self.catalog, self.subscribers,
                                           self.settlement)
        self.payments = Payments(self.store, self.settlement, self.gateways)
        self.periods = Periods(self.store)
        self.corrections = Corrections(self.store, self.settlement)
        self.previews = Previews(self.store, self.subscriptions)
        self.gateway_notices = GatewayNotices(self.store, self.settlement, self.subscribers)
        self.portal_sessions = PortalSessions(self.store, self.subscribers)
        self.idempotency = IdempotencyGuard(self.store.find_idempotency)

    def construct_transcoder(self) -> Transcoder:
        # The library's encoding, read back by orjson (see subledger/store/transcoder.py).
        transcoder = LedgerTranscoder()
        self.register_transcodings(transcoder)
        return transcoder

    def construct_mapper(self) -> Mapper[Any]:
        # Personal fields sealed per subscriber (see subledger/store/sealing.py).
        return SealingMapper(self.construct_transcoder(), self.keys)

    def construct_event_store(self) -> EventStore[Any]:
        # Each load opens a subscriber's data key once (see subledger/store/event_store.py).
        return SealedEventStore(mapper=self.mapper, recorder=self.recorder)

    def construct_env(self, name: str, env: Any = None) -> Environment:
        # Only the configuration handed in: modules never read the process environment.
        return Environment(name, dict(env or {}))

    def execute(self, command: Write, key: IdempotencyKey | None = None, *,
                portal: PortalSession | None = None) -> Answer:
        """Run a write and answer it; with a key, a retry gets the first answer and appends
        nothing, and the same key with another command is refused. A write made through
        the portal (``portal``: the subscriber's session) is recorded on that session with
        its events (see :mod:`.sources`)."""
        if portal is not None:
            with through_portal(portal, type(command).__name__):
                return self.execute(command, key)
        return self.idempotency.run(
            key, command, created=command.creates,
            handle=lambda request: command.handle(self, request),
            render=lambda result: command.answer(self, result),
        )
