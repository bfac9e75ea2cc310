"""Benchmark: import a register of 200,000 cases from CSV and from XLSX; print JSON figures.

1. Write a synthetic register (``examples.make_register``, fixed seed) of
   ``--rows`` cases as CSV and as an XLSX workbook (real date cells) in a
   temporary folder, with a copy of the example configuration whose
   ``limits`` take a file that large.
2. In a fresh process each, into a fresh SQLite database (migrated before the
   clock starts), time:

   - ``baseline``: a plain ``csv.reader`` over the CSV and a bulk INSERT of the
     same rows into the register's tables (``case_file``, and the agencies of
     each case into ``case_involvement``), in one transaction, with no check of
     any value: the floor for reading and storing these rows;
   - ``xlsx_baseline``: the same with openpyxl's read-only sheet over the
     workbook (the reader the import uses) in place of ``csv.reader``: the
     floor for a workbook, since parsing its XML costs several times more than
     parsing CSV;
   - ``csv`` and ``xlsx``: ``App.import_register``, what ``auditround cases
     import`` runs: reading and checking every row, writing the cases, their
     agencies and their audit events, and the commit.

   Each reports ``seconds`` (wall time), ``cpu_seconds`` (the process's own,
   steadier on a busy machine) and ``max_rss_mb`` (the process's peak resident
   memory, interpreter and libraries included). A second run of each
   under ``tracemalloc`` reports ``python_peak_mb``, the peak of the Python
   heap (``--no-tracemalloc`` skips it: it slows the process down).
3. Print the figures, each import's ``ratio`` = its seconds / the baseline's,
   and whether it meets the targets: ``max_rss_mb`` under 300 and ``ratio`` 3
   or less; for the workbook also ``ratio_to_xlsx_baseline``.

Run: ``.venv/bin/python bench/import.py [--rows 200000] [--seed 7] [--no-tracemalloc]``
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NOW = "2026-03-02T09:00"  # the day the synthetic register is current on
TARGET_RSS_MB = 300
TARGET_RATIO = 3.0


# --- the files ---------------------------------------------------------------------------


def write_files(folder: Path, rows: int, seed: int) -> dict[str, Path]:
    """The register as CSV and XLSX, and a configuration whose limits take it."""
    from openpyxl import Workbook

    from audit_core.adapters.config import load_config
    from examples.make_register import COLUMNS, format_row, generate_rows

    config_dir = folder / "config"
    shutil.copytree(ROOT / "config", config_dir)
    register_yaml = config_dir / "register.yaml"
    limits = f"limits:\n  max_file_mb: 1024\n  max_rows: {rows}\n  max_field_chars: 500\n"
    text = re.sub(r"(?ms)^limits:\n(?:  .*\n?)*", "", register_yaml.read_text(encoding="utf-8"))
    register_yaml.write_text(text.rstrip("\n") + "\n\n" + limits, encoding="utf-8")
    config = load_config(config_dir)

    csv_path, xlsx_path = folder / "register.csv", folder / "register.xlsx"
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(COLUMNS)
    with csv_path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        for index, row in enumerate(generate_rows(config, cases=rows, seed=seed)):
            writer.writerow(format_row(row, index))
            sheet.append([row[c] if row[c] not in ("", None) else None for c in COLUMNS])
    workbook.save(xlsx_path)
    return {"config": config_dir, "csv": csv_path, "xlsx": xlsx_path}


# --- one measured run, in a process of its own -----------------------------------------------


def run_import(path: Path, config_dir: Path, database: str) -> int:
    """What ``auditround cases import`` does, after the database has been set up."""
    from audit_core.adapters.settings import Settings
    from audit_core.bootstrap import App

    app = App(Settings(config=config_dir, database_url=database, now=NOW, actor="bench"))
    app.upgrade_database()
    app.config()
    started, cpu = time.perf_counter(), time.process_time()
    result = app.import_register(path)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    app.close()
    assert len(result.added) == result.rows, "the import did not add every case"
    return _report(seconds, cpu, result.rows)


def run_baseline(path: Path, config_dir: Path, database: str) -> int:
    """A plain reader and a bulk INSERT of the same rows into the same tables: the floor.

    ``csv.reader`` for a ``.csv``; openpyxl's read-only sheet (the reader the import
    uses) for a ``.xlsx``. The cases go into ``case_file`` in one statement, their new
    ids are read back in one query, and each case's agencies (with their practitioners)
    into ``case_involvement`` in one more: what the file holds, stored plainly, with no
    check of any value.
    """
    from sqlalchemy import insert, select

    from audit_core.adapters import db
    from audit_core.adapters.clock import parse_now
    from audit_core.adapters.config import load_config
    from audit_core.domain.models import CaseFile, CaseInvolvement
    from audit_core.services.reference import sync_reference_data
    from audit_core.services.unit_of_work import UnitOfWork

    engine = db.make_engine(database)
    db.upgrade(engine)
    now = parse_now(NOW)
    with db.transaction(engine) as session:  # the areas the cases belong to
        sync_reference_data(UnitOfWork(session, load_config(config_dir), now, "bench"))
    started, cpu = time.perf_counter(), time.process_time()
    reading = _xlsx_rows if path.suffix == ".xlsx" else _csv_rows
    rows, links = [], []
    for (
        ref,
        area,
        category,
        age_band,
        flags,
        agencies,
        opened,
        activity,
        closed,
        audited,
    ) in reading(path):
        rows.append({
            "reference": ref,
            "area_id": area,
            "category": category,
            "age_band": age_band,
            "flags": flags.split("|") if flags else [],
            "opened_on": _date(opened),
            "last_activity_on": _date(activity),
            "closed_on": _date(closed),
            "last_audited_on": _date(audited),
            "created_at": now,
            "updated_at": now,
        })  # fmt: skip
        links.append(agencies)
    with engine.begin() as conn:
        conn.execute(insert(CaseFile.__table__), rows)  # type: ignore[arg-type]
        ids = {
            ref: case_id for ref, case_id in conn.execute(select(CaseFile.reference, CaseFile.id))
        }
        involvements = [
            {"case_id": ids[row["reference"]], "agency_id": agency, "practitioner_ids": people}
            for row, agencies in zip(rows, links, strict=True)
            for agency, people in _agencies(agencies)
        ]
        conn.execute(insert(CaseInvolvement.__table__), involvements)  # type: ignore[arg-type]
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    engine.dispose()
    return _report(seconds, cpu, len(rows))


def _agencies(text: str) -> list[tuple[str, list[str]]]:
    """``agency:P1+P2|agency`` as (agency, practitioners) pairs, unchecked."""
    pairs = []
    for entry in text.split("|"):
        agency, _, people = entry.partition(":")
        pairs.append((agency, people.split("+") if people else []))
    return pairs


def _csv_rows(path: Path) -> Iterator[list[str]]:
    with path.open(encoding="utf-8", newline="") as source:
        reader = csv.reader(source)
        next(reader)
        yield from reader


def _xlsx_rows(path: Path) -> Iterator[tuple[Any, ...]]:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True)
    try:
        sheet = workbook.worksheets[0]
        for row in sheet.iter_rows(min_row=2, max_col=10, values_only=True):
            yield tuple("" if value is None else value for value in row)
    finally:
        workbook.close()


def _date(text: str | dt.datetime) -> dt.date | None:
    if not text:
        return None
    if isinstance(text, dt.datetime):
        return text.date()
    if "/" in text:
        day, month, year = text.split("/")
        return dt.date(int(year), int(month), int(day))
    return dt.date.fromisoformat(text)


def _report(seconds: float, cpu: float, rows: int) -> int:
    figures: dict[str, Any] = {"seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2)}
    figures["rows"] = rows
    if tracemalloc.is_tracing():
        figures["python_peak_mb"] = round(tracemalloc.get_traced_memory()[1] / 1e6, 1)
    figures["max_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(figures))
    return 0


def child(argv: list[str]) -> int:
    kind, path, config_dir, database, trace = argv
    if trace == "trace":
        tracemalloc.start()
    run = run_baseline if kind.endswith("baseline") else run_import
    return run(Path(path), Path(config_dir), database)


def measure(kind: str, files: dict[str, Path], folder: Path, *, trace: bool) -> dict[str, Any]:
    path = files["xlsx" if kind.startswith("xlsx") else "csv"]
    database = folder / f"{kind}{'-traced' if trace else ''}.db"
    done = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(path), str(files["config"]),
         f"sqlite:///{database}", "trace" if trace else "plain"],
        check=True,
        capture_output=True,
        text=True,
    )  # fmt: skip
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-tracemalloc", action="store_true", help="skip the traced runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="auditround-import-bench-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        files = write_files(folder, args.rows, args.seed)
        figures: dict[str, Any] = {
            "rows": args.rows,
            "csv_mb": round(files["csv"].stat().st_size / 1e6, 1),
            "xlsx_mb": round(files["xlsx"].stat().st_size / 1e6, 1),
            "writing_files_seconds": round(time.perf_counter() - started, 1),
        }
        for kind in ("baseline", "csv", "xlsx_baseline", "xlsx"):
            figures[kind] = measure(kind, files, folder, trace=False)
            if not args.no_tracemalloc:
                traced = measure(kind, files, folder, trace=True)
                figures[kind]["python_peak_mb"] = traced["python_peak_mb"]
        floor = figures["baseline"]["seconds"]
        for kind in ("csv", "xlsx"):
            run = figures[kind]
            run["ratio"] = round(run["seconds"] / floor, 2)
            run["cpu_ratio"] = round(run["cpu_seconds"] / figures["baseline"]["cpu_seconds"], 2)
            run["meets_memory_target"] = run["max_rss_mb"] < TARGET_RSS_MB
            run["meets_time_target"] = run["ratio"] <= TARGET_RATIO
        xlsx_floor = figures["xlsx_baseline"]["seconds"]
        figures["xlsx"]["ratio_to_xlsx_baseline"] = round(
            figures["xlsx"]["seconds"] / xlsx_floor, 2
        )
        figures["targets"] = {"max_rss_mb_below": TARGET_RSS_MB, "ratio_at_most": TARGET_RATIO}
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        raise SystemExit(child(sys.argv[2:]))
    raise SystemExit(main())
