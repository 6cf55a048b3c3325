"""Creating the SQLAlchemy engine the Master runs on (psycopg 3)."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url

_DRIVER = "postgresql+psycopg"


def create_master_engine(url: str, *, pool_size: int = 2) -> Engine:
    """An engine for the Master's database; the URL must use the `postgresql+psycopg` driver.

    A small pool is enough for one desktop client; pre-ping because SSH tunnels drop idle
    connections without telling the pool. Parameters are hidden from error messages and logs:
    they may hold vault material or sealed tokens, and errors end up in dialogs and bug reports.
    """
    parsed = make_url(url)
    if parsed.drivername != _DRIVER:
        raise ValueError(
            f"The Master needs a {_DRIVER}:// database URL, not {parsed.drivername}://"
        )
    return create_engine(parsed, pool_size=pool_size, pool_pre_ping=True, hide_parameters=True)
