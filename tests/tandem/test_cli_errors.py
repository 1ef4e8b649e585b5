"""Every command that reads a file, given a missing, empty, binary or wrong-format file: a short error.

Each case runs through the real root group (`tandem.cli.app`), so the one error mechanism is what is
tested: a non-zero exit by SystemExit (never an escaped exception), one or two lines naming the problem.
A few cases also run as a real process, to see exactly what a person's terminal shows.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tandem.cli import app

REPO = Path(__file__).resolve().parents[2]

# Each command that reads a file: its arguments around the file, and what a wrong-format file must say.
FILE_COMMANDS: dict[str, tuple[list[str], list[str], str]] = {
    "fraud score": (["fraud", "score"], [], "match no known format"),
    "fraud evaluate": (["fraud", "evaluate"], [], "match no known format"),
    "discovery import": (["discovery", "import"], ["--dry-run"], "has no followers or subscribers column"),
    "forecast evaluate": (["forecast", "evaluate"], [], "missing input columns"),
    "forecast train-page-posts": (["forecast", "train-page-posts"], [], "missing input columns"),
    "experiments analyze": (
        ["experiments", "analyze"],
        ["--variant", "arm", "--metric", "y"],
        "column 'arm' not in",
    ),
}
KINDS = {"missing": "does not exist", "empty": "is empty", "binary": "not a text file", "wrong": ""}


def _file(folder: Path, kind: str) -> Path:
    # Named like a ranking file, so `discovery import` gets as far as reading its columns.
    path = folder / f"instagram_{kind}.csv"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "binary":
        path.write_bytes(bytes(range(256)) * 40)
    elif kind == "wrong":
        path.write_text("a,b,c\n1,2,3\n4,5,6\n")
    return path


def run(args: list[str], **env: str) -> tuple[int, str, BaseException | None]:
    result = CliRunner().invoke(app, args, env={"COLUMNS": "250", **env})
    return result.exit_code, result.output, result.exception


def assert_short_error(code: int, output: str, exception: BaseException | None, words: str) -> None:
    assert code != 0, output
    assert exception is None or isinstance(exception, SystemExit), f"escaped: {exception!r}"
    assert "Traceback" not in output
    lines = output.strip().splitlines()
    assert 1 <= len(lines) <= 2, output
    assert lines[0].startswith("Error: ") and words in output, output


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("command", FILE_COMMANDS)
def test_a_bad_input_file_is_named_in_one_or_two_lines(command: str, kind: str, tmp_path: Path) -> None:
    before, after, wrong_words = FILE_COMMANDS[command]
    path = _file(tmp_path, kind)
    code, output, exc = run([*before, str(path), *after, "--models-dir", str(tmp_path)] if "train" in command
                            else [*before, str(path), *after])  # fmt: skip
    assert_short_error(code, output, exc, KINDS[kind] or wrong_words)
    assert path.name in output


def test_a_header_without_rows_is_an_error_not_an_empty_result(tmp_path: Path) -> None:
    header = "Page total likes,Type,Category,Post Month,Post Weekday,Post Hour,Paid,Lifetime Post Consumers\n"
    (tmp_path / "posts.csv").write_text(header)
    assert_short_error(
        *run(["forecast", "evaluate", str(tmp_path / "posts.csv")]), "has a header but no data rows"
    )
    (tmp_path / "accounts.csv").write_text("profile pic,nums/length username,#followers,#follows,#posts\n")
    out = tmp_path / "scores.csv"
    assert_short_error(
        *run(["fraud", "score", str(tmp_path / "accounts.csv"), "--out", str(out)]), "no data rows"
    )
    assert not out.exists()


def test_forecast_evaluate_without_any_target_column_says_so(tmp_path: Path) -> None:
    path = tmp_path / "inputs_only.csv"
    path.write_text(
        "Page total likes,Type,Category,Post Month,Post Weekday,Post Hour,Paid\n139441,Photo,2,12,4,3,0\n"
    )
    assert_short_error(*run(["forecast", "evaluate", str(path)]), "none of the target columns")


def test_a_missing_model_names_the_registry_and_how_to_train(tmp_path: Path) -> None:
    data = tmp_path / "accounts.csv"
    data.write_text("profile pic,nums/length username,#followers,#follows,#posts\n1,0.1,100,50,10\n")
    code, output, exc = run(["fraud", "score", str(data), "--models-dir", str(tmp_path / "none")])
    assert_short_error(code, output, exc, "no model 'fake_account'")
    assert "tandem fraud train" in output


def test_review_against_a_service_that_is_not_running_says_where_and_how_to_start_it() -> None:
    url = "http://127.0.0.1:9"  # the discard port: nothing listens there
    args = ["review", "add-reviewer", "ann@demo", "--name", "Ann", "--market", "US", "--url", url]
    code, output, exc = run(args)
    assert_short_error(code, output, exc, f"no Tandem service is reachable at {url}")
    assert "make run" in output and "--url" in output


def _tandem(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "COLUMNS": "250", **env}
    return subprocess.run([sys.executable, "-m", "tandem.cli", *args], capture_output=True, text=True,
                          cwd=REPO, env=environ, timeout=120)  # fmt: skip


def test_a_person_sees_two_lines_and_verbose_shows_the_traceback(tmp_path: Path) -> None:
    url = "http://127.0.0.1:9"
    args = ["review", "add-reviewer", "ann@demo", "--name", "Ann", "--market", "US", "--url", url]
    quiet = _tandem(*args)
    assert quiet.returncode == 1 and quiet.stdout == ""
    assert (
        quiet.stderr.splitlines()[0]
        == f"Error: no Tandem service is reachable at {url} ([Errno 111] Connection refused)"
    )
    assert len(quiet.stderr.splitlines()) == 2 and "Traceback" not in quiet.stderr
    loud = _tandem(*args, "--verbose")  # accepted after the command too, where people add it
    assert loud.returncode == 1 and "ConnectError" in loud.stderr and len(loud.stderr.splitlines()) > 10


def test_missing_file_in_a_real_terminal_session(tmp_path: Path) -> None:
    done = _tandem("fraud", "score", str(tmp_path / "nope.csv"))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [
        f"Error: Invalid value for 'path': {tmp_path / 'nope.csv'} does not exist",
        "Try 'tandem fraud score --help' for help.",
    ]
