"""The public contract: what readers outside the code rely on.

The event envelope (``envelope``), the public bodies of the ledger's records (``bodies``),
the Kafka messages (``messages``), their JSON Schemas (``schemas``) and the AsyncAPI
document (``asyncapi``). It depends only on the domain; each shape is defined once here and
the schemas and HTTP models are derived from it.
"""
