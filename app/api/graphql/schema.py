"""The GraphQL schema: every bounded context contributes its Query and Mutation types."""

from __future__ import annotations

import logging
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry import relay
from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.extensions import (
    DisableIntrospection,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType

from app.api.errors import safe_trace
from app.api.graphql import errors as gql_errors
from app.domain.shared.errors import DomainError


def _base_query() -> type:
    # Built per schema: Strawberry's relay node field is bound to the schema that uses it.
    @strawberry.type
    class BaseQuery:
        node: relay.Node | None = relay.node(
            description="Any record by global id, if it exists and is in your scope."
        )

        @strawberry.field(description="API version of this server.")
        def api_version(self) -> str:
            return "1"

    return BaseQuery


def _query_types() -> tuple[type, ...]:
    # Context modules are imported here (not at module import) to keep import order simple.
    from app.api.graphql import contexts

    return (_base_query(), *contexts.QUERIES)


def _mutation_types() -> tuple[type, ...]:
    from app.api.graphql import contexts

    return tuple(contexts.MUTATIONS)


def _subscription_types() -> tuple[type, ...]:
    from app.api.graphql import contexts

    return tuple(contexts.SUBSCRIPTIONS)


log = logging.getLogger("shouwang.graphql")

# Input the client got wrong (a malformed global id...): theirs to see, not ours to log.
_CLIENT_ERRORS = (DomainError, StrawberryInputCoercionError)


def _should_mask(error: GraphQLError) -> bool:
    """Validation errors, bad input and domain errors are meant for the client; any other
    exception raised while resolving is masked."""
    original = error.original_error
    return original is not None and not isinstance(original, _CLIENT_ERRORS)


def _is_subscription(execution_context: ExecutionContext) -> bool:
    try:
        return execution_context.operation_type is OperationType.SUBSCRIPTION
    except Exception:  # no parsed document or no such operation: a query's error
        return False


class ShouwangSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log only the unexpected, and without values (queries and messages can carry
        personal data); client mistakes are answered, not logged as errors."""
        for error in errors:
            original = error.original_error
            if original is None or isinstance(original, _CLIENT_ERRORS):
                continue
            log.error("graphql unexpected error", extra=safe_trace(original))
        if execution_context is not None and _is_subscription(execution_context):
            # Extension hooks wrap a whole subscription, not each of its events: codes and
            # masking are applied per event here.
            lang = getattr(execution_context.context, "lang", "zh")
            describe_errors(errors, lang, mask=True)


class DomainErrorCodes(SchemaExtension):
    """Put the stable domain error code into `extensions.code` of GraphQL errors."""

    def on_operation(self) -> Any:
        yield
        result = self.execution_context.result
        if result is None or not getattr(result, "errors", None):
            return
        describe_errors(result.errors or [], getattr(self.execution_context.context, "lang", "zh"))


def describe_errors(errors: list[GraphQLError], lang: str, *, mask: bool = False) -> None:
    """Localised message and stable code for client errors (and, with ``mask``, the
    generic message for unexpected ones)."""
    for err in errors:
        original = err.original_error
        if isinstance(original, DomainError):
            err.message = original.message(lang)
            err.extensions = {**(err.extensions or {}), "code": original.code}
        elif isinstance(original, StrawberryInputCoercionError):
            err.message = "无效的 ID 或输入值。" if lang == "zh" else "Invalid id or input value."
            err.extensions = {**(err.extensions or {}), "code": "graphql.invalid_input"}
        elif mask and original is not None:
            err.message = "Unexpected error."


def build_schema(
    *,
    max_depth: int = 12,
    max_aliases: int = 30,
    max_tokens: int = 2000,
    introspection: bool = True,
) -> strawberry.Schema:
    query = merge_types("Query", _query_types())
    mutations = _mutation_types()
    mutation = merge_types("Mutation", mutations) if mutations else None
    subscriptions = _subscription_types()
    subscription = merge_types("Subscription", subscriptions) if subscriptions else None
    # Factories, so each request gets fresh extension instances.
    extensions: list[Any] = [
        lambda: QueryDepthLimiter(max_depth=max_depth),
        lambda: MaxAliasesLimiter(max_alias_count=max_aliases),
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
        DomainErrorCodes,
        lambda: MaskErrors(should_mask_error=_should_mask, error_message="Unexpected error."),
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    return ShouwangSchema(
        query=query,
        mutation=mutation,
        subscription=subscription,
        extensions=extensions,
        types=[
            gql_errors.NotFound,
            gql_errors.NotAllowed,
            gql_errors.InvalidInput,
            gql_errors.Conflict,
            gql_errors.RateLimited,
        ],
    )
