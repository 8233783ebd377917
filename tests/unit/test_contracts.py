"""The committed API contracts must match the code (regenerate with `make openapi`)."""

from __future__ import annotations

from app import contracts


def test_committed_openapi_and_graphql_schema_match_the_code() -> None:
    rendered = contracts.render()
    for path, text in rendered.items():
        assert path.exists(), f"{path.name} missing: run `make openapi`"
        assert path.read_text(encoding="utf-8") == text, (
            f"{path.name} is out of date: run `make openapi` and commit it"
        )


def test_every_operation_has_a_stable_operation_id() -> None:
    spec = contracts.render()[contracts.OPENAPI]
    import json

    doc = json.loads(spec)
    ids = [
        op["operationId"]
        for path in doc["paths"].values()
        for op in path.values()
        if isinstance(op, dict) and "operationId" in op
    ]
    ops = [op for path in doc["paths"].values() for op in path.values() if isinstance(op, dict)]
    assert len(ids) == len(ops), "every operation needs an explicit operation_id"
    assert len(ids) == len(set(ids))
    # FastAPI's generated ids look like name_path_method; ours are chosen names.
    assert not [i for i in ids if i.endswith(("_get", "_post", "_patch", "_put", "_delete"))]
