"""GraphQL door of the identity context: sign-in mutations, officers, the Account node."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import Annotated
from uuid import UUID

import strawberry
from strawberry import relay
from strawberry.dataloader import DataLoader

from app.api.graphql.context import Info
from app.api.graphql.errors import (
    Conflict,
    InvalidInput,
    NotAllowed,
    NotFound,
    Problem,
    RateLimited,
    problem_of,
)
from app.api.graphql.relay import first_of, keyset_connection, node_uuid, resolve_scoped
from app.api.pagination import after_id
from app.domain.identity.errors import AccountNotFound, OfficerNotFound
from app.domain.identity.model import (
    AccountKind,
    AccountStatus,
    AccountView,
    ClientInfo,
    OfficerView,
    RoleView,
    TokenPair,
)
from app.domain.identity.officers import NewOfficer, OfficerService
from app.domain.identity.services import AccountService, SessionService
from app.domain.identity.signin import SignInService
from app.domain.shared.errors import DomainError, Unauthenticated, UpstreamUnavailable
from app.domain.shared.errors import NotAllowed as NotAllowedError
from app.domain.shared.errors import NotFound as NotFoundError
from app.domain.shared.scope import Scope

strawberry.enum(AccountKind, name="AccountKind")
strawberry.enum(AccountStatus, name="AccountStatus")


# --- typed failures specific to signing in ---------------------------------------------------


@strawberry.type(description="The credentials, code or refresh token were not accepted.")
class SignInFailed(Problem):
    pass


@strawberry.type(description="An outside service (SMS, WeChat) failed; try again later.")
class ServiceUnavailable(Problem):
    pass


def _problem(
    error: DomainError, lang: str
) -> (
    SignInFailed
    | ServiceUnavailable
    | NotFound
    | NotAllowed
    | InvalidInput
    | Conflict
    | RateLimited
):
    if isinstance(error, Unauthenticated):
        return SignInFailed(code=error.code, message=error.message(lang))
    if isinstance(error, UpstreamUnavailable):
        return ServiceUnavailable(code=error.code, message=error.message(lang))
    return problem_of(error, lang)


def _client(info: Info) -> ClientInfo:
    ctx = info.context
    request = ctx.http_request
    agent = request.headers.get("user-agent") if request is not None else None
    return ClientInfo(ip=ctx.ip, request_id=ctx.request_id, user_agent=agent)


# --- per-request loaders: what the caller's scope (possibly none) may see -------------------


def _account_loader(info: Info, scope: Scope | None) -> DataLoader[UUID, AccountView | None]:
    """Only the caller's own account is visible."""

    async def load(keys: list[UUID]) -> list[AccountView | None]:
        if scope is None or scope.account_id not in keys:
            return [None] * len(keys)
        view = await info.context.services.get(AccountService).get_account(scope)
        return [view if k == scope.account_id else None for k in keys]

    return info.context.loader("identity.own_account", lambda: DataLoader(load_fn=load))


def _officer_loader(info: Info, scope: Scope | None) -> DataLoader[UUID, OfficerView | None]:
    async def load(keys: list[UUID]) -> list[OfficerView | None]:
        if scope is None:
            return [None] * len(keys)
        service = info.context.services.get(OfficerService)
        out: list[OfficerView | None] = []
        for key in keys:
            try:
                out.append(await service.get_officer(scope, key))
            except (NotFoundError, NotAllowedError):
                out.append(None)
        return out

    return info.context.loader("identity.officers", lambda: DataLoader(load_fn=load))


# --- types ------------------------------------------------------------------------------------


@strawberry.type(name="TokenPair", description="Access token (JWT, ≤ 15 min) and refresh token.")
class TokenPairType:
    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int

    @classmethod
    def of(cls, pair: TokenPair) -> TokenPairType:
        return cls(
            access_token=pair.access_token,
            refresh_token=pair.refresh_token,
            token_type=pair.token_type,
            expires_in=pair.expires_in,
        )


@strawberry.type(description="A code was sent (the same answer for every valid number).")
class OtpRequested:
    expires_in: int
    resend_after: int


@strawberry.type(description="The session is ended (also when it had ended before).")
class LoggedOut:
    ok: bool = True


@strawberry.type(description="A role of an account and the organisation unit it is bound to.")
class AccountRole:
    role: str
    unit_uuid: UUID | None
    unit_code: str | None
    unit_name: str | None
    unit_level: str | None

    @classmethod
    def of(cls, role: RoleView) -> AccountRole:
        return cls(
            role=role.role.value,
            unit_uuid=role.unit_id,
            unit_code=role.unit_code,
            unit_name=role.unit_name,
            unit_level=role.unit_level.value if role.unit_level else None,
        )


@strawberry.type(description="A signed-in person's own account (resolvable only by its owner).")
class Account(relay.Node):
    id: relay.NodeID[str]
    uuid: UUID
    kind: AccountKind
    display_name: str | None
    status: AccountStatus
    roles: list[AccountRole]
    masked_phone: str | None
    wechat_bound: bool
    created_at: datetime

    @classmethod
    def of(cls, view: AccountView) -> Account:
        return cls(
            id=str(view.id),
            uuid=view.id,
            kind=view.kind,
            display_name=view.display_name,
            status=view.status,
            roles=[AccountRole.of(r) for r in view.roles],
            masked_phone=view.masked_phone,
            wechat_bound=view.wechat_bound,
            created_at=view.created_at,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Account | None]:
        loader = _account_loader(info, await info.context.optional_scope())
        return await resolve_scoped(node_ids, loader, cls.of, AccountNotFound, required)


@strawberry.type(description="A police staff account in your jurisdiction.")
class Officer(relay.Node):
    id: relay.NodeID[str]
    uuid: UUID
    username: str
    display_name: str | None
    status: AccountStatus
    roles: list[AccountRole]
    created_at: datetime
    version: int

    @classmethod
    def of(cls, view: OfficerView) -> Officer:
        return cls(
            id=str(view.id),
            uuid=view.id,
            username=view.username,
            display_name=view.display_name,
            status=view.status,
            roles=[AccountRole.of(r) for r in view.roles],
            created_at=view.created_at,
            version=view.version,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Officer | None]:
        loader = _officer_loader(info, await info.context.optional_scope())
        return await resolve_scoped(node_ids, loader, cls.of, OfficerNotFound, required)


@strawberry.type
class OfficerPayload:
    officer: Officer


@strawberry.input
class CreateOfficerInput:
    username: str
    password: str
    unit_code: str
    role: str = strawberry.field(description="officer | station_admin | district_admin | auditor")
    display_name: str | None = None


SignInResult = Annotated[
    TokenPairType | SignInFailed | InvalidInput | NotAllowed | RateLimited | ServiceUnavailable,
    strawberry.union("SignInResult"),
]
RequestOtpResult = Annotated[
    OtpRequested | InvalidInput | RateLimited | ServiceUnavailable,
    strawberry.union("RequestOtpResult"),
]
CreateOfficerResult = Annotated[
    OfficerPayload | NotFound | NotAllowed | InvalidInput | Conflict,
    strawberry.union("CreateOfficerResult"),
]
DisableOfficerResult = Annotated[
    OfficerPayload | NotFound | NotAllowed | Conflict,
    strawberry.union("DisableOfficerResult"),
]


async def _sign_in(
    info: Info, attempt: Callable[[ClientInfo], Awaitable[TokenPair]]
) -> SignInResult:
    try:
        pair = await attempt(_client(info))
    except DomainError as error:
        return _problem(error, info.context.lang)  # type: ignore[return-value]
    return TokenPairType.of(pair)


@strawberry.type
class IdentityQuery:
    @strawberry.field(description="Your own account.")
    async def my_account(self, info: Info) -> Account:
        scope = await info.context.scope()
        return Account.of(await info.context.services.get(AccountService).get_account(scope))

    @strawberry.field(description="Officers in your jurisdiction, newest first (admins, auditors).")
    async def officers(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> relay.Connection[Officer]:
        scope = await info.context.scope()
        page = await info.context.services.get(OfficerService).list_officers(
            scope, limit=first_of(first), before=after_id(after)
        )
        return keyset_connection(page.items, Officer.of, more=page.next_before is not None)


@strawberry.type
class IdentityMutation:
    @strawberry.mutation(description="Send a sign-in code by SMS.")
    async def request_otp(self, info: Info, phone: str) -> RequestOtpResult:
        try:
            sent = await info.context.services.get(SignInService).request_otp(phone, _client(info))
        except DomainError as error:
            return _problem(error, info.context.lang)  # type: ignore[return-value]
        return OtpRequested(expires_in=sent.expires_in, resend_after=sent.resend_after)

    @strawberry.mutation(
        description="Sign in with the SMS code (first sign-in creates the account)."
    )
    async def verify_otp(self, info: Info, phone: str, code: str) -> SignInResult:
        service = info.context.services.get(SignInService)
        return await _sign_in(info, lambda client: service.verify_otp(phone, code, client))

    @strawberry.mutation(description="Officer sign-in with username and password.")
    async def login_with_password(self, info: Info, username: str, password: str) -> SignInResult:
        service = info.context.services.get(SignInService)
        return await _sign_in(
            info, lambda client: service.sign_in_with_password(username, password, client)
        )

    @strawberry.mutation(description="Sign in with a WeChat mini-program wx.login() code.")
    async def login_with_wechat(self, info: Info, code: str) -> SignInResult:
        service = info.context.services.get(SignInService)
        return await _sign_in(info, lambda client: service.sign_in_with_wechat(code, client))

    @strawberry.mutation(description="Rotate a refresh token into a new token pair.")
    async def refresh_tokens(self, info: Info, refresh_token: str) -> SignInResult:
        service = info.context.services.get(SessionService)
        return await _sign_in(info, lambda client: service.refresh(refresh_token, client))

    @strawberry.mutation(description="End the session of a refresh token (idempotent).")
    async def logout(self, info: Info, refresh_token: str) -> LoggedOut:
        await info.context.services.get(SessionService).logout(refresh_token, _client(info))
        return LoggedOut()

    @strawberry.mutation(description="Create an officer account bound to a unit (admins).")
    async def create_officer(self, info: Info, input: CreateOfficerInput) -> CreateOfficerResult:
        scope = await info.context.scope()
        command = NewOfficer(
            username=input.username,
            password=input.password,
            unit_code=input.unit_code,
            role=input.role,
            display_name=input.display_name,
        )
        try:
            officer = await info.context.services.get(OfficerService).create_officer(scope, command)
        except DomainError as error:
            return problem_of(error, info.context.lang)  # type: ignore[return-value]
        return OfficerPayload(officer=Officer.of(officer))

    @strawberry.mutation(description="Disable an officer account and end all its sessions.")
    async def disable_officer(
        self, info: Info, id: relay.GlobalID, expected_version: int | None = None
    ) -> DisableOfficerResult:
        scope = await info.context.scope()
        service = info.context.services.get(OfficerService)
        try:
            officer_id = node_uuid(id, "Officer", OfficerNotFound)
            officer = await service.disable_officer(
                scope, officer_id, expected_version=expected_version
            )
        except DomainError as error:
            return problem_of(error, info.context.lang)  # type: ignore[return-value]
        return OfficerPayload(officer=Officer.of(officer))
