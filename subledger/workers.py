"""Running the background workers: the API with its workers in one process (``serve``),
or each worker on its own (``project``, ``relay``, ``webhooks``, ``billing follow``), every
one through the one follow loop and stopped by SIGINT or SIGTERM, finishing what it is
doing."""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from . import http_processes
from .billing_worker import billing_follower
from .bootstrap import (
    StoreUnavailable,
    build_api,
    build_head_publisher,
    build_mail,
    build_merkle_follower,
    build_projector,
    build_relay,
    build_webhooks,
    open_ledger,
)
from .config import Settings
from .running import (
    close_worker,
    follow_until_stopped,
    in_background,
    log_to_stderr,
    stop_on_signals,
)

if TYPE_CHECKING:
    from subledger.commands.ledger import Ledger

logger = logging.getLogger(__name__)


def serve(settings: Settings, host: str, port: int, *, with_workers: bool, processes: int = 1) -> int:
    """The API on ``host:port`` (uvicorn), with the projector, the webhook dispatcher, the
    Merkle follower, the billing clock (unless its interval is 0), the mail worker (when SMTP
    is configured) and, when Kafka is configured, the relay in threads of this process unless
    not ``with_workers``. With ``processes`` above 1 the API is answered by that many
    processes of its own (:mod:`.http_processes`) and this one runs only the workers."""
    import uvicorn

    if not 0 < port < 65536:
        print("subledger: --port must be from 1 to 65535", file=sys.stderr)
        return 2
    if (refused := http_processes.refusal(settings, processes)) is not None:
        print(f"subledger: {refused}", file=sys.stderr)
        return 2
    log_to_stderr()
    try:
        ledger = open_ledger(settings)
        projector = build_projector(settings, ledger) if with_workers else None
    except StoreUnavailable as error:
        print(f"subledger: cannot open the event store: {error}", file=sys.stderr)
        return 2
    stop = threading.Event()
    finish: list[Callable[[], None]] = []
    if projector is not None:  # else --no-workers: the API alone
        finish_webhooks = start_webhooks(settings, ledger, stop)
        finish.append(in_background(projector.follower(), stop, name="projector", join=10))
        if settings.kafka_bootstrap:
            relay = build_relay(settings, ledger)
            finish.append(in_background(relay.follower(), stop, name="relay", join=10,
                                         close=lambda: close_worker(relay)))
            finish.append(start_head_publisher(settings, stop))
        finish.append(finish_webhooks)
        finish.extend(start_billing(settings, ledger, stop))
        finish.append(start_merkle(settings, ledger, stop))
        finish.extend(start_mail(settings, ledger, stop))
    try:
        # uvicorn shuts down on SIGINT or SIGTERM, then raises the signal again for the handler
        # it found: this one, so the workers finish their round and the process exits 0
        # instead of dying by the default handler with them mid-round. (Its supervisor of
        # several processes handles the signals itself, and returns.)
        stop_on_signals(stop)
        if processes == 1:
            uvicorn.run(build_api(settings, ledger=ledger, projector=projector),
                        host=host, port=port, log_level="info")
        else:
            http_processes.share_session_secret(settings, os.environ)
            if not http_processes.serve(host, port, processes):
                print("subledger: an API process could not start (the log above says why)",
                      file=sys.stderr)
                return 1
    finally:
        stop.set()
        for step in finish:
            step()
        ledger.close()
    return 0


def project(settings: Settings, ledger: Ledger, *, once: bool) -> int:
    """Keep every read model current (and deliver the webhooks); ``once``: catch up, exit."""
    log_to_stderr()
    projector = build_projector(settings, ledger)
    try:
        if once:
            read = projector.run_once()
            print(json.dumps({"events_read": read, "lag": projector.lag()}))
            return 0
        stop = stop_on_signals()
        finish_webhooks = start_webhooks(settings, ledger, stop)
        try:
            return follow_until_stopped(projector.follower(), stop)
        finally:
            finish_webhooks()
    finally:
        projector.close()


def project_member(settings: Settings, ledger: Ledger, *, once: bool) -> int:
    """Be one projector member of ``SUBLEDGER_PROJECTOR_GROUP``; ``once``: join, catch up
    with its partitions, exit."""
    from .bootstrap import build_group_member

    if not settings.kafka_bootstrap or not settings.projector_group:
        print("subledger: SUBLEDGER_KAFKA_BOOTSTRAP and SUBLEDGER_PROJECTOR_GROUP must be set"
              " for a projector member", file=sys.stderr)
        return 2
    log_to_stderr()
    member = build_group_member(settings, ledger)
    try:
        if once:
            print(json.dumps({"messages_applied": member.catch_up()}))
            return 0
        return follow_until_stopped(member.follower(), stop_on_signals())
    finally:
        member.close()
        member.store.close()


def relay(settings: Settings, ledger: Ledger, *, once: bool) -> int:
    """Stream the log and the movements to Kafka; ``once``: catch up, exit (1 if the
    broker is unavailable)."""

    from subledger.projections.kafka_publisher import BrokerUnavailable


    if not settings.kafka_bootstrap:
        print("subledger: SUBLEDGER_KAFKA_BOOTSTRAP is not set: there is no broker to relay to",
              file=sys.stderr)
        return 2
    log_to_stderr()
    relay = build_relay(settings, ledger)
    try:
        if once:
            try:
                sent = relay.run_once()
            except BrokerUnavailable as error:
                print(f"subledger: Kafka unavailable: {error}", file=sys.stderr)
                return 1
            print(json.dumps({"messages_sent": sent, "lag": relay.lag()}))
            return 0
        stop = stop_on_signals()
        finish_heads = start_head_publisher(settings, stop)
        try:
            return follow_until_stopped(relay.follower(), stop)
        finally:
            finish_heads()
    finally:
        close_worker(relay)


def start_webhooks(settings: Settings, ledger: Ledger, stop: threading.Event) -> Callable[[], None]:
    """Run the webhook dispatcher in a thread until ``stop`` is set; returns the function
    that sets it and waits for the deliveries in flight."""

    dispatcher = build_webhooks(settings, ledger)
    return in_background(dispatcher.follower(), stop, name="webhooks", join=30,
                          close=lambda: close_worker(dispatcher))


def start_merkle(settings: Settings, ledger: Ledger, stop: threading.Event) -> Callable[[], None]:
    """Run the Merkle follower in a thread until ``stop`` is set."""
    follower = build_merkle_follower(settings, ledger)
    return in_background(follower.follower(), stop, name="merkle", join=10, close=follower.close)


def start_head_publisher(settings: Settings, stop: threading.Event) -> Callable[[], None]:
    """Publish the tree heads to ``<prefix>.audit`` in a thread until ``stop`` is set: the
    relay's companion, wherever the relay runs."""
    publisher = build_head_publisher(settings)
    return in_background(publisher.follower(), stop, name="audit-heads", join=10, close=publisher.close)


BILLING_OFF = ("SUBLEDGER_BILLING_INTERVAL is 0: the billing clock is off; set it to the"
               " seconds between runs")


def start_billing(settings: Settings, ledger: Ledger,
                  stop: threading.Event) -> list[Callable[[], None]]:
    """Run the billing clock in a thread until ``stop`` is set, unless its interval is 0;
    the function that waits for the run in progress (none when off)."""
    if settings.billing_interval == 0:
        logger.info("%s", BILLING_OFF)
        return []
    # A run cut short by the end of the wait is safe: every step it saved stands, and the
    # next run, here or in another process, finishes the rest under the same ids.
    return [in_background(billing_follower(ledger, settings.billing_interval, settings.settlement_days), stop,
                          name="billing", join=30)]


def billing_follow(settings: Settings, ledger: Ledger) -> int:
    """Run the billing clock up to now every ``SUBLEDGER_BILLING_INTERVAL`` seconds until
    SIGINT or SIGTERM (exit 2 when the interval is 0: there is nothing to follow)."""
    if settings.billing_interval == 0:
        print(f"subledger: {BILLING_OFF}", file=sys.stderr)
        return 2
    log_to_stderr()
    return follow_until_stopped(billing_follower(ledger, settings.billing_interval, settings.settlement_days))


def webhooks(settings: Settings, ledger: Ledger, *, once: bool) -> int:
    """Deliver the webhooks; ``once``: deliver what is due, exit."""

    log_to_stderr()
    dispatcher = build_webhooks(settings, ledger)
    try:
        if once:
            delivered = total = dispatcher.run_once()
            while delivered:
                delivered = dispatcher.run_once()
                total += delivered
            print(json.dumps({"delivered": total}))
            return 0
        return follow_until_stopped(dispatcher.follower())
    finally:
        close_worker(dispatcher)


MAIL_OFF = "SUBLEDGER_SMTP_URL is not set: no e-mails are sent; set it to send them"


def start_mail(settings: Settings, ledger: Ledger,
               stop: threading.Event) -> list[Callable[[], None]]:
    """Run the mail worker in a thread until ``stop`` is set, when SMTP is configured; the
    function that waits for the message in flight (none when off)."""
    if settings.mail.smtp is None:
        logger.info("%s", MAIL_OFF)
        return []
    worker = build_mail(settings, ledger)
    return [in_background(worker.follower(), stop, name="mail", join=60, close=worker.close)]


def mail(settings: Settings, ledger: Ledger, *, once: bool) -> int:
    """Send the e-mails the log makes due; ``once``: follow the log, wake and send what is
    due now, print the outbox's counts, exit (exit 2 when SMTP is not configured)."""
    if settings.mail.smtp is None:
        print(f"subledger: {MAIL_OFF}", file=sys.stderr)
        return 2
    log_to_stderr()
    worker = build_mail(settings, ledger)
    try:
        if once:
            while worker.run_once():
                pass
            from subledger.messages.outbox import counts

            print(json.dumps({"lag": worker.lag(), "messages": counts(worker.store)}))
            return 0
        return follow_until_stopped(worker.follower())
    finally:
        worker.close()
