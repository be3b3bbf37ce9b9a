"""The HTTP API: FastAPI routers, request/response schemas, problem+json errors, auth.

Thin by design: parse, call ``subledger.commands`` or read the log, render.
"""
