"""Typed errors returned by mutations as union members (CONVENTIONS.md)."""

from __future__ import annotations

import strawberry

from app.domain.shared.errors import (
    Conflict as ConflictErr,
)
from app.domain.shared.errors import (
    DomainError,
    PreconditionRequired,
    StaleVersion,
    Unauthenticated,
)
from app.domain.shared.errors import (
    InvalidInput as InvalidInputErr,
)
from app.domain.shared.errors import (
    NotAllowed as NotAllowedErr,
)
from app.domain.shared.errors import (
    NotFound as NotFoundErr,
)
from app.domain.shared.errors import (
    RateLimited as RateLimitedErr,
)


@strawberry.interface(description="A typed, expected failure of a mutation.")
class Problem:
    code: str
    message: str


@strawberry.type(description="The record does not exist or is outside your scope.")
class NotFound(Problem):
    pass


@strawberry.type(description="You may not perform this action.")
class NotAllowed(Problem):
    pass


@strawberry.type
class FieldProblem:
    field: str
    code: str
    message: str


@strawberry.type(description="The input is invalid; see fields.")
class InvalidInput(Problem):
    fields: list[FieldProblem]


@strawberry.type(description="The request conflicts with the record's current state or version.")
class Conflict(Problem):
    pass


@strawberry.type(description="Too many requests.")
class RateLimited(Problem):
    retry_after_seconds: int


MutationProblem = NotFound | NotAllowed | InvalidInput | Conflict | RateLimited


def problem_of(error: DomainError, lang: str) -> MutationProblem:
    """Map a domain error to its union member. Authentication failures are not data: they
    are re-raised so they land in `errors` with an extensions code."""
    message = error.message(lang)
    if isinstance(error, Unauthenticated):
        raise error
    if isinstance(error, NotFoundErr):
        return NotFound(code=error.code, message=message)
    if isinstance(error, NotAllowedErr):
        return NotAllowed(code=error.code, message=message)
    if isinstance(error, InvalidInputErr):
        return InvalidInput(
            code=error.code,
            message=message,
            fields=[
                FieldProblem(field=f.field, code=f.code, message=f.message) for f in error.fields
            ],
        )
    if isinstance(error, RateLimitedErr):
        return RateLimited(
            code=error.code, message=message, retry_after_seconds=error.retry_after_seconds
        )
    if isinstance(error, ConflictErr | StaleVersion | PreconditionRequired):
        return Conflict(code=error.code, message=message)
    return Conflict(code=error.code, message=message)
