"""The write side: the ledger application (load, decide, save in one transaction),
idempotency, and (with the billing engine) the billing clock and payment gateways."""
