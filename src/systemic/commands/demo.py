"""``systemic demo``: import the three real logs and show what they hold.

An interim demo until the full one lands: it imports the published logs in
``../shared/data/real`` (beside the repository) with the mappings shipped in
``examples/mappings`` and prints each dataset's summary.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import typer

from systemic.commands._console import console, fail
from systemic.commands.data import print_summary
from systemic.data import SystemicDataError, import_sources, inspect_dataset

#: (dataset name, source file, mapping file)
REAL_LOGS = (
    ("sepsis", "sepsis.csv.gz", "sepsis.toml"),
    ("hospital_bpic2011", "hospital_bpic2011.csv.gz", "hospital_bpic2011.toml"),
    ("receipt_wabo", "receipt_wabo.xes.gz", "receipt_wabo.toml"),
)

CITATIONS = (
    "Mannhardt, F. (2016). Sepsis Cases - Event Log. 4TU.ResearchData.",
    "van Dongen, B.F. (2011). Real-life event logs - Hospital log (BPI Challenge 2011). "
    "4TU.ResearchData.",
    "Buijs, J.C.A.M. (2014). Receipt phase of an environmental permit application process "
    "('WABO'), CoSeLoG project. 4TU.ResearchData.",
)


def repo_root() -> Path:
    """The repository holding this package (src/systemic/commands -> root)."""
    return Path(__file__).resolve().parents[3]


def default_real_data() -> Path:
    return repo_root().parent / "shared" / "data" / "real"


def run_demo(out: Path, real_data: Path, mappings: Path) -> list[Path]:
    """Import each real log into ``out/<name>``, replacing earlier demo output."""
    made = []
    for name, source, mapping in REAL_LOGS:
        target = out / name
        if target.exists():
            shutil.rmtree(target)
        import_sources([real_data / source], mappings / mapping, target)
        made.append(target)
    return made


def demo_command(
    out: Path = typer.Option(Path("demo-output"), "--out", help="Folder for the demo datasets."),
    real_data: Path = typer.Option(
        None, "--real-data", help="Folder of the real logs (default: ../shared/data/real)."
    ),
) -> None:
    """Import the three published real logs and print what each dataset holds."""
    real = real_data or default_real_data()
    if not real.exists():
        fail(f"real logs not found at {real}: pass --real-data FOLDER")
    try:
        datasets = run_demo(out, real, repo_root() / "examples" / "mappings")
        for path in datasets:
            print_summary(inspect_dataset(path))
    except SystemicDataError as exc:
        fail(str(exc))
    console.print("Data: " + " | ".join(CITATIONS))


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)
