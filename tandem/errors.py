"""What a person sees when a command fails: one line saying what was wrong, one saying what to do.

The root command group (`tandem.lazy.TandemGroup`) sends every exception a command raises through
`explain`; only `--verbose` shows the traceback. Commands raise `CliError` for problems they can name
themselves and let everything else (a missing file, a service that does not answer, a bad value) reach
the one place that turns it into words. Heavy libraries are looked up in `sys.modules` rather than
imported: if a command never loaded httpx, an httpx error cannot be the one being explained.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

import typer

VERBOSE_HINT = "Run again with --verbose to see where it happened, and tell us about it."


class CliError(Exception):
    """A problem the person can fix: `message` says what is wrong, `hint` what to do about it."""

    def __init__(self, message: str, hint: str = "", exit_code: int = 1) -> None:
        super().__init__(message)
        self.message, self.hint, self.exit_code = message, hint, exit_code


@dataclass(frozen=True)
class Problem:
    message: str
    hint: str = ""
    exit_code: int = 1

    def lines(self) -> str:
        return f"Error: {self.message}" + (f"\n{self.hint}" if self.hint else "")


def _loaded(module: str, name: str) -> type[BaseException] | None:
    """An exception class from a library the command has already imported, else None."""
    found = getattr(sys.modules.get(module), name, None)
    return found if isinstance(found, type) else None


def _usage(exc: typer.TyperException) -> Problem:
    ctx: Any = getattr(exc, "ctx", None)
    hint = f"Try '{ctx.command_path} --help' for help." if ctx is not None else ""
    return Problem(exc.format_message(), hint, exc.exit_code)


def _os_error(exc: OSError) -> Problem:
    name = exc.filename
    if name is None:
        return Problem(str(exc))
    if isinstance(exc, FileNotFoundError):
        return Problem(f"{name} does not exist", "Check the path (relative paths start in this folder).")
    if isinstance(exc, IsADirectoryError):
        return Problem(f"{name} is a folder; a file is needed here")
    if isinstance(exc, PermissionError):
        return Problem(f"{name}: permission denied", "Choose a path you may read (or write, for outputs).")
    return Problem(f"{name}: {exc.strerror or exc}")


def _http(exc: BaseException) -> Problem | None:
    transport = _loaded("httpx", "TransportError")
    status = _loaded("httpx", "HTTPStatusError")
    request = getattr(exc, "_request", None)  # `exc.request` raises when no request is attached
    if transport and isinstance(exc, transport):
        where = f"{request.url.scheme}://{request.url.netloc.decode()}" if request else "the service URL"
        return Problem(
            f"no Tandem service is reachable at {where} ({exc or type(exc).__name__})",
            "Start the platform with `make run` (it prints each service's URL) or one service with "
            "`tandem serve NAME`, and pass its URL with --url.",
        )
    if status and isinstance(exc, status):
        response: Any = exc.response  # type: ignore[attr-defined]
        try:
            detail = response.json().get("detail") or response.text
        except ValueError:
            detail = response.text
        return Problem(f"{response.request.url} answered {response.status_code}: {str(detail)[:300]}")
    return None


def _database(exc: BaseException) -> Problem | None:
    sa_error = _loaded("sqlalchemy.exc", "OperationalError")
    sa_argument = _loaded("sqlalchemy.exc", "ArgumentError")
    if sa_error and isinstance(exc, sa_error):
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        return Problem(
            f"cannot use the database: {reason}",
            "Check the URL (--database-url, or the service's TANDEM_<SERVICE>_DATABASE_URL) and that its server runs.",
        )
    if sa_argument and isinstance(exc, sa_argument):
        return Problem(f"not a database URL: {exc}", "Use e.g. sqlite:///var/x.db or postgresql://...")
    return None


def _kafka(exc: BaseException) -> Problem | None:
    kafka_error = _loaded("kafka.errors", "KafkaError")
    if kafka_error and isinstance(exc, kafka_error):
        return Problem(
            f"Kafka: {exc}",
            "Start a broker (`tandem broker`, or `make run`) and set TANDEM_KAFKA_BOOTSTRAP to its address.",
        )
    return None


def explain(exc: BaseException) -> Problem:
    """The words for any exception a command raised; unexpected ones still get a short line."""
    if isinstance(exc, CliError):
        return Problem(exc.message, exc.hint, exc.exit_code)
    if isinstance(exc, typer.TyperException):
        return _usage(exc)
    if isinstance(exc, UnicodeDecodeError):
        return Problem(
            "the input is not UTF-8 text (is it a binary file?)", "Give a CSV file saved as UTF-8."
        )
    if isinstance(exc, OSError):
        return _os_error(exc)
    found = _http(exc) or _database(exc) or _kafka(exc)
    if found:
        return found
    missing_model = _loaded("shared.model_registry", "ModelNotFound")
    if missing_model and isinstance(exc, missing_model):
        return Problem(
            str(exc).strip("'\""),
            "Train it first (`tandem train`, `tandem fraud train`, `tandem forecast train-page-posts`) or "
            "point --models-dir (TANDEM_MODELS_DIR) at a registry that has it.",
        )
    domain = _loaded("shared.errors", "TandemError")
    if domain and isinstance(exc, domain):
        return Problem(str(getattr(exc, "detail", exc)))
    if isinstance(exc, ValueError | KeyError | TimeoutError):
        return Problem(str(exc).strip("'\"") or type(exc).__name__, str(getattr(exc, "hint", "")))
    return Problem(f"unexpected {type(exc).__name__}: {exc}", VERBOSE_HINT)
