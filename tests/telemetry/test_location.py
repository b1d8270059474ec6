"""store_label: which store, for people, never with a password; with psycopg's parser and
without it (a real interpreter where psycopg cannot be imported)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ctxrouter.config import Settings
from ctxrouter.errors import ConfigError
from ctxrouter.telemetry import SQLiteStore, open_store, store_label
from ctxrouter.telemetry.location import masked_url

# (what the settings' store_url, a --db or a PostgresStore's url holds, its label)
URLS = [
    (
        "postgresql://app:s3cret@db.internal:5432/fleet",
        "postgresql://app:***@db.internal:5432/fleet",
    ),
    ("postgres://app@db/fleet", "postgresql://app@db/fleet"),
    ("postgresql://db.internal/fleet", "postgresql://db.internal/fleet"),
    ("postgresql://app:p%40ss@db/fleet?sslmode=require", "postgresql://app:***@db/fleet"),
    (
        "postgresql://app@db/fleet?password=s3cret&application_name=x",
        "postgresql://app:***@db/fleet",
    ),
    ("postgresql://app:s3cret@[::1]:6543/fleet", "postgresql://app:***@[::1]:6543/fleet"),
    (
        "postgresql:///fleet?host=/var/run/postgresql",
        "postgresql:///fleet?host=/var/run/postgresql",
    ),
    ("postgresql://", "postgresql:///"),
    # libpq's keyword=value form, as PostgresStore accepts it
    (
        "host=db port=5432 dbname=fleet user=app password=s3cret",
        "postgresql://app:***@db:5432/fleet",
    ),
    ("dbname = fleet user=app password='it''s s3cret'", "postgresql://app:***@/fleet"),
    ("host=db dbname=fleet password='s3 \\' cret' user=app", "postgresql://app:***@db/fleet"),
]


@pytest.mark.parametrize(("url", "label"), URLS)
def test_masked_url(url: str, label: str) -> None:
    assert masked_url(url) == label
    assert "s3" not in masked_url(url) and "p%40ss" not in masked_url(url)


def test_the_same_labels_without_psycopg() -> None:
    """Where psycopg is not installed, the urllib and key=value readers give the same labels."""
    code = (
        "import json, sys\n"
        "sys.modules['psycopg'] = None  # import psycopg now raises ImportError\n"
        "from ctxrouter.telemetry.location import masked_url\n"
        "print(json.dumps([masked_url(url) for url in json.loads(sys.argv[1])]))\n"
    )
    urls = [url for url, _ in URLS if "''" not in url]  # libpq reads '' as a quote; so do we
    run = subprocess.run(
        [sys.executable, "-c", code, json.dumps(urls)], capture_output=True, text=True, check=True
    )
    assert json.loads(run.stdout) == [label for url, label in URLS if url in urls]


def test_other_urls_keep_their_form_with_the_password_masked() -> None:
    assert masked_url("mysql://app:s3cret@db/fleet?password=x&ssl=1") == (
        "mysql://app:***@db/fleet?password=***&ssl=1"
    )


def test_sqlite_labels_are_the_file(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    with SQLiteStore(path) as store:
        assert store_label(store) == str(path)
    assert store_label(path) == store_label(str(path)) == str(path)
    assert store_label(Settings.load(database=path)) == str(path)
    assert store_label(Settings.load(data_dir=tmp_path)) == str(tmp_path / "ctxrouter.db")


def test_postgresql_labels_name_the_schema() -> None:
    url = "postgresql://app:s3cret@db:5432/fleet"
    assert store_label(url) == "postgresql://app:***@db:5432/fleet (schema ctxrouter)"
    assert store_label(url, schema="team_a").endswith("(schema team_a)")
    settings = Settings.load(store_url=url, store_schema="team_b")
    assert store_label(settings) == "postgresql://app:***@db:5432/fleet (schema team_b)"


def test_a_store_url_open_store_refuses_is_still_masked() -> None:
    settings = Settings.load(store_url="mysql://app:s3cret@db/fleet")
    assert store_label(settings) == "mysql://app:***@db/fleet"


def test_another_store_is_its_repr() -> None:
    class Elsewhere:
        def __repr__(self) -> str:
            return "Elsewhere('s3://bucket')"

    assert store_label(Elsewhere()) == "Elsewhere('s3://bucket')"


def test_the_label_names_the_store_open_store_opens(pg_schema: tuple[str, str]) -> None:
    """open_store(settings) keeps its tables in the store_schema setting; the label says so."""
    url, schema = pg_schema
    settings = Settings.load(store_url=url, store_schema=schema)
    with open_store(settings) as store:
        assert store.schema == schema  # type: ignore[union-attr]
        assert store_label(store) == store_label(settings) == f"{masked_url(url)} (schema {schema})"
        assert store.query("SELECT current_schema()") == [(schema,)]


def test_a_store_schema_must_be_named() -> None:
    with pytest.raises(ConfigError, match="store_schema"):
        Settings.load(store_schema="")
