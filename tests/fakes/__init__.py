"""Fakes of systems outside the ledger that the tests cannot reach: payment providers' HTTP
APIs (written from their public documentation) and gateways that record what they were
asked."""
