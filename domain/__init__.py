"""The ledger's business rules: pure Python, no I/O.

Money and time types, billing-period arithmetic, proration, the catalog and the
`Subscriber` and `Subscription` aggregates with their events. Nothing here reads a
clock, a database or the environment: callers pass instants in.
"""
