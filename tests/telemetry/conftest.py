"""The store fixtures (``any_store``, ``store_backend``, ``pg_schema``, ...) are in
tests/stores.py, shared with the CLI's tests."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.stores import AnyStore, StoreBackend  # noqa: F401  (the suites' type hints)
