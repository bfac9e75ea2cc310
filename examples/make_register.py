"""A synthetic case register for the example board: deterministic, and identifying no one.

    python -m examples.make_register [--cases 200] [--seed 2026] [--as-of 2026-03-02]
                                     [--out examples/case_register.csv]

The same seed (and configuration) gives the same file byte for byte. Cases
are spread about 70/30 between Hackney and the City; each has a category,
an age band, a few flags (now and then a live review or court proceedings),
two to five involved agencies working in its area, and practitioner ids in
the form the configuration's auditors use (``HCS-104``, ``MET-3381``...).
Now and then a case names an auditor as a practitioner, so that conflicts of
interest are real. Dates are relative to ``--as-of`` (2 March 2026, the day the
demo plans its round, for the committed ``examples/case_register.csv``): last
activity in the 18 months before, some cases audited in the last year, some
closed. Give ``--as-of`` today's date for a register that is current today.

:func:`generate_rows` yields the rows as dicts (dates as ``datetime.date``)
for anyone who needs a larger register, such as the planning benchmark;
:func:`write_register` writes them as the CSV a case system would export.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from audit_core.adapters.config import load_config
from audit_core.adapters.register_file import COLUMNS as REGISTER_COLUMNS
from audit_core.domain.policy import Agency, BoardConfig

REFERENCE_DATE = dt.date(2026, 3, 2)
PROJECT = Path(__file__).resolve().parent.parent
COLUMNS = tuple(column.key for column in REGISTER_COLUMNS)
AREA_SHARE = {"hackney": 0.7}  # the rest is shared evenly by the other areas
REFERENCE_PREFIX = {"hackney": "HK", "city": "CL"}
CATEGORY_WEIGHTS = {
    "early_help": 25,
    "child_in_need": 30,
    "child_protection": 20,
    "looked_after": 15,
    "s47_enquiry": 10,
}
AGE_BAND_WEIGHTS = {"0-4": 30, "5-10": 30, "11-15": 28, "16-17": 12}
AUDITOR_AS_PRACTITIONER = 0.08  # chance that an involvement names one of the agency's auditors
CASEWORKER_SECTORS = ("social_care",)  # the agency that holds the case, unless early help


def generate_rows(
    config: BoardConfig,
    *,
    cases: int = 200,
    seed: int = 2026,
    reference_date: dt.date = REFERENCE_DATE,
) -> Iterator[dict[str, Any]]:
    """Yield ``cases`` register rows; the same arguments always give the same rows."""
    rng = random.Random(seed)
    areas = [a.id for a in config.board.areas]
    counts = _area_counts(areas, cases)
    references = {
        area: _references(rng, REFERENCE_PREFIX.get(area, area[:2].upper()), count)
        for area, count in counts.items()
    }
    prefixes = _practitioner_prefixes(config)
    order = [area for area, count in counts.items() for _ in range(count)]
    rng.shuffle(order)
    next_index = dict.fromkeys(areas, 0)
    for area in order:
        reference = references[area][next_index[area]]
        next_index[area] += 1
        yield _case(rng, config, area, reference, prefixes, reference_date)


def _area_counts(areas: list[str], cases: int) -> dict[str, int]:
    counts: dict[str, int] = {}
    rest = [a for a in areas if a not in AREA_SHARE]
    for area in areas:
        if area in AREA_SHARE:
            counts[area] = round(cases * AREA_SHARE[area])
    left = cases - sum(counts.values())
    for i, area in enumerate(rest):
        counts[area] = left // len(rest) + (1 if i < left % len(rest) else 0)
    return counts


def _references(rng: random.Random, prefix: str, count: int) -> list[str]:
    digits = max(6, len(str(count * 4)))
    numbers = rng.sample(range(10 ** (digits - 1), 10**digits), count)
    return [f"{prefix}-{n}" for n in numbers]


def _practitioner_prefixes(config: BoardConfig) -> dict[str, tuple[str, int]]:
    """Each agency's practitioner id prefix and digit count, as its auditors' ids show them."""
    prefixes: dict[str, tuple[str, int]] = {}
    for auditor in config.auditors:
        for pid in auditor.practitioner_ids:
            prefix, _, number = pid.rpartition("-")
            if prefix and number.isdigit():
                prefixes.setdefault(auditor.agency, (prefix, len(number)))
    for agency in config.agencies:
        initials = "".join(part[0] for part in agency.id.split("-")).upper()
        prefixes.setdefault(agency.id, (initials, 3))
    return prefixes


def _weighted(rng: random.Random, weights: dict[str, int], allowed: Iterable[str]) -> str:
    allowed = set(allowed)
    choices = [k for k in weights if k in allowed] or sorted(allowed)
    return rng.choices(choices, weights=[weights.get(k, 1) for k in choices])[0]


def _case(
    rng: random.Random,
    config: BoardConfig,
    area: str,
    reference: str,
    prefixes: dict[str, tuple[str, int]],
    today: dt.date,
) -> dict[str, Any]:
    category = _weighted(rng, CATEGORY_WEIGHTS, (c.id for c in config.categories))
    age_band = _weighted(rng, AGE_BAND_WEIGHTS, (b.id for b in config.age_bands))
    flags = _flags(rng, {f.id for f in config.flags}, category, age_band)
    local = [a for a in config.agencies if area in a.areas]
    involved = _agencies(rng, local, category, age_band, flags)
    entries = []
    for agency in involved:
        people = _practitioners(rng, config, agency.id, area, prefixes[agency.id])
        entries.append(f"{agency.id}:{'+'.join(people)}" if people else agency.id)

    last_activity = today - dt.timedelta(days=rng.randint(0, 548))
    span = (
        rng.randint(20, 400) if category in ("early_help", "s47_enquiry") else rng.randint(60, 1800)
    )
    opened = last_activity - dt.timedelta(days=span)
    closed = None
    if rng.random() < 0.2:
        closed = last_activity + dt.timedelta(
            days=rng.randint(0, min(45, (today - last_activity).days))
        )
    audited = None
    roll = rng.random()
    if roll < 0.15:
        audited = today - dt.timedelta(days=rng.randint(14, 365))
    elif roll < 0.25:
        audited = today - dt.timedelta(days=rng.randint(400, 1100))
    if audited is not None and audited < opened:
        audited = None
    return {
        "case_ref": reference,
        "area": area,
        "category": category,
        "age_band": age_band,
        "flags": "|".join(flags),
        "agencies": "|".join(entries),
        "opened_on": opened if rng.random() < 0.9 else None,
        "last_activity_on": last_activity,
        "closed_on": closed,
        "last_audited_on": audited,
    }


def _flags(rng: random.Random, known: set[str], category: str, age_band: str) -> list[str]:
    older = age_band in ("11-15", "16-17")
    serious = category in ("child_protection", "looked_after", "s47_enquiry")
    chances = {
        "parental_mental_health": 0.3,
        "domestic_abuse": 0.4 if serious else 0.25,
        "parental_substance_misuse": 0.2,
        "neglect": 0.45 if serious else 0.2,
        "child_exploitation": 0.25 if older else 0.02,
        "live_review": 0.04,
        "in_court": 0.12 if category in ("child_protection", "looked_after") else 0.01,
    }
    return [flag for flag, chance in chances.items() if flag in known and rng.random() < chance]


AGENCY_WEIGHTS = {
    "police": 3,
    "gp": 3,
    "health-visiting": 3,
    "camhs": 2,
    "elft": 1,
    "homerton": 1,
    "hackney-education": 3,
    "city-schools": 3,
    "probation": 1,
    "early-help": 2,
    "housing": 1,
    "substance-misuse": 1,
    "youth-justice": 1,
}


def _agencies(
    rng: random.Random, local: list[Agency], category: str, age_band: str, flags: list[str]
) -> list[Agency]:
    """The lead agency (social care, or early help for early help cases) and 1-4 others."""
    lead_sector = "early_help" if category == "early_help" else "social_care"
    leads = [a for a in local if a.sector == lead_sector] or local[:1]
    lead = leads[0]
    others = [a for a in local if a.id != lead.id]

    def weight(agency: Agency) -> float:
        w: float = AGENCY_WEIGHTS.get(agency.id, AGENCY_WEIGHTS.get(agency.sector, 1))
        if agency.id == "health-visiting" and age_band not in ("0-4", "5-10"):
            w = 0.5
        if agency.id == "elft" and "parental_mental_health" in flags:
            w = 5
        if agency.id == "substance-misuse" and "parental_substance_misuse" in flags:
            w = 5
        if agency.id == "youth-justice" and "child_exploitation" in flags:
            w = 5
        if agency.sector == "police" and ("domestic_abuse" in flags or category == "s47_enquiry"):
            w = 6
        return w

    chosen: list[Agency] = []
    for _ in range(min(rng.randint(1, 4), len(others))):
        pick = rng.choices(others, weights=[weight(a) for a in others])[0]
        others.remove(pick)
        chosen.append(pick)
    return [lead, *sorted(chosen, key=lambda a: a.id)]


def _practitioners(
    rng: random.Random,
    config: BoardConfig,
    agency: str,
    area: str,
    prefix: tuple[str, int],
) -> list[str]:
    """None to two practitioner ids; sometimes one of the agency's own auditors."""
    count = rng.choices((0, 1, 2), weights=(2, 6, 2))[0]
    auditors = sorted(
        pid
        for a in config.auditors
        if a.agency == agency and area in a.areas
        for pid in a.practitioner_ids
    )
    letters, digits = prefix
    people: set[str] = set()
    for _ in range(count):
        if auditors and rng.random() < AUDITOR_AS_PRACTITIONER:
            people.add(rng.choice(auditors))
        else:
            number = rng.randint(10 ** (digits - 1) if digits > 1 else 1, 10**digits - 1)
            pid = f"{letters}-{number:0{digits}d}"
            if pid not in auditors:
                people.add(pid)
    return sorted(people)


def format_row(row: dict[str, Any], index: int) -> list[str]:
    """A row as CSV cells; every fourth row writes its dates as dd/mm/yyyy, the rest ISO."""

    def cell(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, dt.date):
            return value.strftime("%d/%m/%Y") if index % 4 == 1 else value.isoformat()
        return str(value)

    return [cell(row[column]) for column in COLUMNS]


def write_register(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    """Write rows as a UTF-8 CSV register; return the number of cases written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        for index, row in enumerate(rows):
            writer.writerow(format_row(row, index))
            count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=200, help="how many cases (default 200)")
    parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    parser.add_argument(
        "--out", type=Path, default=PROJECT / "examples" / "case_register.csv", help="CSV to write"
    )
    parser.add_argument(
        "--config", type=Path, default=PROJECT / "config", help="configuration folder"
    )
    parser.add_argument(
        "--as-of",
        type=dt.date.fromisoformat,
        default=REFERENCE_DATE,
        help=f"the day the register is current on, yyyy-mm-dd (default {REFERENCE_DATE})",
    )
    args = parser.parse_args(argv)
    config = load_config(args.config)
    rows = generate_rows(config, cases=args.cases, seed=args.seed, reference_date=args.as_of)
    count = write_register(args.out, rows)
    print(f"wrote {count} cases to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
