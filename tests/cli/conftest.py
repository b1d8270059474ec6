"""What the CLI's tests share: the real Typer app, an isolated data dir, and a store of each
backend that the settings point at (``cli_store``)."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer

from ctxrouter.cli.app import app as ctxrouter_app
from stores import StoreBackend


@pytest.fixture
def app() -> typer.Typer:
    """The ``ctxrouter`` command line, as installed."""
    return ctxrouter_app


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The settings' data dir, from the environment (nothing in it yet)."""
    monkeypatch.setenv("CTXROUTER_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


@pytest.fixture
def db(data_dir: Path) -> Path:
    """The default store: the SQLite file <data_dir>/ctxrouter.db (not created yet)."""
    return data_dir / "ctxrouter.db"


@pytest.fixture
def cli_store(
    store_backend: StoreBackend, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> StoreBackend:
    """The configured store, once a SQLite file (``database``) and once a fresh PostgreSQL
    schema (``store_url`` and ``store_schema``), as a user's settings would name them."""
    for name, value in store_backend.env.items():
        monkeypatch.setenv(name, value)
    return store_backend
