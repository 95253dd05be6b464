"""The package rules of the architecture, checked over every module's imports.

From the developers' guide: ``data``, ``learn``, ``demand``, ``measures`` and
``simulate`` never import ``web``, the CLI, ``store`` or ``report``; ``report``
never imports ``web`` or the CLI; domain rules live in ``framework``, which
imports none of ``web``, the CLI, ``store`` or ``report``; ``simulate`` and
``learn`` meet only through the dataset schema (neither imports the other).

Every ``import`` and ``from ... import`` in ``src/systemic`` is read with
:mod:`ast` (including imports inside functions, and relative imports resolved
against the module's package), so a lazy import cannot slip past.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

#: The CLI is ``systemic.cli`` and its commands in ``systemic.commands``.
CLI = ("systemic.cli", "systemic.commands")
#: package -> packages it must never import.
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "systemic.data": ("systemic.web", *CLI, "systemic.store", "systemic.report"),
    "systemic.learn": (
        "systemic.web",
        *CLI,
        "systemic.store",
        "systemic.report",
        "systemic.simulate",
    ),
    "systemic.demand": ("systemic.web", *CLI, "systemic.store", "systemic.report"),
    "systemic.measures": ("systemic.web", *CLI, "systemic.store", "systemic.report"),
    "systemic.simulate": (
        "systemic.web",
        *CLI,
        "systemic.store",
        "systemic.report",
        "systemic.learn",
    ),
    "systemic.framework": ("systemic.web", *CLI, "systemic.store", "systemic.report"),
    "systemic.report": ("systemic.web", *CLI),
}


def module_name(path: Path, src: Path = SRC) -> str:
    """``src/systemic/web/api.py`` -> ``systemic.web.api`` (packages drop ``__init__``)."""
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(source: str, module: str, is_package: bool) -> list[tuple[int, str]]:
    """Every module a source imports, with its line: absolute names, relatives resolved.

    >>> imports_of("from ..web import app\\nimport os", "systemic.report.html", False)
    [(1, 'systemic.web'), (2, 'os')]
    """
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            found.append((node.lineno, name))
    return sorted(found)


def violations(rules: dict[str, tuple[str, ...]], src: Path = SRC) -> list[str]:
    """Each import that breaks a rule, as 'path:line: module imports name'."""
    out = []
    for path in sorted((src / "systemic").rglob("*.py")):
        module = module_name(path, src)
        banned = [
            target
            for owner, targets in rules.items()
            if module == owner or module.startswith(owner + ".")
            for target in targets
        ]
        if not banned:
            continue
        source = path.read_text(encoding="utf-8")
        for line, name in imports_of(source, module, path.name == "__init__.py"):
            for target in banned:
                if name == target or name.startswith(target + "."):
                    out.append(f"{path.relative_to(src)}:{line}: {module} imports {name}")
    return out


def test_the_package_rules_hold() -> None:
    assert violations(FORBIDDEN) == []


def test_every_ruled_package_exists() -> None:
    # A rule over a package that was renamed away would pass without checking anything.
    missing = [name for name in FORBIDDEN if not (SRC / name.replace(".", "/")).is_dir()]
    assert missing == [] or missing == ["systemic.demand"]  # demand is being added (issue 18)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from systemic.web.pages import levels\n", ["systemic.web.pages"]),
        ("def later():\n    import systemic.store.orm\n", ["systemic.store.orm"]),
        ("from ...web import app\n", ["systemic.web"]),
        ("from . import document\n", []),
    ],
)
def test_a_breaking_import_is_caught(tmp_path: Path, source: str, expected: list[str]) -> None:
    # The checker itself, on a made-up package tree: it must see direct, lazy and
    # relative imports of a forbidden package, and nothing else.
    package = tmp_path / "systemic" / "report" / "sub"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "piece.py").write_text(source)
    found = violations({"systemic.report": ("systemic.web", "systemic.store")}, tmp_path)
    assert [line.rsplit(" imports ", 1)[1] for line in found] == expected
