"""The read side: read models folded from the log in global order.

One runner (:mod:`.runner`) follows the log (catch-up, then live) and commits each read
model's rows together with its checkpoint (the last position it applied) in one transaction,
on PostgreSQL and on SQLite; :mod:`.store` is the one place that talks to the views'
database. Projections read events (public envelopes), never aggregates.
"""
