from __future__ import annotations

from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def make_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> AsyncEngine:
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        echo=echo,
        # Statement errors (and echo) would otherwise carry the bound values - names,
        # blind indexes, tokens - into exception texts and from there into the logs.
        hide_parameters=True,
        connect_args={
            # JIT compilation costs more than it saves on short OLTP queries.
            "server_settings": {"jit": "off", "application_name": "shouwang"},
        },
    )


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
