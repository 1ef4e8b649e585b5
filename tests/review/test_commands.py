"""`tandem review simulate`: the simulator from the command line."""

from __future__ import annotations

from typer.testing import CliRunner

from tandem.commands.review import app


def test_simulate_prints_the_month_and_the_mix_table() -> None:
    args = ["simulate", "--campaigns", "50", "--finalists", "20", "--strategic-share", "0.2",
            "--in-house", "3", "--freelance", "4", "--capacity", "20"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    first = result.output.splitlines()[0]
    assert first.startswith("1,000 finalists -> 762 human reviews (152 h), 53% seen by people")
    assert "capacity 2,940" in first
    assert "100% |   2,150 |      100%" in result.output
