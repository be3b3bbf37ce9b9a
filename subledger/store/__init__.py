"""The event store: the one place that knows how the log is kept.

The log itself is the ``eventsourcing`` library's application table (PostgreSQL or
SQLite). :mod:`.recorders` extends the library's recorders with side tables written in the
same transaction as the events they belong to (idempotency answers, the index of which
aggregates belong to which subscriber, the billing agenda, the charges, and what
subscribers are found by: :mod:`.subscriber_lookup`); :mod:`.log` reads the log in global
order as public envelopes. Commands, projections and the replay tools all go through here.
"""

from .records import IdempotencyRecord, SubscriberKeys, SubscriberLink

__all__ = ["IdempotencyRecord", "SubscriberKeys", "SubscriberLink"]
