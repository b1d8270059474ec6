"""``ctxrouter models list`` and ``ctxrouter cost project`` through a real Typer app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

runner = CliRunner(env={"COLUMNS": "250"})


def test_models_list_json_has_prices_in_force_and_every_row(app: typer.Typer) -> None:
    result = runner.invoke(app, ["models", "list", "--json", "--on", "2026-10-06"])
    assert result.exit_code == 0, result.output
    data = {m["id"]: m for m in json.loads(result.stdout)}
    sonnet = data["claude-sonnet-5-5"]
    assert sonnet["serves_tiers"] == ["sonnet"]
    assert sonnet["in_force"]["cache_read"] == 0.20
    assert [r["effective_from"] for r in sonnet["prices"]] == [None, "2026-10-07"]
    assert sonnet["retrieved"] == "2026-11-26"
    haiku = data["claude-haiku-5-5"]
    assert haiku["in_force"]["long_context"]["above_prompt_tokens"] == 100_000
    assert haiku["in_force"]["long_context"]["output"] == 2.50
    assert data["claude-opus-5-5"]["fast_multiplier"] == 2.0
    assert data["claude-opus-5"]["serves_tiers"] == []
    assert data["claude-haiku-4-5"]["context_window"] is None

    later = runner.invoke(app, ["models", "list", "--json", "--on", "2026-10-07"])
    sonnet_later = {m["id"]: m for m in json.loads(later.stdout)}["claude-sonnet-5-5"]
    assert sonnet_later["in_force"]["cache_read"] == 0.10


def test_models_list_table(app: typer.Typer) -> None:
    result = runner.invoke(app, ["models", "list", "--on", "2026-11-26"])
    assert result.exit_code == 0, result.output
    assert "claude-haiku-5-5" in result.stdout
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines() if line.strip()}
    long = next(line.split() for line in result.stdout.splitlines() if "> 100,000 " in line)
    assert long == ["└", "prompt", ">", "100,000", "0.50", "2.50", "0.625", "1.00", "0.05"]
    assert rows["claude-sonnet-5-5"] == [
        *("claude-sonnet-5-5", "sonnet", "2.00", "10.00", "2.50", "4.00", "0.10"),
        *("50%", "off", "—", "1,000,000", "2026-10-07", "[1]"),
    ]
    assert rows["claude-opus-5-5"][8:10] == ["off", "2x"]
    assert "[1] published pages as reported in November 2026" in result.stdout
    assert "shipped: retrieved 2026-11-26" in result.stdout


def test_models_list_shows_a_users_unpriced_model(app: typer.Typer, tmp_path: Path) -> None:
    prices = tmp_path / "prices.yaml"
    prices.write_text(
        "schema_version: 1\nretrieved: 2026-11-01\nmodels:\n"
        "  - {id: claude-mystery, generation: x, source: transcripts}\n",
        encoding="utf-8",
    )
    config = tmp_path / "config.toml"
    config.write_text(f'models_file = "{prices}"\n', encoding="utf-8")
    result = runner.invoke(app, ["--config", str(config), "models", "list", "--json"])
    assert result.exit_code == 0, result.output
    mystery = {m["id"]: m for m in json.loads(result.stdout)}["claude-mystery"]
    assert mystery["priced"] is False
    assert mystery["in_force"] is None
    table = runner.invoke(app, ["--config", str(config), "models", "list"])
    assert "unpriced" in table.stdout


def test_bad_models_file_exits_with_the_file_and_field(app: typer.Typer, tmp_path: Path) -> None:
    prices = tmp_path / "prices.yaml"
    prices.write_text(
        "schema_version: 1\nretrieved: 2026-11-01\nmodels:\n"
        "  - {id: m, generation: x, source: s, batch_discount: 2}\n",
        encoding="utf-8",
    )
    config = tmp_path / "config.toml"
    config.write_text(f'models_file = "{prices}"\n', encoding="utf-8")
    result = runner.invoke(app, ["--config", str(config), "models", "list"])
    assert result.exit_code == 2
    assert f"{prices}: models[0] (m).batch_discount:" in result.stderr


def test_bad_date_is_refused(app: typer.Typer) -> None:
    result = runner.invoke(app, ["models", "list", "--on", "26/11/2026"])
    assert result.exit_code == 2
    assert "--on: '26/11/2026' is not a date; use YYYY-MM-DD" in result.stderr


def test_cost_project_json_both_bases(app: typer.Typer) -> None:
    result = runner.invoke(app, ["cost", "project", "--json", "--on", "2026-11-26"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["claims"]["hybrid_per_task_usd"] == 4.76
    assert data["claims"]["savings_vs_all_sonnet_pct"] == 68
    strategy, today = data["projections"]
    assert strategy["basis"] == "strategy"
    assert strategy["hybrid_per_task"] == 7.8
    assert strategy["all_sonnet_per_task"] == 15.0
    assert strategy["all_opus_per_task"] == 25.0
    assert strategy["hybrid_per_day"] == 7800.0
    assert strategy["savings_vs_all_sonnet_pct"] == 48.0
    assert today["basis"] == "today"
    assert today["profile"] == {
        "input_tokens": 20000,
        "output_tokens": 2000,
        "cache_read_share": 0.0,
        "cache_write_share": 0.0,
    }
    assert today["hybrid_per_task"] == 0.0948
    assert today["all_sonnet_per_day"] == 300.0
    assert today["savings_vs_all_sonnet_pct"] == 68.4


def test_cost_project_table_puts_claims_beside_computed(app: typer.Typer) -> None:
    result = runner.invoke(
        app, ["cost", "project", "--input-tokens", "10000", "--output-tokens", "1000"]
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    summary = next(line for line in out.splitlines() if "hybrid / task" in line)
    assert [cell.strip() for cell in summary.split("│")[2:5]] == ["$7.80", "$0.0474", "$4.76"]
    savings = next(line for line in out.splitlines() if "savings vs all-sonnet" in line)
    assert "48.0%" in savings
    assert "68%" in savings
    assert "opus = claude-opus-5 is our assumption" in out
    assert "10,000 input + 1,000 output tokens per call" in out


def test_cost_project_custom_mix_and_cache_share(app: typer.Typer, tmp_path: Path) -> None:
    mix = tmp_path / "mix.yaml"
    mix.write_text(
        "schema_version: 1\nname: mine\ntasks_per_day: 100\n"
        "kinds:\n  - {name: review, share: 1, calls: {sonnet: 1, haiku: 1}}\n",
        encoding="utf-8",
    )
    args = ["cost", "project", "--mix", str(mix), "--cache-read-share", "0.5", "--json"]
    result = runner.invoke(app, [*args, "--on", "2026-11-26"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["claims"] is None
    (today,) = data["projections"]
    # sonnet 10k x 2 + 10k x 0.10 + 2k x 10; haiku 10k x 0.10 + 10k x 0.01 + 2k x 0.5 (per M)
    assert today["per_call"] == {"haiku": 0.0021, "sonnet": 0.041, "opus": 0.082}
    assert today["hybrid_per_day"] == pytest.approx(4.31)


@pytest.mark.parametrize(
    "args",
    [
        ["--input-tokens", "-1"],
        ["--output-tokens", "lots"],
        ["--cache-read-share", "1.5"],
        ["--cache-read-share", "0.6", "--cache-write-share", "0.6"],
    ],
)
def test_cost_project_refuses_bad_token_profiles(app: typer.Typer, args: list[str]) -> None:
    result = runner.invoke(app, ["cost", "project", *args])
    assert result.exit_code != 0
    assert result.stdout == ""


def test_cost_project_missing_mix(app: typer.Typer, tmp_path: Path) -> None:
    result = runner.invoke(app, ["cost", "project", "--mix", str(tmp_path / "none.yaml")])
    assert result.exit_code == 2
    assert "cannot read the mix file" in result.stderr
