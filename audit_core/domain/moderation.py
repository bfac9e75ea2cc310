"""The audit day's record of a round (moderation), as plain values, and its rules.

On the audit day the agencies meet and agree, case by case, a grade of the scale, the
key findings and a brief summary the learning briefing prints (written so that no
child can be known); and they decide which strengths and lessons of the returns go
forward to the briefing, in what wording. A :class:`Sheet` holds that record:

- :func:`starting_sheet` makes the sheet the meeting starts from: every case of the
  round with what is already agreed, each agency's grades as a reminder, and every
  strength and lesson of the submitted returns as a finding not yet decided (once
  findings are recorded, those are kept and only a return's findings from a case and
  agency none of them came from are added);
- :func:`tidy` and :func:`check_sheet` clean the text and name every value the record
  cannot take (a grade not on the scale, a theme not in the taxonomy, a case not in the
  round, text too long, a strength going forward without its key phrase, text going
  into the briefing that looks like it identifies a child), each with its key path
  (``cases[2].agreed_grade``, ``strengths[0].key_phrase``);
- :func:`still_missing` names what the record lacks before moderation is complete:
  every case's agreed grade and key findings, and a decision on every finding.

Nothing here reads a database or a file.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from audit_core.domain.collation import AgencyColumn, Figures
from audit_core.domain.errors import Problem, ProblemsError
from audit_core.domain.models import FindingKind
from audit_core.domain.policy import BoardConfig
from audit_core.domain.privacy import identifying_value
from audit_core.domain.returns import MAX_PHRASE, MAX_TEXT, clean

SHEET = "the audit day's record"  # the "file" of a problem until a file is named
MAX_SUMMARY = 1_000  # characters in a case's summary: the briefing prints a few lines
KINDS: tuple[str, ...] = (FindingKind.STRENGTH, FindingKind.LESSON)
PART: dict[str, str] = {FindingKind.STRENGTH: "strengths", FindingKind.LESSON: "lessons"}


class SheetRejected(ProblemsError):
    headline = "The audit day was not recorded; nothing was written"


# --- the record ------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseRef:
    """A case a finding came from: its reference, and its area (None until it is found
    among the round's cases, for a reference written without one)."""

    reference: str
    area_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"area": self.area_id, "ref": self.reference}

    def __str__(self) -> str:
        return f"{self.area_id}:{self.reference}" if self.area_id else self.reference


@dataclass(frozen=True)
class SheetCase:
    """What the audit day agreed about one case; ``agencies`` is a reminder only (each
    agency's grades from its return, as collated) and is never recorded."""

    reference: str
    area_id: str
    agreed_grade: str | None = None
    key_findings: str = ""
    summary: str = ""
    agencies: tuple[AgencyColumn, ...] = ()

    @property
    def agreed(self) -> tuple[str | None, str, str]:
        """What is recorded of the case: grade, key findings, summary."""
        return (self.agreed_grade, self.key_findings, self.summary)

    def to_json(self) -> dict[str, Any]:
        return {
            "case_ref": self.reference,
            "area": self.area_id,
            "agreed_grade": self.agreed_grade,
            "key_findings": self.key_findings,
            "summary": self.summary,
            "agencies": [a.to_json() for a in self.agencies],
        }


@dataclass(frozen=True)
class SheetFinding:
    """A strength or a lesson as the audit day worded it. ``forward``: True, it goes to
    the learning briefing; False, it stays in the round's record only; None, undecided."""

    kind: str  # FindingKind
    theme_id: str
    text: str
    key_phrase: str = ""  # strengths only: printed in bold
    cases: tuple[CaseRef, ...] = ()
    agencies: tuple[str, ...] = ()  # agency ids
    forward: bool | None = None

    @property
    def content(self) -> tuple[Any, ...]:
        """Everything recorded of the finding, to tell whether it changed."""
        return (
            self.kind,
            self.theme_id,
            self.key_phrase,
            self.text,
            tuple((c.area_id or "", c.reference) for c in self.cases),
            tuple(self.agencies),
            self.forward,
        )

    def to_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"kind": self.kind, "theme": self.theme_id, "text": self.text}
        if self.kind == FindingKind.STRENGTH:
            found["key_phrase"] = self.key_phrase
        return found | {
            "cases": [c.to_json() for c in self.cases],
            "agencies": list(self.agencies),
            "forward": self.forward,
        }


@dataclass(frozen=True)
class Sheet:
    """The audit day's record of one round: its cases, then its findings (strengths
    first, in the order the briefing would take them)."""

    round_id: str
    cases: tuple[SheetCase, ...]
    findings: tuple[SheetFinding, ...]

    @property
    def strengths(self) -> tuple[SheetFinding, ...]:
        return tuple(f for f in self.findings if f.kind == FindingKind.STRENGTH)

    @property
    def lessons(self) -> tuple[SheetFinding, ...]:
        return tuple(f for f in self.findings if f.kind == FindingKind.LESSON)

    def located(self) -> list[tuple[str, SheetFinding]]:
        """Each finding with its place in the record (``strengths[0]``, ``lessons[2]``)."""
        counts: dict[str, int] = {}
        placed = []
        for finding in self.findings:
            part = PART.get(finding.kind, "findings")
            n = counts.get(part, 0)
            placed.append((f"{part}[{n}]", finding))
            counts[part] = n + 1
        return placed

    def to_json(self) -> dict[str, Any]:
        return {
            "round": self.round_id,
            "cases": [c.to_json() for c in self.cases],
            "strengths": [f.to_json() for f in self.strengths],
            "lessons": [f.to_json() for f in self.lessons],
        }


@dataclass(frozen=True)
class Missing:
    """One thing the record still lacks before moderation is complete."""

    location: str  # the key path of the value to fill in
    what: str  # a sentence

    def to_json(self) -> dict[str, str]:
        return {"location": self.location, "what": self.what}


@dataclass(frozen=True)
class SheetRules:
    """What a round's record may hold: the grades of the scale and the themes of the
    taxonomy (id -> name), the agencies, and the round's cases as (area, reference)."""

    grades: Mapping[str, str]
    themes: Mapping[str, str]
    agencies: Mapping[str, str]
    cases: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, config: BoardConfig, cases: Iterable[tuple[str, str]]) -> SheetRules:
        return cls(
            grades={g.id: g.label for g in config.scale.grades},
            themes={t.id: t.name for t in config.themes},
            agencies={a.id: a.name for a in config.agencies},
            cases=tuple(cases),
        )

    def areas_of(self, reference: str) -> list[str]:
        return [area for area, ref in self.cases if ref == reference]


# --- the sheet the audit day starts from -------------------------------------------------


def collated_findings(figures: Figures) -> list[SheetFinding]:
    """Every strength and lesson of the submitted returns, undecided, with its case and
    agency: strengths, then lessons, each by theme (the most frequent theme first)."""
    found = []
    for kind, groups in (
        (FindingKind.STRENGTH, figures.strengths),
        (FindingKind.LESSON, figures.lessons),
    ):
        for group in groups:
            for e in group.entries:
                found.append(
                    SheetFinding(
                        kind=kind,
                        theme_id=group.theme_id,
                        text=e.text,
                        key_phrase=e.key_phrase if kind == FindingKind.STRENGTH else "",
                        cases=(CaseRef(e.case_ref, e.area_id),),
                        agencies=(e.agency_id,),
                    )
                )
    return found


def starting_sheet(
    round_id: str,
    figures: Figures,
    agreed: Mapping[tuple[str, str], tuple[str | None, str, str]],
    recorded: Sequence[SheetFinding],
) -> Sheet:
    """The sheet the audit day starts from.

    1. Every case of the round, in the collation's order, with what is agreed of it
       already (``agreed``: (area, reference) -> grade, key findings, summary) and each
       agency's grades from its return as a reminder.
    2. The findings recorded already, in their order; if none are, every collated
       strength and lesson, undecided.
    3. After recorded findings, each collated one of a kind, case and agency no recorded
       finding came from (a return submitted since), undecided.
    """
    cases = tuple(
        SheetCase(
            c.reference,
            c.area_id,
            *agreed.get((c.area_id, c.reference), (None, "", "")),
            agencies=c.agencies,
        )
        for c in figures.cases
    )
    collated = collated_findings(figures)
    if not recorded:
        return Sheet(round_id, cases, tuple(collated))
    covered = {
        (f.kind, c.area_id, c.reference, agency)
        for f in recorded
        for c in f.cases
        for agency in f.agencies
    }
    new = [
        f
        for f in collated
        if (f.kind, f.cases[0].area_id, f.cases[0].reference, f.agencies[0]) not in covered
    ]
    return Sheet(round_id, cases, _in_kind_order([*recorded, *new]))


def _in_kind_order(findings: Iterable[SheetFinding]) -> tuple[SheetFinding, ...]:
    listed = list(findings)
    return tuple(f for kind in KINDS for f in listed if f.kind == kind) + tuple(
        f for f in listed if f.kind not in KINDS
    )


# --- cleaning and checking ---------------------------------------------------------------


def tidy(sheet: Sheet) -> Sheet:
    """The sheet with its text as typed minus control characters and surrounding space
    (line breaks kept), and an empty grade read as none."""
    cases = tuple(
        dataclasses.replace(
            c,
            reference=clean(c.reference),
            area_id=clean(c.area_id),
            agreed_grade=clean(c.agreed_grade) or None,
            key_findings=clean(c.key_findings),
            summary=clean(c.summary),
        )
        for c in sheet.cases
    )
    findings = tuple(
        dataclasses.replace(
            f,
            kind=clean(f.kind),
            theme_id=clean(f.theme_id),
            text=clean(f.text),
            key_phrase=clean(f.key_phrase),
            cases=tuple(
                dict.fromkeys(
                    CaseRef(clean(c.reference), clean(c.area_id) or None) for c in f.cases
                )
            ),
            agencies=tuple(dict.fromkeys(clean(a) for a in f.agencies)),
        )
        for f in sheet.findings
    )
    return Sheet(clean(sheet.round_id), cases, findings)


def check_sheet(sheet: Sheet, rules: SheetRules, round_id: str) -> list[Problem]:
    """Every value of a (tidied) sheet the round's record cannot take, with its key path."""
    problems: list[Problem] = []
    if sheet.round_id != round_id:
        problems.append(
            _problem("round", f"this record is of round {sheet.round_id}, not {round_id}")
        )
    problems += _check_cases(sheet.cases, rules)
    for where, finding in sheet.located():
        problems += _check_finding(where, finding, rules)
    return problems


def _problem(location: str, reason: str) -> Problem:
    return Problem(SHEET, location, reason)


def _choices(allowed: Mapping[str, str]) -> str:
    return ", ".join(allowed)


def _unknown(value: str, allowed: Mapping[str, str], what: str) -> str:
    reason = f"'{value}' is not {what}"
    close = difflib.get_close_matches(value, list(allowed), n=1)
    if close:
        reason += f" (did you mean '{close[0]}'?)"
    return f"{reason}; one of: {_choices(allowed)}"


def _check_cases(cases: Sequence[SheetCase], rules: SheetRules) -> list[Problem]:
    problems: list[Problem] = []
    seen: dict[tuple[str, str], int] = {}
    known = set(rules.cases)
    for i, case in enumerate(cases):
        at = f"cases[{i}]"
        key = (case.area_id, case.reference)
        if key not in known:
            problems.append(
                _problem(f"{at}.case", _not_in_round(case.reference, case.area_id, rules))
            )
        elif key in seen:
            problems.append(
                _problem(
                    f"{at}.case",
                    f"case {case.reference} is given twice (first at cases[{seen[key]}])",
                )
            )
        seen.setdefault(key, i)
        grade = case.agreed_grade
        if grade is not None and grade not in rules.grades:
            problems.append(
                _problem(
                    f"{at}.agreed_grade", _unknown(grade, rules.grades, "a grade of the scale")
                )
            )
        problems += _text(f"{at}.key_findings", case.key_findings, MAX_TEXT, dates=False)
        problems += _text(f"{at}.summary", case.summary, MAX_SUMMARY, dates=True)
    return problems


def _not_in_round(reference: str, area_id: str | None, rules: SheetRules) -> str:
    listed = ", ".join(f"{ref} ({area})" for area, ref in rules.cases)
    where = f" in {area_id}" if area_id else ""
    return f"case {reference}{where} is not in this round (its cases: {listed})"


def _text(
    location: str, text: str, most: int, *, dates: bool, printed: bool = True
) -> list[Problem]:
    """Text over its limit; and text the briefing prints that looks like it identifies a
    child (the value is never repeated)."""
    if len(text) > most:
        return [_problem(location, f"must be {most:,} characters or fewer (it has {len(text):,})")]
    what = identifying_value(text, dates=dates) if printed else None
    if what is not None:
        return [
            _problem(
                location,
                f"this looks like it holds {what}, which could identify a child; write it "
                "without (the value is not repeated here)",
            )
        ]
    return []


def _check_finding(at: str, finding: SheetFinding, rules: SheetRules) -> list[Problem]:
    if finding.kind not in KINDS:
        return [_problem(f"{at}.kind", f"'{finding.kind}' is not strength or lesson")]
    strength = finding.kind == FindingKind.STRENGTH
    printed = finding.forward is True  # only what goes forward reaches the briefing
    problems: list[Problem] = []
    if not finding.theme_id:
        problems.append(_problem(f"{at}.theme", f"choose a theme: one of {_choices(rules.themes)}"))
    elif finding.theme_id not in rules.themes:
        problems.append(
            _problem(
                f"{at}.theme", _unknown(finding.theme_id, rules.themes, "a theme of the taxonomy")
            )
        )
    if strength:
        if printed and not finding.key_phrase:
            problems.append(
                _problem(
                    f"{at}.key_phrase",
                    "a strength going forward to the briefing needs its key phrase "
                    "(printed in bold)",
                )
            )
        problems += _text(
            f"{at}.key_phrase", finding.key_phrase, MAX_PHRASE, dates=True, printed=printed
        )
    elif finding.key_phrase:
        problems.append(_problem(f"{at}.key_phrase", "a lesson has no key phrase"))
    if not finding.text:
        problems.append(_problem(f"{at}.text", "the finding's text is missing"))
    problems += _text(f"{at}.text", finding.text, MAX_TEXT, dates=True, printed=printed)
    if not finding.cases:
        problems.append(
            _problem(f"{at}.cases", "name the case (or cases) of the round the finding is about")
        )
    for j, ref in enumerate(finding.cases):
        reason = _case_ref_problem(ref, rules)
        if reason:
            problems.append(_problem(f"{at}.cases[{j}]", reason))
    for j, agency in enumerate(finding.agencies):
        if agency not in rules.agencies:
            problems.append(
                _problem(f"{at}.agencies[{j}]", _unknown(agency, rules.agencies, "an agency"))
            )
    return problems


def _case_ref_problem(ref: CaseRef, rules: SheetRules) -> str | None:
    areas = rules.areas_of(ref.reference)
    if ref.area_id is not None:
        return None if ref.area_id in areas else _not_in_round(ref.reference, ref.area_id, rules)
    if not areas:
        return _not_in_round(ref.reference, None, rules)
    if len(areas) > 1:
        return (
            f"case {ref.reference} is in this round in several areas ({', '.join(areas)}): "
            f"write it as area:reference, e.g. {areas[0]}:{ref.reference}"
        )
    return None


def resolve(sheet: Sheet, rules: SheetRules) -> Sheet:
    """A checked sheet with the area of every case a finding came from filled in."""
    findings = tuple(
        dataclasses.replace(
            f,
            cases=tuple(
                dict.fromkeys(
                    c if c.area_id else CaseRef(c.reference, rules.areas_of(c.reference)[0])
                    for c in f.cases
                )
            ),
        )
        for f in sheet.findings
    )
    return dataclasses.replace(sheet, findings=findings)


# --- completeness ------------------------------------------------------------------------


def still_missing(
    sheet: Sheet, round_cases: Sequence[tuple[str, str]] | None = None
) -> list[Missing]:
    """What the record lacks before moderation is complete: every case of the round
    (``round_cases``, as (area, reference); by default the sheet's) with an agreed grade
    and key findings, and every finding decided (forward or not)."""
    missing: list[Missing] = []
    place = {(c.area_id, c.reference): i for i, c in enumerate(sheet.cases)}
    for area_id, reference in round_cases if round_cases is not None else list(place):
        i = place.get((area_id, reference))
        if i is None:
            missing.append(
                Missing(
                    "cases",
                    f"Case {reference} ({area_id}) has no agreed grade or key findings yet.",
                )
            )
            continue
        case = sheet.cases[i]
        if case.agreed_grade is None:
            missing.append(
                Missing(
                    f"cases[{i}].agreed_grade", f"Case {reference} ({area_id}) has no agreed grade."
                )
            )
        if not case.key_findings:
            missing.append(
                Missing(
                    f"cases[{i}].key_findings", f"Case {reference} ({area_id}) has no key findings."
                )
            )
    for where, finding in sheet.located():
        if finding.forward is None:
            noun = "Strength" if finding.kind == FindingKind.STRENGTH else "Lesson"
            label = finding.key_phrase or _shortened(finding.text)
            missing.append(
                Missing(
                    f"{where}.forward",
                    f"{noun} '{label}' ({finding.theme_id}) is not decided: forward to the "
                    "briefing, or not.",
                )
            )
    return missing


def _shortened(text: str, most: int = 60) -> str:
    return text if len(text) <= most else text[: most - 3].rstrip() + "..."
