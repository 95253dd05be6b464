"""The ``systemic`` command line: a thin layer over the library.

Each capability's commands live in ``systemic.commands.<capability>`` and call
the same Python functions an analyst would call from a notebook.

Run as a program (``systemic learn ...``), only the module that owns the
command is imported, so a command does not pay for the others' dependencies
(the workspace's SQLAlchemy and Alembic cost about a second and a half).
``systemic --help`` and an unknown command load them all. Importing
``systemic.cli.app`` (as tests do) gives the app with every command.

A command whose optional extra is not installed (``systemic[web]``,
``systemic[simulate]``, ...) stops with a sentence naming the extra to
install and exit code 1, never a traceback; ``systemic --help`` lists the
commands that are installed.

>>> from systemic.cli import COMMANDS, build_app
>>> COMMANDS["learn"], sorted(c.name for c in build_app("learn").registered_commands)
('systemic.commands.learn', ['learn'])
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import typer

from systemic.extras import missing_extra, missing_extra_message

HELP = (
    "Reform public services with systems thinking: import records, learn from "
    "journeys across silos, measure with SPC, simulate designs, and run the workspace."
)

# Each module exposes `register(app)`, which adds its commands or sub-apps.
COMMAND_MODULES = (
    "systemic.commands.data",
    "systemic.commands.link",
    "systemic.commands.learn",
    "systemic.commands.demand",
    "systemic.commands.measures",
    "systemic.commands.simulate",
    "systemic.commands.calibrate",
    "systemic.commands.workspace",
    "systemic.commands.report",
    "systemic.commands.trust",
    "systemic.commands.demo",
)

# Top-level command (or group) -> the module that registers it. A test checks
# that this matches what the modules register.
COMMANDS = {
    **dict.fromkeys(("import", "inspect", "export"), "systemic.commands.data"),
    "link": "systemic.commands.link",
    "learn": "systemic.commands.learn",
    "demand": "systemic.commands.demand",
    **dict.fromkeys(("spc", "funnel", "experiment"), "systemic.commands.measures"),
    "simulate": "systemic.commands.simulate",
    "calibrate": "systemic.commands.calibrate",
    **dict.fromkeys(("serve", "audit", "workspace"), "systemic.commands.workspace"),
    "report": "systemic.commands.report",
    **dict.fromkeys(
        ("backup", "restore", "user", "token", "retention", "person"), "systemic.commands.trust"
    ),
    "demo": "systemic.commands.demo",
}


def package_version() -> str:
    """The installed package's version (``systemic --version`` prints it).

    Read from the installed distribution's metadata, so it is the version in
    ``pyproject.toml``; ``systemic.__version__`` where the package is not
    installed (run from a source tree).
    """
    from importlib import metadata

    try:
        return metadata.version("systemic")
    except metadata.PackageNotFoundError:
        from systemic import __version__

        return __version__


def _print_version(value: bool) -> None:
    # Eager: runs while the options are parsed, before a command is required.
    if value:
        typer.echo(f"systemic {package_version()}")
        raise typer.Exit()


def _root(
    version: bool = typer.Option(
        False,
        "--version",
        help="Show the version and exit.",
        callback=_print_version,
        is_eager=True,
    ),
) -> None:
    """Options that come before any command."""


def build_app(command: str | None = None) -> typer.Typer:
    """The CLI with every command, or only with the module that owns ``command``."""
    app = typer.Typer(
        name="systemic",
        help=HELP,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_show_locals=False,
    )
    app.callback()(_root)
    if command in COMMANDS:  # a missing extra here is reported by main()
        importlib.import_module(COMMANDS[command]).register(app)
        return app
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            if missing_extra(exc) is None:
                raise
            continue  # its commands need an extra that is not installed
        module.register(app)
    return app


def _command(argv: list[str]) -> str | None:
    """The first argument that is not an option: the command, if any."""
    return next((a for a in argv if not a.startswith("-")), None)


def __getattr__(name: str) -> Any:
    if name == "app":  # built on first use, with every command
        globals()["app"] = built = build_app()
        return built
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """Entry point of the ``systemic`` console script."""
    argv = sys.argv[1:]
    if argv == ["--version"]:  # no command module is needed to say the version
        typer.echo(f"systemic {package_version()}")
        return
    command = _command(argv)
    try:
        build_app(command)()
    except ImportError as exc:
        extra = missing_extra(exc)
        if extra is None:
            raise
        typer.echo(f"Error: {missing_extra_message(exc, extra, command)}", err=True)
        raise SystemExit(1) from None
