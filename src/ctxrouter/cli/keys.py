"""``ctxrouter keys``: the gateway keys that let clients use a gateway beyond loopback."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.table import Table

from ctxrouter.cli.options import JsonOpt
from ctxrouter.cli.output import guarded, print_json, stderr, stdout
from ctxrouter.cli.state import state

app = typer.Typer(no_args_is_help=True)


@app.command("create")
@guarded
def create(
    ctx: typer.Context,
    user: Annotated[str, typer.Option("--user", help="Who the key belongs to (for budgets).")],
    team: Annotated[str | None, typer.Option("--team", help="The user's team.")] = None,
    json_: JsonOpt = False,
) -> None:
    """Create a key. The secret is printed once; only its SHA-256 is kept."""
    from ctxrouter.gateway.keys import KEY_HEADER, KeyRing

    path = state(ctx).settings.gateway_keys_path
    ring = KeyRing.load(path)
    key, secret = ring.create(user, team)
    ring.save(path)
    if json_:
        print_json({"id": key.id, "user": key.user, "team": key.team, "key": secret})
        return
    stdout().print(secret, highlight=False, markup=False)
    stderr().print(
        f"created {key.id} for {key.user}; it is shown only now. Clients send it as "
        f'{KEY_HEADER} (Claude Code: ANTHROPIC_CUSTOM_HEADERS="{KEY_HEADER}: <key>")',
        highlight=False,
        markup=False,
    )


@app.command("list")
@guarded
def list_keys(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """List the keys (ids and owners; never the secrets)."""
    from ctxrouter.gateway.keys import KeyRing

    ring = KeyRing.load(state(ctx).settings.gateway_keys_path)
    rows: list[dict[str, str | None]] = [
        {
            "id": key.id,
            "user": key.user,
            "team": key.team,
            "created": dt.datetime.fromtimestamp(key.created, dt.UTC).isoformat(),
        }
        for key in ring
    ]
    if json_:
        print_json(rows)
        return
    table = Table("id", "user", "team", "created")
    for row in rows:
        table.add_row(row["id"], row["user"], row["team"] or "", (row["created"] or "")[:19])
    stdout().print(table)


@app.command("revoke")
@guarded
def revoke(
    ctx: typer.Context, key_id: Annotated[str, typer.Argument(help="The key's id.")]
) -> None:
    """Revoke a key (a running gateway reads keys at start: restart it)."""
    from ctxrouter.gateway.keys import KeyRing

    path = state(ctx).settings.gateway_keys_path
    ring = KeyRing.load(path)
    key = ring.revoke(key_id)
    ring.save(path)
    stderr().print(f"revoked {key.id} ({key.user})", highlight=False, markup=False)
