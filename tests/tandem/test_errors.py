"""`tandem.errors.explain`: every kind of failure a command meets becomes a line and, where known, a hint."""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy
from kafka.errors import KafkaConnectionError

from shared.model_registry import ModelNotFound
from tandem.errors import VERBOSE_HINT, CliError, explain


def _connect_error() -> httpx.ConnectError:
    try:
        httpx.get("http://127.0.0.1:9/v1/x", timeout=2)
    except httpx.ConnectError as exc:
        return exc
    raise AssertionError("something listens on the discard port")


def _status_error() -> httpx.HTTPStatusError:
    request = httpx.Request("POST", "http://svc/v1/reviewers/x")
    response = httpx.Response(422, json={"detail": "markets: at least one"}, request=request)
    return httpx.HTTPStatusError("422", request=request, response=response)


def _database_error() -> sqlalchemy.exc.OperationalError:
    engine = sqlalchemy.create_engine("sqlite:////nonexistent-folder/x.db")
    try:
        engine.connect()
    except sqlalchemy.exc.OperationalError as exc:
        return exc
    raise AssertionError("opened a database in a folder that does not exist")


@pytest.mark.parametrize(
    ("exc", "message", "hint"),
    [
        (CliError("the file is odd", "Fix it."), "the file is odd", "Fix it."),
        (FileNotFoundError(2, "No such file", "in.csv"), "in.csv does not exist", "Check the path"),
        (PermissionError(13, "Permission denied", "/root/x"), "/root/x: permission denied", "Choose a path"),
        (IsADirectoryError(21, "Is a directory", "data"), "data is a folder; a file is needed here", ""),
        (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "bad"),
         "the input is not UTF-8 text", "CSV file saved as UTF-8"),
        (_connect_error(), "no Tandem service is reachable at http://127.0.0.1:9", "make run"),
        (_status_error(), "http://svc/v1/reviewers/x answered 422: markets: at least one", ""),
        (_database_error(), "cannot use the database: unable to open database file", "--database-url"),
        (ModelNotFound("no model 'x' under /m"), "no model 'x' under /m", "--models-dir"),
        (KafkaConnectionError("no broker at 127.0.0.1:9092"), "Kafka: ", "tandem broker"),
        (ValueError("3 rows, no header"), "3 rows, no header", ""),
        (TypeError("'NoneType' object is not iterable"), "unexpected TypeError", VERBOSE_HINT),
    ],
)  # fmt: skip
def test_explain_names_the_problem_and_what_to_do(exc: BaseException, message: str, hint: str) -> None:
    problem = explain(exc)
    assert problem.message.startswith(message), problem
    assert hint in problem.hint and problem.exit_code == 1
    assert len(problem.lines().splitlines()) == (2 if problem.hint else 1)
