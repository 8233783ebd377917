"""Generate or check the committed API contracts: openapi/openapi.json and
openapi/schema.graphql.  ``python -m app.contracts write|check``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from app.main import create_app
from app.settings import Env, Settings

ROOT = Path(__file__).resolve().parents[1]
OPENAPI = ROOT / "openapi" / "openapi.json"
GRAPHQL = ROOT / "openapi" / "schema.graphql"


def render() -> dict[Path, str]:
    # Building the app opens no connection (engines connect lazily).
    app = create_app(Settings(env=Env.DEVELOPMENT))
    openapi = json.dumps(app.openapi(), indent=2, ensure_ascii=False, sort_keys=False) + "\n"
    from app.api.graphql.schema import build_schema

    graphql = build_schema().as_str() + "\n"
    return {OPENAPI: openapi, GRAPHQL: graphql}


def main(argv: list[str]) -> int:
    mode = argv[1] if len(argv) > 1 else "check"
    rendered = render()
    if mode == "write":
        for path, text in rendered.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        return 0
    stale = [
        str(p.relative_to(ROOT))
        for p, text in rendered.items()
        if not p.exists() or p.read_text(encoding="utf-8") != text
    ]
    if stale:
        sys.stderr.write(f"out of date: {', '.join(stale)} (run `make openapi`)\n")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
