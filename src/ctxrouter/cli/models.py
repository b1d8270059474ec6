"""``ctxrouter models``: the model registry and the prices in force."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from ctxrouter.cli.options import JsonOpt
from ctxrouter.cli.output import guarded, print_json, stdout
from ctxrouter.cli.state import state
from ctxrouter.errors import InputError
from ctxrouter.models.registry import ModelInfo, ModelRegistry, PriceRow, Rates

app = typer.Typer(no_args_is_help=True)

OnOpt = Annotated[
    str | None,
    typer.Option(
        "--on",
        metavar="YYYY-MM-DD",
        help="Use the prices in force on this day (YYYY-MM-DD). Default: today.",
    ),
]


def parse_day(value: str | None, *, flag: str = "--on") -> date:
    """A YYYY-MM-DD date from the command line, or today when not given."""
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InputError(f"{flag}: {value!r} is not a date; use YYYY-MM-DD") from None


def price(value: float) -> str:
    """USD per million tokens, with 2 or 3 decimals (0.10, 0.125, 2.00)."""
    text = f"{value:.3f}"
    return text[:-1] if text.endswith("0") else text


def _rates(rates: Rates) -> dict[str, float]:
    return {
        "input": rates.input,
        "output": rates.output,
        "cache_write_5m": rates.cache_write_5m,
        "cache_write_1h": rates.cache_write_1h,
        "cache_read": rates.cache_read,
    }


def _row_record(row: PriceRow) -> dict[str, Any]:
    long = row.long_context
    return {
        "effective_from": row.effective_from.isoformat() if row.effective_from else None,
        **_rates(row),
        "long_context": None
        if long is None
        else {"above_prompt_tokens": long.above_prompt_tokens, **_rates(long)},
    }


def model_record(registry: ModelRegistry, model: ModelInfo, day: date) -> dict[str, Any]:
    """The JSON form of a model: its tiers, modifiers, the row in force on ``day``, every row."""
    origin, retrieved = registry.origin(model.id)
    row = model.price_on(day)
    return {
        "id": model.id,
        "tier": model.tier.value if model.tier else None,
        "serves_tiers": [t.value for t in registry.tiers_of(model.id)],
        "generation": model.generation,
        "context_window": model.context_window,
        "batch_discount": model.batch_discount,
        "fast_multiplier": model.fast_multiplier,
        "us_only_multiplier": model.us_only_multiplier,
        "source": model.source,
        "from": origin,
        "retrieved": retrieved.isoformat(),
        "on": day.isoformat(),
        "priced": row is not None,
        "in_force": _row_record(row) if row is not None else None,
        "prices": [_row_record(r) for r in model.prices],
    }


def _cells(rates: Rates) -> list[str]:
    return [price(v) for v in _rates(rates).values()]


@app.command("list")
@guarded
def list_models(ctx: typer.Context, on: OnOpt = None, json_: JsonOpt = False) -> None:
    """List the known models: tier, prices in force (USD per million tokens), modifiers.

    A model priced by prompt length has a second line (└) with its long-context prices.
    """
    day = parse_day(on)
    registry = state(ctx).registry()
    if json_:
        print_json([model_record(registry, m, day) for m in registry.models()])
        return
    title = f"Models and prices in force on {day.isoformat()} (USD per 1M tokens)"
    table = Table(
        title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True
    )
    table.add_column("model", no_wrap=True)
    table.add_column("tier", no_wrap=True)
    for column in ("input", "output", "5m write", "1h write", "cache read"):
        table.add_column(column, justify="right", no_wrap=True)
    for column in ("batch", "fast", "context", "since", "source"):
        table.add_column(column, no_wrap=True)
    sources: dict[str, int] = {}  # source text -> footnote number
    for model in registry.models():
        name = escape(model.id)
        tiers = ", ".join(t.value for t in registry.tiers_of(model.id)) or "—"
        modifiers = [
            f"{model.batch_discount:.0%} off" if model.batch_discount is not None else "—",
            f"{model.fast_multiplier:g}x" if model.fast_multiplier is not None else "—",
            f"{model.context_window:,}" if model.context_window is not None else "—",
        ]
        source = f"[{sources.setdefault(model.source, len(sources) + 1)}]"
        row = model.price_on(day)
        if row is None:
            why = "unpriced" if not model.prices else f"no price on {day.isoformat()}"
            table.add_row(name, tiers, why, "", "", "", "", *modifiers, "—", escape(source))
            continue
        since = row.effective_from.isoformat() if row.effective_from else "release"
        table.add_row(name, tiers, *_cells(row), *modifiers, since, escape(source))
        if row.long_context is not None:
            label = f" └ prompt > {row.long_context.above_prompt_tokens:,}"
            table.add_row(label, "", *_cells(row.long_context), "", "", "", "", "")
    retrieved = sorted({registry.origin(i) for i in registry.ids()})
    notes = [
        "└ prompt > N: a request whose prompt (input + cache reads + writes) is above N tokens "
        "pays these prices on every token, output included",
        "batch: discount on input and output; context —: not stated by our sources",
        *(f"[{n}] {text}" for text, n in sources.items()),
        *(f"{origin}: retrieved {when.isoformat()}" for origin, when in retrieved),
    ]
    table.caption = escape("\n".join(notes))
    table.caption_justify = "left"
    stdout().print(table)
