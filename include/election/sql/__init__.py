"""SQL statements of the platform, one concern per `.sql` file, read by name."""

from __future__ import annotations

from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).parent


@cache
def read_sql(name: str) -> str:
    """The text of `include/election/sql/<name>` (e.g. "seed/registry_select.sql")."""
    return (SQL_DIR / name).read_text()
