"""The command line loads only the module that owns the command it runs."""

from __future__ import annotations

import importlib
import subprocess
import sys

import typer

from systemic import cli


def _names(app: typer.Typer) -> set[str]:
    return {c.name for c in app.registered_commands} | {g.name for g in app.registered_groups}


def test_command_map_matches_what_the_modules_register():
    owned: dict[str, str] = {}
    for module in cli.COMMAND_MODULES:
        app = typer.Typer()
        importlib.import_module(module).register(app)
        for name in _names(app):
            owned[name] = module
    assert owned == cli.COMMANDS
    assert _names(cli.app) == set(cli.COMMANDS)


def _modules_after(argv: list[str]) -> set[str]:
    code = (
        "import sys\n"
        f"sys.argv = ['systemic', *{argv!r}]\n"
        "from systemic.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('sqlalchemy', 'alembic', 'networkx', 'systemic'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return set(out.split("\n")[-2].split())


def test_learn_does_not_import_the_workspace_stack():
    loaded = _modules_after(["learn", "--help"])
    assert "systemic.commands.learn" in loaded
    assert not {m for m in loaded if m.startswith(("sqlalchemy", "alembic", "systemic.store"))}
    assert "systemic.commands.trust" not in loaded


def test_help_and_workspace_commands_load_what_they_need():
    everything = _modules_after(["--help"])
    assert {"systemic.commands.trust", "systemic.commands.learn"} <= everything
    assert "systemic.store" in _modules_after(["user", "--help"])


def _pyproject_version() -> str:
    import tomllib
    from pathlib import Path

    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    return tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"]


def test_version_prints_the_package_version():
    from typer.testing import CliRunner

    expected = f"systemic {_pyproject_version()}\n"
    result = CliRunner().invoke(cli.app, ["--version"])
    assert (result.exit_code, result.output) == (0, expected)
    # the console script's own path, which loads no command module
    code = "import sys\nsys.argv = ['systemic', '--version']\nfrom systemic.cli import main\nmain()"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout == expected


def test_an_error_keeps_a_long_path_whole_to_copy(tmp_path):
    """Errors are not wrapped by the console: a path longer than the terminal stays on one
    line (the terminal wraps it for the eye), so it can be copied as it is."""
    from typer.testing import CliRunner

    missing = tmp_path / ("a-very-long-folder-name-for-an-extract-" * 3) / "housing.csv"
    result = CliRunner().invoke(cli.app, ["report", str(missing), "--out", str(tmp_path / "r")])
    assert result.exit_code != 0
    assert str(missing.parent) in result.output, result.output
