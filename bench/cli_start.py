"""Benchmark: how long the command line takes to start, against its libraries' own import.

1. In ``--runs`` alternating rounds, time a fresh interpreter that only imports
   typer, rich and sqlalchemy (the baseline), then ``auditround --help``, then
   ``auditround config check`` on the example configuration.
2. Print the median of each and the ratios to the baseline (target: 1.5 or less).

Run: ``.venv/bin/python bench/cli_start.py [--runs 15]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = {
    "baseline_import": [sys.executable, "-c", "import typer, rich, sqlalchemy"],
    "help": [sys.executable, "-m", "audit_core", "--help"],
    "config_check": [sys.executable, "-m", "audit_core", "config", "check"],
}


def timed(command: list[str]) -> float:
    env = {**os.environ, "AUDITROUND_CONFIG": str(ROOT / "config")}
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    seconds: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.runs):
        for name, command in COMMANDS.items():
            seconds[name].append(timed(command))
    medians = {name: statistics.median(values) for name, values in seconds.items()}
    base = medians["baseline_import"]
    print(
        json.dumps(
            {
                "runs": args.runs,
                **{f"{name}_seconds": round(value, 3) for name, value in medians.items()},
                "help_ratio": round(medians["help"] / base, 2),
                "config_check_ratio": round(medians["config_check"] / base, 2),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
