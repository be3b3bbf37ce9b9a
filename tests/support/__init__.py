"""What the tests share: factories of domain objects, helpers over the ledger and the HTTP
API, concurrency tools, and the real local servers the tests start (broker, webhook
receiver, API server)."""
