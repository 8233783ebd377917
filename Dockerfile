# syntax=docker/dockerfile:1.7
# Build stage: resolve dependencies from the committed lock with uv.
FROM python:3.11-slim-bookworm AS build
COPY --from=ghcr.io/astral-sh/uv:0.5 /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PROJECT_ENVIRONMENT=/opt/venv
WORKDIR /src
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY app ./app
COPY migrations ./migrations
COPY alembic.ini ./
RUN uv sync --frozen --no-dev

# Runtime stage: no compiler, no uv, non-root.
FROM python:3.11-slim-bookworm AS runtime
RUN groupadd --system shouwang && useradd --system --gid shouwang --home /srv shouwang
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 SHOUWANG_HOST=0.0.0.0
COPY --from=build /opt/venv /opt/venv
COPY --from=build --chown=shouwang:shouwang /src /srv
WORKDIR /srv
USER shouwang
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz').status==200 else 1)"
# Migrations run before the server; both are idempotent.
CMD ["sh", "-c", "shouwang migrate && exec shouwang serve"]
