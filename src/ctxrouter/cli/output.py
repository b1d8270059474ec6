"""Printing for the CLI: Rich tables for people, ``--json`` for programs.

Data goes to stdout; diagnostics and errors go to stderr.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, ProgressColumn, TextColumn

from ctxrouter.errors import CatalogError, CtxRouterError

T = TypeVar("T")


def stdout() -> Console:
    """The console for data. Piped output (docs, logs) gets 120 columns unless COLUMNS says."""
    console = Console(soft_wrap=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(soft_wrap=False, width=120)
    return console


def stderr() -> Console:
    """The console for diagnostics. Flushes stdout first so the two keep their order."""
    sys.stdout.flush()
    return Console(stderr=True, soft_wrap=True)


def progress_bar(label: str, *columns: ProgressColumn, transient: bool = True) -> Progress:
    """A progress bar on stderr, as every long command shows one: ``label``, the bar, then
    ``columns`` (counts, speed, time)."""
    return Progress(TextColumn(label), BarColumn(), *columns, console=stderr(), transient=transient)


def _default(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(data: Any, *, indent: int | None = 2) -> str:
    return json.dumps(data, default=_default, indent=indent, ensure_ascii=False)


def print_json(data: Any, *, lines: bool = False) -> None:
    """Print ``data`` as JSON; with ``lines`` print one compact object per item (JSONL)."""
    if lines:
        for item in data:
            sys.stdout.write(dumps(item, indent=None) + "\n")
    else:
        sys.stdout.write(dumps(data) + "\n")
    sys.stdout.flush()


def usd(value: float) -> str:
    """Dollars: cents from $1 up, four decimals below (a minus sign before the $)."""
    sign, value = ("-" if value < 0 else ""), abs(value)
    return f"{sign}${value:,.2f}" if value >= 1 else f"{sign}${value:.4f}"


def print_store(label: str, *, verb: str = "store:") -> None:
    """Say which event store a command used (on stderr: stdout keeps the data)."""
    stderr().print(f"{verb} {label}", style="dim", markup=False, highlight=False)


def print_nothing(what: str, label: str) -> None:
    """A read that found nothing: what, and in which store (on stdout: it is the answer)."""
    stdout().print(f"{what} (store: {label})", markup=False, highlight=False)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print an error to stderr and return the Exit to raise."""
    stderr().print(f"[bold red]error:[/] {escape(message)}", markup=True, highlight=False)
    return typer.Exit(code)


@contextmanager
def errors_as_exit() -> Iterator[None]:
    """Turn ctxrouter's own errors into a clean message and a non-zero exit code."""
    try:
        yield
    except CatalogError as exc:
        console = stderr()
        errors = [p for p in exc.problems if p.severity == "error"]
        console.print(f"[bold red]error:[/] {len(errors)} problem(s) in agent definitions")
        for problem in exc.problems:
            console.print(f"  {problem}", markup=False, highlight=False)
        raise typer.Exit(2) from None
    except CtxRouterError as exc:
        raise fail(str(exc)) from None


def guarded(func: Callable[..., T]) -> Callable[..., T]:
    """Decorator form of :func:`errors_as_exit` for Typer commands."""
    import functools

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        with errors_as_exit():
            return func(*args, **kwargs)

    return wrapper
