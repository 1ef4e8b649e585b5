"""The root command group: command modules imported only when used, and errors in words, not tracebacks.

`tandem --help` lists every group from `tandem.commands.GROUPS` (name and one-line help) without
importing a single command module; `tandem fraud ...` imports `tandem.commands.fraud` and nothing else.
Every exception a command raises is explained in one or two lines by `tandem.errors.explain`, unless
the person asked for the traceback with `--verbose`.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import typer
from typer.core import TyperGroup

from tandem.errors import explain


class LazyGroup(TyperGroup):
    """Stands in for a command module's group: its name and help are known, its module is not loaded."""

    def __init__(self, name: str, module: str, help: str) -> None:
        super().__init__(name=name, help=help)
        self.module = module
        self._loaded: TyperGroup | None = None

    def load(self) -> TyperGroup:
        if self._loaded is None:
            group = typer.main.get_group(importlib.import_module(self.module).app)
            group.name = self.name
            self._loaded = group
        return self._loaded

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        # The real group parses and runs; this one only had to answer `tandem --help`.
        return self.load().make_context(info_name, args, parent=parent, **extra)


class TandemGroup(TyperGroup):
    """The `tandem` group: lazy command modules, and every error explained in a line or two."""

    def __init__(self, **attrs: Any) -> None:
        from tandem.commands import GROUPS

        super().__init__(**attrs)
        for name, help in GROUPS.items():
            self.add_command(LazyGroup(name, f"tandem.commands.{name}", help))

    def main(self, args: Any = None, *rest: Any, **extra: Any) -> Any:
        # `--verbose` is a global option, but people add it at the end of the command that failed.
        given = list(sys.argv[1:] if args is None else args)
        end = given.index("--") if "--" in given else len(given)
        moved = [a for a in given[:end] if a == "--verbose"]
        given = moved + [a for a in given[:end] if a != "--verbose"] + given[end:]
        return super().main(given, *rest, **extra)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, BrokenPipeError):
            raise  # typer ends these quietly (a closed pipe, e.g. `| head`, is not an error)
        except Exception as exc:
            if ctx.params.get("verbose") or type(exc).__name__ == "NoArgsIsHelpError":
                raise
            problem = explain(exc)
            typer.echo(problem.lines(), err=True)
            raise typer.Exit(problem.exit_code) from None
