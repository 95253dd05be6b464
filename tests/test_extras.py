"""The core installs without the extras, and the CLI names a missing extra.

Each check runs in a fresh interpreter where a meta-path finder refuses the
extras' packages, as on a machine with only ``pip install systemic``.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from systemic.extras import EXTRA_OF_IMPORT

ROOT = Path(__file__).resolve().parents[1]

BLOCKER = f"""
import importlib.abc, sys
BLOCKED = {sorted(EXTRA_OF_IMPORT)!r}
class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
sys.meta_path.insert(0, Refuse())
"""


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCKER + code], capture_output=True, text=True, timeout=120
    )


def test_the_core_imports_without_any_extra() -> None:
    done = _run(
        "import systemic.data, systemic.learn, systemic.measures, systemic.report.build\n"
        "loaded = sorted({m.split('.')[0] for m in sys.modules} & set(BLOCKED))\n"
        "print('loaded', loaded)"
    )
    assert done.returncode == 0, done.stderr
    assert "loaded []" in done.stdout


def test_the_blocker_does_refuse_an_extra() -> None:
    done = _run("import numba")
    assert done.returncode != 0
    assert "No module named 'numba'" in done.stderr


@pytest.mark.parametrize(
    ("argv", "extra", "package"),
    [
        (["serve"], "web", "sqlalchemy"),
        (["simulate", "run", "s.toml", "--out", "o"], "simulate", "numba"),
    ],
)
def test_the_cli_names_the_missing_extra(argv: list[str], extra: str, package: str) -> None:
    done = _run(f"from systemic.cli import main\nsys.argv = ['systemic', *{argv!r}]\nmain()")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert f"pip install 'systemic[{extra}]'" in done.stderr
    assert f"no module {package!r}" in done.stderr


def test_help_lists_the_installed_commands_without_the_extras() -> None:
    done = _run("from systemic.cli import main\nsys.argv = ['systemic', '--help']\nmain()")
    assert done.returncode == 0, done.stderr
    assert " learn " in done.stdout and " spc " in done.stdout
    assert " serve " not in done.stdout  # needs systemic[web]


def _import_name(requirement: str) -> str:
    name = requirement.split("[")[0].split(">")[0].split("=")[0].strip().lower()
    return {"argon2-cffi": "argon2", "python-multipart": "multipart"}.get(name, name)


def test_every_extras_package_maps_to_its_extra() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    assert set(extras) == {"web", "simulate", "dask", "postgres", "demand", "link", "spark"}
    for extra, requirements in extras.items():
        for requirement in requirements:
            assert EXTRA_OF_IMPORT[_import_name(requirement)] == extra, requirement
    core = {_import_name(r) for r in project["dependencies"]}
    assert not core & set(EXTRA_OF_IMPORT), "a core dependency is also listed as an extra's"
