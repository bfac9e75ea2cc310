"""The audit day's record as a YAML file: written for the business unit to fill in, and
read back (``auditround round moderate``).

:func:`write_sheet` writes a :class:`~audit_core.domain.moderation.Sheet` with a comment
heading each part (what to fill in, the grades of the scale and the themes allowed),
and each agency's grades of each case as a reminder the reading ignores. The file holds
what the returns say, so it is written readable by its owner alone.

:func:`read_sheet` reads one back. It checks the file's shape only (YAML, the keys of
each part, the type of each value) and names every problem at once with the file, the
key path and its line; the values themselves (grades, themes, cases of the round) are
checked when the record is made (:func:`audit_core.domain.moderation.check_sheet`),
and :func:`located` puts the file and the line on those problems too. A file with any
problem gives no sheet at all, so nothing is half-applied.
"""

from __future__ import annotations

import difflib
import json
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from audit_core.adapters.config.loader import _read_yaml, _with_lines, _yaml_problem
from audit_core.domain.collation import AgencyColumn
from audit_core.domain.errors import AuditRoundError, Problem, ProblemsError
from audit_core.domain.models import FindingKind
from audit_core.domain.moderation import (
    PART,
    SHEET,
    CaseRef,
    Sheet,
    SheetCase,
    SheetFinding,
    SheetRejected,
)
from audit_core.domain.policy import BoardConfig

TOP_KEYS = ("round", "cases", "strengths", "lessons")
CASE_KEYS = ("case", "area", "agreed_grade", "key_findings", "summary", "agency_grades")
FINDING_KEYS: dict[str, tuple[str, ...]] = {
    FindingKind.STRENGTH: ("theme", "key_phrase", "text", "cases", "agencies", "forward"),
    FindingKind.LESSON: ("theme", "text", "cases", "agencies", "forward"),
}
BLOCK_FROM = 60  # characters of text from which it is written as a block, on lines of its own
WIDTH = 88  # the longest line the comments and the agencies' grades are wrapped to


# --- writing -----------------------------------------------------------------------------


def check_writable(path: Path | str, *, force: bool = False) -> Path:
    """Refuse a file that exists (unless ``force``) or a folder that does not."""
    target = Path(path)
    if target.exists() and not force:
        raise AuditRoundError(
            f"{target} exists already: give another file, or --force to write over it."
        )
    if not target.parent.is_dir():
        raise AuditRoundError(f"The folder {target.parent} does not exist.")
    return target


def write_sheet(
    path: Path | str, sheet: Sheet, config: BoardConfig, *, force: bool = False, note: str = ""
) -> Path:
    """Write the sheet to ``path`` (whole or not at all), readable by its owner alone."""
    target = check_writable(path, force=force)
    text = sheet_text(sheet, config, note=note, file_name=target.name)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".audit-day-", suffix=".yaml")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def sheet_text(
    sheet: Sheet, config: BoardConfig, *, note: str = "", file_name: str = "FILE"
) -> str:
    """The sheet as the YAML file the business unit fills in."""
    lines = _header(sheet, note, file_name)
    lines += [f"round: {_inline(sheet.round_id)}", ""]
    lines += _cases_part(sheet.cases, config)
    themes = [f"{t.id} ({t.name})" for t in config.themes]
    plain = _plain_references(sheet.cases)
    for kind in (FindingKind.STRENGTH, FindingKind.LESSON):
        found = [f for f in sheet.findings if f.kind == kind]
        lines += ["", *_finding_help(kind, themes)]
        lines += _findings_part(PART[kind], found, plain)
    return "\n".join(lines) + "\n"


def _header(sheet: Sheet, note: str, file_name: str) -> list[str]:
    lines = [
        f"# The audit day of round {sheet.round_id}: what the meeting agreed about each case,",
        "# and which strengths and lessons go forward to the learning briefing.",
    ]
    if note:
        lines.append(f"# {_one_line(note)}")
    return [
        *lines,
        "#",
        "# Fill it in, then record it (safe to run again, as often as the meeting needs):",
        f"#     auditround round moderate {sheet.round_id} {_one_line(file_name)}",
        "# Once every case has an agreed grade and key findings, and every strength and",
        "# lesson is decided, the round moves on to its briefing.",
        "#",
        "# Never name a child: cases are known by their reference. Summaries, key phrases",
        "# and texts that go forward are printed in the briefing for the whole partnership.",
        "# This file holds what the returns say: keep it where only the business unit can",
        "# read it, and delete it once the audit day is recorded.",
        "",
    ]


def _cases_part(cases: Sequence[SheetCase], config: BoardConfig) -> list[str]:
    grades = [f"{g.id} ({g.label})" for g in config.scale.grades]
    sections = [f"{s.id} ({s.title})" for s in config.audit_tool.sections]
    lines = [
        "# --- Cases ------------------------------------------------------------------------",
        "# For each case, what the audit day agreed (leave case and area as they are):",
        "#   agreed_grade  one of the scale's grades (needed):",
        *_wrapped(grades, "#                 "),
        "#   key_findings  what the meeting found, in a few sentences (needed)",
        '#   summary       a brief summary the briefing prints as "Case 1", "Case 2", ...;',
        "#                 nothing that could identify a child (no names, dates of birth,",
        "#                 addresses, schools)",
        "#   agency_grades read only: each agency's grades from its return, by section",
        "#                 (changes to it are ignored). The sections:",
        *_wrapped(sections, "#                 "),
    ]
    if not cases:
        return [*lines, "cases: []"]
    lines.append("cases:")
    for case in cases:
        lines += [
            f"  - case: {_inline(case.reference)}",
            f"    area: {_inline(case.area_id)}",
            f"    agreed_grade: {_inline(case.agreed_grade)}".rstrip(),
            *_text_field("key_findings", case.key_findings, "    "),
            *_text_field("summary", case.summary, "    "),
            *_agency_grades(case.agencies),
        ]
    return lines


def _agency_grades(agencies: Sequence[AgencyColumn]) -> list[str]:
    if not agencies:
        return ["    agency_grades: {}"]
    lines = ["    agency_grades:"]
    for a in agencies:
        lines.append(f"      # {_one_line(a.agency_name)}")
        key = f"      {_inline(a.agency_id)}: "
        if not a.received:
            lines.append(key + _inline(f"not received: {a.state}"))
            continue
        given = [f"{s}: {_inline(g)}" for s, g in a.grades if g]
        aligned = " " * (len(key) + 1)  # the lines after the first under its first grade
        wrapped = _wrapped(given, aligned) or [aligned]
        lines += [key + "{" + wrapped[0][len(aligned) :], *wrapped[1:]]
        lines[-1] += "}"
    return lines


def _finding_help(kind: str, themes: list[str]) -> list[str]:
    strength = kind == FindingKind.STRENGTH
    title = "Strengths" if strength else "Lessons"
    lines = [
        f"# --- {title} " + "-" * (80 - len(title) - 7),
        f"# Each {kind} the returns gave, by theme. For each:",
        "#   forward     yes: it goes to the learning briefing, in the wording here;",
        "#               no: it stays in the round's record only; empty: not decided yet",
        "#   theme       one of the themes below",
    ]
    if strength:
        lines += ["#   key_phrase  the words printed in bold (needed for a strength going forward)"]
    lines += [
        "#   text        the wording; edit it freely",
        "#   cases       the case references it is about (area:reference if a reference is",
        "#               in the round in two areas); agencies: the agency ids it came from",
        "# To merge two, keep one with both cases and agencies and delete the other; to add a",
        f"# {kind} the returns did not have, add an entry with the same keys.",
        "# Themes:",
        *_wrapped(themes, "#   "),
    ]
    return lines


def _findings_part(part: str, findings: Sequence[SheetFinding], plain: set[str]) -> list[str]:
    if not findings:
        return [f"{part}: []"]
    lines = [f"{part}:"]
    for f in findings:
        lines.append(f"  - theme: {_inline(f.theme_id)}")
        if f.kind == FindingKind.STRENGTH:
            lines += _text_field("key_phrase", f.key_phrase, "    ")
        lines += _text_field("text", f.text, "    ")
        refs = [c.reference if c.reference in plain else str(c) for c in f.cases]
        lines += [
            f"    cases: {_flow(refs)}",
            f"    agencies: {_flow(f.agencies)}",
            f"    forward: {_decision(f.forward)}".rstrip(),
        ]
    return lines


def _plain_references(cases: Iterable[SheetCase]) -> set[str]:
    """The references a finding may name without their area: those of one case only."""
    seen: dict[str, int] = {}
    for case in cases:
        seen[case.reference] = seen.get(case.reference, 0) + 1
    return {ref for ref, n in seen.items() if n == 1}


def _decision(forward: bool | None) -> str:
    return "" if forward is None else ("yes" if forward else "no")


def _wrapped(parts: Sequence[str], prefix: str, joiner: str = ", ") -> list[str]:
    """The parts joined, on lines of at most :data:`WIDTH` (a part is never split)."""
    lines, line = [], ""
    for part in parts:
        joined = f"{line}{joiner}{part}" if line else part
        if line and len(prefix) + len(joined) > WIDTH:
            lines.append(prefix + line + joiner.rstrip())
            line = part
        else:
            line = joined
    return [*lines, prefix + line] if line else lines


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _loads_as(rendered: str, value: Any) -> bool:
    try:
        return bool(yaml.safe_load(f"k: {rendered}") == {"k": value})
    except yaml.YAMLError:
        return False


def _inline(value: str | None) -> str:
    """A value on one line: plain where YAML reads it back as the same text (also inside
    a flow list), else double-quoted."""
    if value is None:
        return ""
    if value and _loads_as(value, value) and _loads_as(f"[{value}]", [value]):
        return value
    quoted = json.dumps(value, ensure_ascii=False)
    return quoted if _loads_as(quoted, value) else json.dumps(value)


def _flow(values: Sequence[str]) -> str:
    return "[" + ", ".join(_inline(v) for v in values) + "]"


def _text_field(key: str, value: str, indent: str) -> list[str]:
    """A text value: on its line when short, else as a block of its own lines."""
    if "\n" in value or len(value) > BLOCK_FROM:
        body = [f"{indent}  {line}" if line else "" for line in value.split("\n")]
        block = "\n".join([f"{key}: |-", *body])
        try:
            if yaml.safe_load(block) == {key: value}:
                return [f"{indent}{key}: |-", *body]
        except yaml.YAMLError:
            pass
    return [f"{indent}{key}: {_inline(value)}"]


# --- reading -----------------------------------------------------------------------------


def read_sheet(path: Path | str) -> Sheet:
    """The sheet in the file; :class:`SheetRejected` names every problem of its shape."""
    display = str(path)
    source = Path(path)
    if not source.is_file():
        raise SheetRejected([Problem(display, "", "the file does not exist")])
    try:
        data, node = _read_yaml(source.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SheetRejected([_yaml_problem(display, exc)]) from None
    except UnicodeDecodeError:
        raise SheetRejected([Problem(display, "", "not UTF-8 text")]) from None
    reader = _Reader(display)
    sheet = reader.sheet(data)
    if reader.problems or sheet is None:
        found = reader.problems or [Problem(display, "", "the file is empty")]
        raise SheetRejected(_with_lines(found, {display: node} if node else {}, [display]))
    return sheet


def located(path: Path | str, error: ProblemsError) -> ProblemsError:
    """The problems of a sheet read from ``path``, with the file and the line of each."""
    display = str(path)
    problems = [
        Problem(display, p.location, p.reason) if p.file == SHEET else p for p in error.problems
    ]
    try:
        _, node = _read_yaml(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        node = None
    with_lines = _with_lines(problems, {display: node} if node else {}, [display])
    return type(error)(with_lines, error.headline)


class _Reader:
    """Reads the file's data into a sheet, collecting every problem of its shape."""

    def __init__(self, display: str) -> None:
        self.display = display
        self.problems: list[Problem] = []

    def problem(self, location: str, reason: str) -> None:
        self.problems.append(Problem(self.display, location, reason))

    def sheet(self, data: Any) -> Sheet | None:
        if data is None:
            return None
        top = self.mapping(data, "", TOP_KEYS, required=TOP_KEYS)
        if top is None:
            return None
        round_id = self.text(top, "round", "round")
        cases = tuple(
            c
            for i, item in enumerate(self.items(top, "cases"))
            if (c := self.case(item, f"cases[{i}]")) is not None
        )
        findings = tuple(
            f
            for kind, part in PART.items()
            for i, item in enumerate(self.items(top, part))
            if (f := self.finding(kind, item, f"{part}[{i}]")) is not None
        )
        return Sheet(round_id, cases, findings)

    def mapping(
        self, value: Any, at: str, keys: Sequence[str], *, required: Sequence[str]
    ) -> dict[str, Any] | None:
        where = at or "the top of the file"
        if not isinstance(value, dict):
            self.problem(at, f"expected a mapping of keys at {where} ({', '.join(keys)})")
            return None
        for key in value:
            if key == "key_phrase" and "key_phrase" not in keys:
                self.problem(_join(at, key), "a lesson has no key phrase (only strengths do)")
            elif key not in keys:
                self.problem(_join(at, str(key)), _unknown_key(str(key), keys))
        for key in required:
            if key not in value:
                self.problem(_join(at, key), "required key is missing")
        return value

    def items(self, top: Mapping[str, Any], part: str) -> list[Any]:
        value = top.get(part)
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(part, "expected a list (each entry starting with '- '), or []")
            return []
        return value

    def text(self, m: Mapping[str, Any], key: str, at: str) -> str:
        value = m.get(key)
        if value is None:
            return ""
        if isinstance(value, str):
            return value
        self.problem(at, f"expected text, not {_kind_of(value)} (put it in quotes)")
        return ""

    def case(self, item: Any, at: str) -> SheetCase | None:
        m = self.mapping(item, at, CASE_KEYS, required=("case", "area"))
        if m is None:
            return None
        grade = m.get("agreed_grade")
        if grade is not None and not isinstance(grade, str):
            self.problem(f"{at}.agreed_grade", f"expected a grade id, not {_kind_of(grade)}")
            grade = None
        return SheetCase(
            reference=self.text(m, "case", f"{at}.case"),
            area_id=self.text(m, "area", f"{at}.area"),
            agreed_grade=grade or None,
            key_findings=self.text(m, "key_findings", f"{at}.key_findings"),
            summary=self.text(m, "summary", f"{at}.summary"),
        )

    def finding(self, kind: str, item: Any, at: str) -> SheetFinding | None:
        m = self.mapping(item, at, FINDING_KEYS[kind], required=("theme", "text", "cases"))
        if m is None:
            return None
        return SheetFinding(
            kind=kind,
            theme_id=self.text(m, "theme", f"{at}.theme"),
            text=self.text(m, "text", f"{at}.text"),
            key_phrase=self.text(m, "key_phrase", f"{at}.key_phrase"),
            cases=tuple(_case_ref(r) for r in self.strings(m, "cases", f"{at}.cases")),
            agencies=self.strings(m, "agencies", f"{at}.agencies"),
            forward=self.decision(m.get("forward"), f"{at}.forward"),
        )

    def strings(self, m: Mapping[str, Any], key: str, at: str) -> tuple[str, ...]:
        value = m.get(key)
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]  # one, written without brackets
        if not isinstance(value, list):
            self.problem(at, f"expected a list such as [a, b], not {_kind_of(value)}")
            return ()
        found = []
        for j, item in enumerate(value):
            if isinstance(item, str):
                found.append(item)
            else:
                self.problem(f"{at}[{j}]", f"expected text, not {_kind_of(item)}")
        return tuple(found)

    def decision(self, value: Any, at: str) -> bool | None:
        if value is None or isinstance(value, bool):
            return value
        said = value.strip().lower() if isinstance(value, str) else None
        if said in ("yes", "true", "y"):
            return True
        if said in ("no", "false", "n"):
            return False
        if said == "":
            return None
        self.problem(at, "expected yes or no, or nothing while it is not decided")
        return None


def _case_ref(text: str) -> CaseRef:
    area, colon, reference = text.partition(":")
    return CaseRef(reference.strip(), area.strip()) if colon else CaseRef(text.strip())


def _join(at: str, key: str) -> str:
    return f"{at}.{key}" if at else key


def _unknown_key(name: str, expected: Sequence[str]) -> str:
    reason = "unknown key (check the spelling)"
    close = difflib.get_close_matches(name, list(expected), n=1)
    if close:
        reason = f"unknown key (did you mean '{close[0]}'?)"
    return f"{reason}; expected one of: {', '.join(expected)}"


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "yes/no"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"  # a date, mostly
