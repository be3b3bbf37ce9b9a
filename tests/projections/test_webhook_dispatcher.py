"""The webhook dispatcher against a real local HTTP receiver, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from support.ledger import FakeClock, add_plan, add_subscriber, log_envelopes, public_envelopes
from support.receiver import Receiver, eventually

from subledger.commands.ledger import Ledger
from subledger.config import Settings
from subledger.projections.follow import follow
from subledger.projections.store import ViewStore
from subledger.projections.webhook_dispatcher import UrllibSender, WebhookDispatcher


def _subscribers(ledger: Ledger, count: int, start: int = 0) -> None:
    for i in range(start, start + count):
        add_subscriber(ledger, f"s{i}@example.com", token="tok_visa")


def _deliver(dispatcher: WebhookDispatcher, receiver: Receiver, count: int) -> list[dict[str, Any]]:
    """Run the dispatcher until the receiver has acknowledged ``count`` deliveries."""
    def done() -> list[dict[str, Any]]:
        dispatcher.run_once()
        delivered = receiver.delivered()
        return delivered if len(delivered) >= count else []
    return eventually(done, what=f"{count} deliveries")


def test_each_delivery_is_the_logs_envelope_signed_with_the_endpoints_secret(
        ledger: Ledger, dispatchers: Any, receiver: Receiver) -> None:
    dispatcher = dispatchers()
    endpoint, secret = dispatcher.endpoints.register(receiver.url, [], "everything", 0,
                                                     personal_data=True)
    add_plan(ledger)
    _subscribers(ledger, 2)
    log = log_envelopes(ledger)
    assert _deliver(dispatcher, receiver, len(log)) == log
    for request in receiver.requests:
        assert abs(request.verify(secret) - datetime.now(UTC).timestamp()) < 60
        assert request.headers["content-type"] == "application/json"
        assert request.headers["subledger-event-id"] == request.envelope["event_id"]
    assert len({r.headers["subledger-delivery-id"] for r in receiver.requests}) == len(log)
    assert dispatcher.endpoints.get(endpoint.endpoint_id).position == log[-1]["position"]


def test_an_endpoint_that_did_not_opt_in_gets_personal_fields_null(
        ledger: Ledger, dispatchers: Any, receiver: Receiver) -> None:
    dispatcher = dispatchers()
    endpoint, _ = dispatcher.endpoints.register(receiver.url, ["SubscriberRegistered"], None, 0)
    _subscribers(ledger, 2)
    log = public_envelopes(ledger, types=("SubscriberRegistered",))

    delivered = _deliver(dispatcher, receiver, 2)

    assert not endpoint.personal_data
    assert [e["data"] for e in delivered] == [
        {"email": None, "name": None, "external_ref": None}] * 2
    assert delivered == log
    assert b"@example.com" not in b"".join(r.body for r in receiver.requests)


def test_an_endpoint_table_made_before_the_choice_keeps_delivering_personal_fields(
        ledger: Ledger, dispatchers: Any, receiver: Receiver) -> None:
    dispatcher = dispatchers()
    endpoint, _ = dispatcher.endpoints.register(receiver.url, ["SubscriberRegistered"], None, 0)
    with dispatcher.store.transaction() as tx:  # the table as an older version made it
        tx.execute("ALTER TABLE subledger_webhook_endpoints DROP COLUMN personal_data")
    again = dispatchers()

    assert again.endpoints.get(endpoint.endpoint_id).personal_data
    _subscribers(ledger, 1)
    assert [e["data"]["email"] for e in _deliver(again, receiver, 1)] == ["s0@example.com"]


def test_only_the_subscribed_types_are_delivered_in_position_order(
        ledger: Ledger, dispatchers: Any, receiver: Receiver) -> None:
    dispatcher = dispatchers(batch=2)
    endpoint, _ = dispatcher.endpoints.register(receiver.url, ["SubscriberRegistered", "PlanCreated"],
                                                None, 0)
    _subscribers(ledger, 3)
    add_plan(ledger)
    _subscribers(ledger, 2, start=3)
    wanted = public_envelopes(ledger, types=("SubscriberRegistered", "PlanCreated"))
    assert len(wanted) == 6
    assert _deliver(dispatcher, receiver, len(wanted)) == wanted
    # caught up: the events of other types after the last one delivered are skipped too
    eventually(lambda: dispatcher.run_once() == 0 and dispatcher.endpoints.get(endpoint.endpoint_id).position
               == ledger.event_log.max_position(), what="the position to reach the head")
    assert len(receiver.requests) == len(wanted)


def test_a_new_endpoint_starts_at_the_head_of_the_log(
        ledger: Ledger, dispatchers: Any, receiver: Receiver) -> None:
    _subscribers(ledger, 2)
    dispatcher = dispatchers()
    endpoint, _ = dispatcher.endpoints.register(receiver.url)
    assert endpoint.position == ledger.event_log.max_position()
    _subscribers(ledger, 1, start=2)
    assert _deliver(dispatcher, receiver, 2) == public_envelopes(ledger)[-2:]


def test_answers_of_500_are_retried_with_doubling_delays_each_attempt_in_the_delivery_log(
        ledger: Ledger, settings: Settings, receiver: Receiver) -> None:
    clock = FakeClock(datetime(2026, 3, 1, tzinfo=UTC))
    dispatcher = WebhookDispatcher(ledger.event_log, ViewStore(settings), UrllibSender(), clock,
                                   retry_base=1, retry_cap=4)
    try:
        endpoint, _ = dispatcher.endpoints.register(receiver.url, ["SubscriberRegistered"], None, 0)
        add_subscriber(ledger, "ada@example.com")
        receiver.fail_next(4)
        waits = []
        for attempt in range(1, 5):
            assert dispatcher.run_once() == 0
            status = dispatcher.endpoints.get(endpoint.endpoint_id)
            assert (status.attempts, status.last_error) == (attempt, "HTTP 500")
            waits.append(status.next_attempt_at - clock().timestamp())
            clock.advance(seconds=waits[-1] - 0.5)
            assert dispatcher.run_once() == 0  # not due yet: nothing is sent
            assert len(receiver.requests) == attempt
            clock.advance(seconds=0.5)
        assert waits == [1, 2, 4, 4]  # doubling, capped
        assert dispatcher.run_once() == 1
        log = dispatcher.endpoints.deliveries(endpoint.endpoint_id, 0, 100)
        assert [(d["attempt"], d["status_code"], d["outcome"]) for d in log] == [
            (1, 500, "failed"), (2, 500, "failed"), (3, 500, "failed"), (4, 500, "failed"),
            (5, 204, "delivered")]
        assert len({d["event_id"] for d in log}) == 1
        status = dispatcher.endpoints.get(endpoint.endpoint_id)
        assert (status.attempts, status.last_error) == (0, None)
    finally:
        dispatcher.close()
        dispatcher.store.close()


def test_an_endpoint_that_is_down_is_retried_and_the_order_is_kept(
        ledger: Ledger, dispatchers: Any, receiver: Receiver) -> None:
    dispatcher = dispatchers()
    endpoint, _ = dispatcher.endpoints.register(receiver.url, [], None, 0)
    _subscribers(ledger, 2)
    receiver.down()
    eventually(lambda: dispatcher.run_once() == 0
               and dispatcher.endpoints.get(endpoint.endpoint_id).attempts >= 3, what="three failures")
    failed = dispatcher.endpoints.deliveries(endpoint.endpoint_id, 0, 100)
    assert {d["position"] for d in failed} == {1}  # the first event, again and again
    assert all(d["status_code"] is None and "URLError" in d["error"] for d in failed)
    receiver.up()
    assert _deliver(dispatcher, receiver, len(public_envelopes(ledger))) == public_envelopes(ledger)


def test_a_new_dispatcher_resumes_where_a_stopped_one_left_and_nothing_is_lost(
        ledger: Ledger, dispatchers: Any, receiver: Receiver) -> None:
    first = dispatchers(batch=3)
    endpoint, _ = first.endpoints.register(receiver.url, [], None, 0)
    _subscribers(ledger, 4)
    assert first.run_once() == 3
    first.close()
    _subscribers(ledger, 2, start=4)
    second = dispatchers(batch=3)
    log = public_envelopes(ledger)
    assert _deliver(second, receiver, len(log)) == log
    assert second.endpoints.get(endpoint.endpoint_id).position == log[-1]["position"]


def test_replay_delivers_again_every_event_from_a_position(
        ledger: Ledger, dispatchers: Any, receiver: Receiver) -> None:
    dispatcher = dispatchers()
    endpoint, _ = dispatcher.endpoints.register(receiver.url, ["SubscriberRegistered"], None, 0)
    _subscribers(ledger, 3)
    registered = public_envelopes(ledger, types=("SubscriberRegistered",))
    _deliver(dispatcher, receiver, 3)
    replayed = dispatcher.endpoints.replay(endpoint.endpoint_id, registered[1]["position"])
    assert replayed.position == registered[1]["position"] - 1
    assert _deliver(dispatcher, receiver, 5)[3:] == registered[1:]


def test_an_endpoint_that_hangs_does_not_hold_back_the_others(
        ledger: Ledger, dispatchers: Any, receiver: Receiver) -> None:
    hung = Receiver()
    try:
        dispatcher = dispatchers()
        stuck, _ = dispatcher.endpoints.register(hung.url, [], None, 0)
        dispatcher.endpoints.register(receiver.url, [], None, 0)
        hung.hold()
        stop = threading.Event()
        worker = threading.Thread(target=follow, args=(dispatcher.follower(), stop), daemon=True)
        worker.start()
        _subscribers(ledger, 3)
        log = public_envelopes(ledger)
        eventually(lambda: receiver.delivered() == log, what="the healthy endpoint's deliveries")
        # On a loaded machine the hung endpoint's first request may still be on its way.
        eventually(lambda: hung.in_flight == 1, what="the hung endpoint's first request to arrive")
        assert hung.requests == []  # nothing of it completed while the other got everything
        hung.release()
        eventually(lambda: hung.delivered() == log, what="the hung endpoint's deliveries")
        stop.set()
        worker.join(timeout=10)
        # The receiver counts a delivery once it has answered; the dispatcher commits the
        # endpoint's position after reading that answer, in its pool: wait for it.
        dispatcher.close()
        assert dispatcher.endpoints.get(stuck.endpoint_id).position == log[-1]["position"]
    finally:
        hung.close()


def test_two_dispatchers_never_deliver_to_one_endpoint_at_once(
        ledger: Ledger, dispatchers: Any, receiver: Receiver) -> None:
    one, two = dispatchers(), dispatchers()
    one.endpoints.register(receiver.url, [], None, 0)
    _subscribers(ledger, 1)
    receiver.hold()
    first = threading.Thread(target=one.run_once, daemon=True)
    first.start()
    eventually(lambda: receiver.in_flight == 1, what="the first delivery to be in flight")
    assert two.run_once() == 0  # the endpoint is claimed by the other dispatcher
    receiver.release()
    first.join(timeout=10)
    # both following the log at once: every event exactly once, one request at a time
    stop = threading.Event()
    workers = [threading.Thread(target=follow, args=(d.follower(), stop), daemon=True) for d in (one, two)]
    for worker in workers:
        worker.start()
    _subscribers(ledger, 5, start=1)
    log = public_envelopes(ledger)
    eventually(lambda: len(receiver.delivered()) >= len(log), what="every delivery")
    stop.set()
    for worker in workers:
        worker.join(timeout=10)
    assert receiver.delivered() == log
    assert receiver.most_in_flight == 1
