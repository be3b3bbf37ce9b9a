# One image for the API, the projector and the relay (docker-compose.yml picks the command).
# Runtime only: the package and its pinned dependencies (constraints.txt), no test extras.
FROM python:3.11.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
# Every folder of pyproject.toml's package-dir mapping (tests/ops/test_compose_file.py checks).
COPY pyproject.toml README.md constraints.txt ./
COPY subledger/ subledger/
COPY domain/ domain/
COPY commands/ commands/
COPY projections/ projections/
COPY replay/ replay/
COPY api/ api/
COPY contract/ contract/
COPY audit/ audit/
COPY messages/ messages/
RUN pip install --constraint constraints.txt . \
    && rm -rf /src \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/subledger --create-home subledger

# Non-root; the working directory is writable, so the default SQLite store
# (sqlite:///./subledger.db) works for a quick `docker run` without PostgreSQL.
USER subledger
WORKDIR /var/lib/subledger
EXPOSE 8000

# The stdlib only (no curl in slim images). docker-compose.yml gives the projector and the
# relay, which serve no HTTP, health checks of their own.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-m", "subledger.healthcheck", "http://127.0.0.1:8000/healthz"]

ENTRYPOINT ["subledger"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000", "--no-workers"]
