"""Run every benchmark (``benchmarks/bench_*.py``) and assemble RESULTS.md.

Each benchmark is a script that measures one capability against the peer its
issue names, in the same run, and writes ``benchmarks/results/<name>.md``.
This runner executes them one at a time (so they do not compete for the two
cores) and rebuilds ``benchmarks/RESULTS.md`` from the machine notes and the
fragments.

    python benchmarks/run.py                # all
    python benchmarks/run.py bench_import   # some
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def machine_notes() -> str:
    mem = ""
    try:
        with open("/proc/meminfo") as fh:
            kb = int(fh.readline().split()[1])
        mem = f"{kb / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    cpu = ""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (
        f"- CPU: {cpu or platform.processor()} ({os.cpu_count()} cores), memory {mem}\n"
        f"- Python {platform.python_version()} on {platform.system()} {platform.release()}\n"
    )


def assemble() -> None:
    parts = [
        "# Benchmark results\n",
        "Produced by `make bench` (`benchmarks/run.py`): each section is written by one "
        "benchmark script and states its machine, load and date. Ratios compare against "
        "the peer named in the issue, measured in the same run.\n",
        "## Machine of the latest full run\n",
        machine_notes(),
    ]
    for frag in sorted(RESULTS.glob("*.md")):
        parts.append(frag.read_text().rstrip() + "\n")
    (HERE / "RESULTS.md").write_text("\n".join(parts))


def main(argv: list[str]) -> int:
    RESULTS.mkdir(exist_ok=True)
    wanted = set(argv)
    status = 0
    for script in sorted(HERE.glob("bench_*.py")):
        if wanted and script.stem not in wanted:
            continue
        print(f"== {script.stem}", flush=True)
        rc = subprocess.call([sys.executable, str(script)], cwd=HERE.parent)
        status = status or rc
    assemble()
    return status


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
