"""Choosing a round's cases: who is eligible, and a stratified random sample.

Everything here is a pure function over plain data (no database), so the
planning use case, the benchmark and the property tests share one
implementation.

Eligibility (every rule must hold; :func:`why_ineligible` names the first
that fails):

1. the case's category is one of the focus's categories;
2. if the focus lists flags, the case carries at least one of them;
3. its last activity is within the focus's look-back window (calendar months);
4. at least the focus's minimum number of agencies are involved;
5. it was never audited, or last audited before the exclusion period;
6. it carries no flag that excludes selection (a live review, court proceedings);
7. it is not part of another round that has not closed.

The sample is drawn per area from strata of (category, age band). The area's
quota is shared across categories first and then, inside each category,
across age bands, so a small quota still spreads over both (see
:func:`allocate`). Inside a stratum, cases are ranked by a hash keyed with the
seed, area and stratum (:func:`stratum_order`), so the result depends only on
the register and the seed, never on the order rows come back from the database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from dateutil.relativedelta import relativedelta

from audit_core.domain.policy import BoardConfig, Focus


@dataclass(frozen=True)
class Involvement:
    agency_id: str
    practitioner_ids: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Candidate:
    """A case of the register as selection sees it (a pseudonymous reference, never a name)."""

    case_id: int
    reference: str
    area_id: str
    category: str
    age_band: str
    flags: frozenset[str]
    last_activity_on: dt.date
    last_audited_on: dt.date | None
    involvements: tuple[Involvement, ...]
    in_round: str | None = None  # another round, not yet closed, that holds this case

    @property
    def stratum(self) -> str:
        return stratum_key(self.category, self.age_band)


def stratum_key(category: str, age_band: str) -> str:
    return f"{category}/{age_band}"


@dataclass(frozen=True)
class Criteria:
    """A focus's selection rules, with the labels used to explain a choice."""

    focus_id: str
    categories: frozenset[str]
    flags_any: frozenset[str]
    lookback_months: int
    min_agencies: int
    exclusion_months: int
    excluding_flags: frozenset[str]
    category_names: Mapping[str, str] = field(default_factory=dict)
    flag_names: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: BoardConfig, focus: Focus) -> Criteria:
        return cls(
            focus_id=focus.id,
            categories=frozenset(focus.categories),
            flags_any=frozenset(focus.flags_any),
            lookback_months=focus.lookback_months,
            min_agencies=focus.min_agencies,
            exclusion_months=focus.exclusion_months,
            excluding_flags=frozenset(f.id for f in config.flags if f.excludes_selection),
            category_names={c.id: c.name for c in config.categories},
            flag_names={f.id: f.name for f in config.flags},
        )

    def category_label(self, category: str) -> str:
        return _plain(self.category_names.get(category, category.replace("_", " ")))

    def flag_label(self, flag: str) -> str:
        return _plain(self.flag_names.get(flag, flag.replace("_", " ")))


def _plain(name: str) -> str:
    """'Child protection' -> 'child protection', but 'CAMHS referral' stays as it is."""
    first = name.split(" ", 1)[0]
    return name if first.isupper() else name[:1].lower() + name[1:]


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` calendar months earlier (31 March - 1 month = 28/29 February)."""
    result: dt.date = day - relativedelta(months=months)
    return result


def _uk(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


def why_ineligible(case: Candidate, criteria: Criteria, today: dt.date) -> str | None:
    """The first selection rule the case fails, as a short phrase; None if it is eligible."""
    if case.category not in criteria.categories:
        return f"its category ({criteria.category_label(case.category)}) is not in the focus"
    if criteria.flags_any and not (case.flags & criteria.flags_any):
        wanted = ", ".join(criteria.flag_label(f) for f in sorted(criteria.flags_any))
        return f"it carries none of the focus's flags ({wanted})"
    window_start = months_before(today, criteria.lookback_months)
    if case.last_activity_on < window_start:
        return (
            f"its last activity ({_uk(case.last_activity_on)}) is before the "
            f"{criteria.lookback_months}-month look-back window (from {_uk(window_start)})"
        )
    agencies = len({i.agency_id for i in case.involvements})
    if agencies < criteria.min_agencies:
        involved = "1 agency is" if agencies == 1 else f"{agencies} agencies are"
        return f"only {involved} involved (at least {criteria.min_agencies} needed)"
    if case.last_audited_on is not None and criteria.exclusion_months > 0:
        cutoff = months_before(today, criteria.exclusion_months)
        if case.last_audited_on >= cutoff:
            return (
                f"it was audited on {_uk(case.last_audited_on)}, within the last "
                f"{criteria.exclusion_months} months"
            )
    blocking = sorted(case.flags & criteria.excluding_flags)
    if blocking:
        return f"it is flagged: {', '.join(criteria.flag_label(f) for f in blocking)}"
    if case.in_round is not None:
        return f"it is already in round {case.in_round}"
    return None


def rationale(case: Candidate, criteria: Criteria) -> str:
    """Why an eligible case qualifies, in the words the business unit uses."""
    parts = [f"{criteria.category_label(case.category)}, {case.age_band}"]
    if case.flags:
        parts.append("flags: " + ", ".join(criteria.flag_label(f) for f in sorted(case.flags)))
    agencies = len({i.agency_id for i in case.involvements})
    parts.append(f"{agencies} agencies involved")
    parts.append(f"last activity {_uk(case.last_activity_on)}")
    if case.last_audited_on is None:
        parts.append("never audited")
    else:
        parts.append(f"last audited {_uk(case.last_audited_on)}")
    return "; ".join(parts)


def allocate(quota: int, sizes: Mapping[str, int], rng: random.Random) -> dict[str, int]:
    """Share ``quota`` among groups of the given sizes, as evenly as the sizes allow.

    1. Never more than a group holds; never more in total than all groups hold.
    2. While the quota allows, every group gets one. If the quota is smaller than the
       number of groups, the largest groups get one each (ties drawn with ``rng``).
    3. What is left is shared in proportion to what each group still holds, by largest
       remainders (exact integer arithmetic; ties drawn with ``rng``).

    ``rng`` is consumed in the sorted order of the group keys, so the result does not
    depend on the order of ``sizes``.
    """
    keys = sorted(k for k, n in sizes.items() if n > 0)
    tiebreak = {k: rng.random() for k in keys}
    quota = max(0, min(quota, sum(sizes[k] for k in keys)))
    if quota <= len(keys):
        chosen = sorted(keys, key=lambda k: (-sizes[k], tiebreak[k]))[:quota]
        return {k: (1 if k in chosen else 0) for k in keys}
    share = {k: 1 for k in keys}
    left = quota - len(keys)
    room = {k: sizes[k] - 1 for k in keys}
    total = sum(room.values())  # >= left, because quota <= sum of sizes
    remainders: dict[str, int] = {}
    for k in keys:
        whole, remainders[k] = divmod(left * room[k], total)
        share[k] += whole
    extra = left - (sum(share.values()) - len(keys))
    # Each remainder is below ``total`` and they add up to extra * total, so at least
    # ``extra`` groups have a remainder, and each of those still has room for one more.
    by_remainder = sorted(
        (k for k in keys if remainders[k] > 0), key=lambda k: (-remainders[k], tiebreak[k])
    )
    for k in by_remainder[:extra]:
        share[k] += 1
    return share


@dataclass(frozen=True)
class Selected:
    case: Candidate
    stratum: str
    rationale: str


@dataclass(frozen=True)
class AreaSelection:
    area_id: str
    requested: int
    eligible: int
    chosen: tuple[Selected, ...]

    @property
    def shortfall(self) -> int:
        return self.requested - len(self.chosen)


@dataclass(frozen=True)
class Selection:
    seed: int
    areas: tuple[AreaSelection, ...]

    @property
    def chosen(self) -> list[Selected]:
        return [s for area in self.areas for s in area.chosen]


def stratum_order(
    cases: Iterable[Candidate], seed: int, area_id: str, stratum: str
) -> list[Candidate]:
    """The stratum's cases in the seeded random order the sample is taken from.

    Each case is ranked by a keyed hash of the seed, area, stratum and its reference,
    so the order does not depend on how the rows arrived, and adding or removing
    other cases does not reshuffle the rest. A case swapped out of a round is
    replaced by the next eligible case in this same order.
    """
    prefix = f"{seed}:{area_id}:{stratum}:".encode()

    def rank(case: Candidate) -> tuple[bytes, str, int]:
        digest = hashlib.blake2b(prefix + case.reference.encode(), digest_size=16).digest()
        return digest, case.reference, case.case_id

    return sorted(cases, key=rank)


def select_cases(
    candidates: Iterable[Candidate],
    criteria: Criteria,
    *,
    today: dt.date,
    areas: Iterable[str],
    cases_per_area: int | Mapping[str, int],
    seed: int,
) -> Selection:
    """Draw the stratified sample for every area.

    1. Keep the eligible cases of each requested area.
    2. Share the area's quota across categories, then each category's share across age bands
       (:func:`allocate`, each with its own seeded generator).
    3. Take the first cases of each stratum's seeded order (:func:`stratum_order`).
    """
    by_area: dict[str, dict[str, list[Candidate]]] = defaultdict(lambda: defaultdict(list))
    wanted = list(dict.fromkeys(areas))
    wanted_set = set(wanted)
    for case in candidates:
        if case.area_id in wanted_set and why_ineligible(case, criteria, today) is None:
            by_area[case.area_id][case.stratum].append(case)
    results = []
    for area_id in wanted:
        wanted_here = cases_per_area if isinstance(cases_per_area, int) else cases_per_area[area_id]
        strata = by_area.get(area_id, {})
        eligible = sum(len(v) for v in strata.values())
        chosen: list[Selected] = []
        for stratum, count in sorted(_stratum_quotas(strata, wanted_here, seed, area_id).items()):
            for case in stratum_order(strata[stratum], seed, area_id, stratum)[:count]:
                chosen.append(Selected(case, stratum, rationale(case, criteria)))
        chosen.sort(key=lambda s: (s.stratum, s.case.reference))
        results.append(AreaSelection(area_id, wanted_here, eligible, tuple(chosen)))
    return Selection(seed=seed, areas=tuple(results))


def _stratum_quotas(
    strata: Mapping[str, list[Candidate]], quota: int, seed: int, area_id: str
) -> dict[str, int]:
    by_category: dict[str, dict[str, int]] = defaultdict(dict)
    for stratum, cases in strata.items():
        category, age_band = stratum.split("/", 1)
        by_category[category][age_band] = len(cases)
    category_sizes = {c: sum(bands.values()) for c, bands in by_category.items()}
    per_category = allocate(quota, category_sizes, random.Random(f"{seed}:{area_id}:categories"))
    quotas: dict[str, int] = {}
    for category, share in per_category.items():
        if share == 0:
            continue
        rng = random.Random(f"{seed}:{area_id}:{category}:age-bands")
        for age_band, count in allocate(share, by_category[category], rng).items():
            if count:
                quotas[stratum_key(category, age_band)] = count
    return quotas
