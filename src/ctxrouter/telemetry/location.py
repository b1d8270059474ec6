"""Which event store, in words a person can read (and paste): :func:`store_label`.

::

    store_label(SQLiteStore(path))  # '/home/me/.local/share/ctxrouter/ctxrouter.db'
    store_label("postgresql://app:s3cret@db:5432/fleet")
    # 'postgresql://app:***@db:5432/fleet (schema ctxrouter)'
    store_label(settings)  # the store open_store(settings) opens

A label never holds a password: the one in a URL's user part, a ``password=`` query parameter
or a libpq ``password=...`` keyword becomes ``***``. PostgreSQL URLs and libpq ``key=value``
strings are read with psycopg's parser when psycopg is installed, else with :mod:`urllib` and a
small ``key=value`` reader; nothing here connects or opens anything.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlsplit

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
DEFAULT_SCHEMA = "ctxrouter"
MASK = "***"

# libpq's keyword=value form: a keyword, '=', then a 'single-quoted' (\' and \\ escaped) or bare
# value (https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNSTRING-KEYWORD-VALUE)
_KEYWORD_VALUE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*=\s*('(?:[^'\\]|\\.)*'|\S*)")


def is_postgres_url(text: str) -> bool:
    """Whether ``text`` is a PostgreSQL URL (``postgresql://`` or ``postgres://``)."""
    return text.startswith(POSTGRES_SCHEMES)


def store_label(where: object, *, schema: str | None = None) -> str:
    """Which store ``where`` is or names, for people; never with a password.

    - ``Settings``: the store :func:`ctxrouter.telemetry.open_store` opens for them
      (``store_url`` and ``store_schema``, else ``database_path``);
    - a SQLite store, a path, or a string that is not a PostgreSQL URL: the file's path;
    - a PostgreSQL store, or a ``postgresql://`` URL: ``postgresql://user:***@host:port/dbname
      (schema NAME)``; ``schema`` for a URL defaults to ``ctxrouter``;
    - any other store: its ``repr``.
    """
    from ctxrouter.config import Settings
    from ctxrouter.telemetry.sqlite import SQLiteStore

    if isinstance(where, Settings):
        url = where.store_url
        if url is None:
            return str(where.database_path)
        if not is_postgres_url(url):  # open_store refuses it: say what it was
            return masked_url(url) if "=" in url or "://" in url else url
        return f"{masked_url(url)} (schema {schema or where.store_schema})"
    if isinstance(where, SQLiteStore):
        return str(where.path)
    if isinstance(where, Path):
        return str(where)
    if isinstance(where, str):
        if not is_postgres_url(where):
            return where
        return f"{masked_url(where)} (schema {schema or DEFAULT_SCHEMA})"
    url, store_schema = getattr(where, "url", None), getattr(where, "schema", None)
    if isinstance(url, str) and isinstance(store_schema, str):  # a PostgresStore (no psycopg here)
        return f"{masked_url(url)} (schema {store_schema})"
    return repr(where)


def masked_url(url: str) -> str:
    """A PostgreSQL URL or libpq ``key=value`` string as ``postgresql://user:***@host:port/db``:
    the user, host, port and database given, ``***`` for a password given, nothing else (other
    parameters can hold secrets too). Any other URL keeps its form with the password masked."""
    if not is_postgres_url(url) and "://" in url:
        return _mask_other_url(url)
    params = _conninfo(url)
    user, host, port = params.get("user", ""), params.get("host", ""), params.get("port", "")
    host = host or params.get("hostaddr", "")
    userinfo = quote(user, safe="") + (":" + MASK if params.get("password") else "")
    socket = host.startswith("/")  # a Unix-domain socket's folder: as a parameter
    netloc = "" if socket else _bracketed(host) + (f":{port}" if port else "")
    text = "postgresql://" + (f"{userinfo}@" if userinfo else "") + netloc
    text += "/" + quote(params.get("dbname", ""), safe="")
    if socket:
        text += f"?host={host}" + (f"&port={port}" if port else "")
    return text


def _conninfo(url: str) -> dict[str, str]:
    """The connection parameters ``url`` gives (libpq's reading when psycopg is installed)."""
    try:
        from psycopg import ProgrammingError
        from psycopg.conninfo import conninfo_to_dict
    except ImportError:
        return _parse(url)
    try:
        parsed = conninfo_to_dict(url)
    except ProgrammingError:  # libpq refuses it: open_store will say why; label what we can read
        return _parse(url)
    return {k: str(v) for k, v in parsed.items() if v is not None}


def _parse(url: str) -> dict[str, str]:
    """The connection parameters of a URL or ``key=value`` string, without libpq."""
    if not is_postgres_url(url):
        params = {}
        for key, value in _KEYWORD_VALUE.findall(url):
            if value.startswith("'"):
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            params[key] = value
        return params
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")
    userinfo, hostport = (netloc[0], netloc[2]) if netloc[1] else ("", netloc[2])
    user, colon, password = userinfo.partition(":")
    if hostport.startswith("["):  # [::1]:5432
        host, _, rest = hostport[1:].partition("]")
        port = rest.removeprefix(":")
    else:
        host, _, port = hostport.partition(":")
    found = {
        "user": unquote(user),
        "password": unquote(password) if colon else "",
        "host": unquote(host),
        "port": port,
        "dbname": unquote(parts.path.removeprefix("/")),
    }
    found.update(parse_qsl(parts.query))
    return {k: v for k, v in found.items() if v}


def _bracketed(host: str) -> str:
    """An IPv6 address in brackets, as a URL writes it (a host list is left as it is)."""
    return f"[{host}]" if ":" in host and "," not in host and not host.startswith("[") else host


def _mask_other_url(url: str) -> str:
    """A URL of another kind, with any password in its user part or query masked."""
    parts = urlsplit(url)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if at and ":" in userinfo:
        userinfo = userinfo.partition(":")[0] + ":" + MASK
    query = "&".join(
        f"{k}={MASK if k.lower() == 'password' else quote(v, safe='')}"
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    )
    netloc = f"{userinfo}{at}{hostport}"
    return f"{parts.scheme}://{netloc}{parts.path}" + (f"?{query}" if query else "")
