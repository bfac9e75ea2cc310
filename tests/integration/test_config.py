"""The board configuration: the example loads, and a broken one is explained in full.

A coordinator who edits ``config/*.yaml`` should see every mistake at once,
each with the file, the key path (and line) and what was expected.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

import pytest

from audit_core.adapters.config import load_config
from audit_core.domain.errors import ConfigError, Problem
from audit_core.domain.policy import BoardConfig

PROJECT = Path(__file__).resolve().parents[2]
CONFIG_DIR = PROJECT / "config"

AREAS = {"hackney", "city"}
AGENCIES = {
    "hackney-csc",
    "city-cft",
    "met-police",
    "city-police",
    "gp",
    "health-visiting",
    "camhs",
    "elft",
    "homerton",
    "hackney-education",
    "city-schools",
    "probation",
    "early-help",
    "housing",
    "substance-misuse",
    "youth-justice",
}
BIG_AGENCIES = {"hackney-csc", "met-police", "gp", "health-visiting", "camhs"}
# The prefix of the practitioner ids each agency's register export uses
# (documented in docs/configuration.md).
PREFIXES = {
    "hackney-csc": "HCS",
    "city-cft": "CFT",
    "met-police": "MET",
    "city-police": "COLP",
    "gp": "GP",
    "health-visiting": "HV",
    "camhs": "CAMHS",
    "elft": "ELFT",
    "homerton": "HOM",
    "hackney-education": "HED",
    "city-schools": "CSE",
    "probation": "PRB",
    "early-help": "EH",
    "housing": "HSG",
    "substance-misuse": "SMS",
    "youth-justice": "YJS",
}


class ConfigCopy:
    """A copy of the example configuration in a temporary folder, to break on purpose."""

    def __init__(self, root: Path) -> None:
        self.root = root
        shutil.copytree(CONFIG_DIR, root)

    def edit(self, name: str, old: str, new: str, count: int = 1) -> None:
        path = self.root / name
        text = path.read_text(encoding="utf-8")
        assert text.count(old) >= count, f"{old!r} is not in {name}"
        path.write_text(text.replace(old, new, count), encoding="utf-8")

    def problems(self) -> list[Problem]:
        with pytest.raises(ConfigError) as caught:
            load_config(self.root)
        return caught.value.problems


@pytest.fixture
def copy(tmp_path: Path) -> ConfigCopy:
    return ConfigCopy(tmp_path / "config")


def key_of(problem: Problem) -> str:
    """The key path of a problem, without the line number that follows it."""
    return problem.location.split(" (line ")[0]


def line_of(problem: Problem) -> int | None:
    found = re.search(r"line (\d+)", problem.location)
    return int(found.group(1)) if found else None


def find(problems: list[Problem], file: str, key: str, reason: str) -> Problem:
    """The one problem in ``file`` at ``key`` whose reason mentions ``reason``."""
    for problem in problems:
        if Path(problem.file).name == file and key_of(problem) == key and reason in problem.reason:
            return problem
    listed = "\n".join(str(p) for p in problems)
    raise AssertionError(f"no problem {file}: {key}: ...{reason}... among:\n{listed}")


# --- the example board ----------------------------------------------------------


def test_the_example_board_loads(config: BoardConfig) -> None:
    assert config.board.name == "City & Hackney Safeguarding Children Partnership"
    assert {a.id for a in config.board.areas} == AREAS
    assert {a.id for a in config.agencies} == AGENCIES
    assert {c.id for c in config.categories} == {
        "early_help",
        "child_in_need",
        "child_protection",
        "looked_after",
        "s47_enquiry",
    }
    assert [b.id for b in config.age_bands] == ["0-4", "5-10", "11-15", "16-17"]
    assert {f.id for f in config.focuses} == {
        "s47-enquiries",
        "looked-after-children",
        "think-family",
        "neglect-mental-health",
        "early-help",
    }


def test_only_a_live_review_or_court_proceedings_keep_a_case_out_of_selection(
    config: BoardConfig,
) -> None:
    excluding = {f.id for f in config.flags if f.excludes_selection}
    assert excluding == {"live_review", "in_court"}
    assert {f.id for f in config.flags} - excluding == {
        "parental_mental_health",
        "domestic_abuse",
        "parental_substance_misuse",
        "neglect",
        "child_exploitation",
    }


def test_police_forces_and_childrens_services_work_in_their_own_area(config: BoardConfig) -> None:
    assert config.agency("met-police").areas == ("hackney",)
    assert config.agency("city-police").areas == ("city",)
    assert config.agency("hackney-csc").areas == ("hackney",)
    assert config.agency("city-cft").areas == ("city",)
    assert set(config.agency("gp").areas) == AREAS


def test_every_auditor_covers_only_areas_their_agency_works_in(config: BoardConfig) -> None:
    for auditor in config.auditors:
        assert set(auditor.areas) <= set(config.agency(auditor.agency).areas), auditor.id
        assert 1 <= auditor.capacity <= 4, auditor.id


def test_every_agency_has_two_auditors_and_the_big_ones_three(config: BoardConfig) -> None:
    counts = Counter(a.agency for a in config.auditors if a.active)
    for agency in AGENCIES:
        assert counts[agency] >= (3 if agency in BIG_AGENCIES else 2), agency


def test_every_area_of_every_agency_has_an_auditor(config: BoardConfig) -> None:
    for agency in config.agencies:
        for area in agency.areas:
            covering = [a for a in config.auditors if a.agency == agency.id and area in a.areas]
            assert covering, f"{agency.id} has no auditor in {area}"


def test_practitioner_ids_carry_their_agencys_prefix(config: BoardConfig) -> None:
    for auditor in config.auditors:
        assert auditor.practitioner_ids, auditor.id
        for pid in auditor.practitioner_ids:
            assert re.fullmatch(rf"{PREFIXES[auditor.agency]}-\d{{3,4}}", pid), (auditor.id, pid)


def test_the_practitioner_id_prefixes_are_documented() -> None:
    guide = (PROJECT / "docs" / "configuration.md").read_text(encoding="utf-8")
    for agency, prefix in PREFIXES.items():
        assert re.search(rf"`{re.escape(agency)}`.*`{prefix}-", guide), agency


def test_every_address_in_the_example_is_on_example_org(config: BoardConfig) -> None:
    addresses = [config.board.business_unit.email, config.board.business_unit.manager.email]
    addresses += [a.lead.email for a in config.agencies]
    addresses += [a.email for a in config.auditors]
    addresses += [c.email for c in config.business_unit_contacts]
    assert all(address.endswith("@example.org") for address in addresses)
    assert len(set(addresses)) == len(addresses)
    assert 2 <= len(config.business_unit_contacts) <= 3


def test_the_audit_tool_grades_on_the_ofsted_scale(config: BoardConfig) -> None:
    assert (config.audit_tool.id, config.audit_tool.version) == ("macfa", 1)
    assert [(g.label, g.score) for g in config.scale.grades] == [
        ("Outstanding", 4),
        ("Good", 3),
        ("Requires improvement", 2),
        ("Inadequate", 1),
    ]
    assert {s.id for s in config.scales} == {"ofsted", "rag"}
    titles = [s.title for s in config.audit_tool.sections]
    assert titles[0] == "Recognition of need and risk"
    assert titles[-1] == "Overall quality of practice"
    assert "Voice of the child" in titles
    assert all(s.guidance for s in config.audit_tool.sections)


def test_every_theme_asks_a_question_and_links_a_policy(config: BoardConfig) -> None:
    assert len(config.themes) == 14
    for theme in config.themes:
        assert theme.prompt.rstrip().endswith("?"), theme.id
        assert theme.policy is not None, theme.id
        assert theme.policy.url.startswith("https://"), theme.id
        assert ".example.org/" in theme.policy.url, theme.id
    fathers = config.theme("engaging-fathers")
    assert "fathers" in fathers.prompt
    assert config.theme("escalation-and-challenge").policy is not None


def test_the_focuses_select_the_cases_their_names_promise(config: BoardConfig) -> None:
    think_family = config.focus("think-family")
    assert set(think_family.categories) == {"early_help", "child_in_need", "child_protection"}
    assert set(think_family.flags_any) == {
        "parental_mental_health",
        "domestic_abuse",
        "parental_substance_misuse",
    }
    assert config.focus("early-help").categories == ("early_help",)
    assert config.focus("looked-after-children").categories == ("looked_after",)
    assert set(config.focus("s47-enquiries").categories) == {"s47_enquiry", "child_protection"}
    assert set(config.focus("neglect-mental-health").flags_any) == {
        "neglect",
        "parental_mental_health",
    }
    for focus in config.focuses:
        assert focus.lookback_months in (6, 12), focus.id
        assert focus.exclusion_months == 12, focus.id
        assert focus.min_agencies >= 2, focus.id
        assert focus.themes, focus.id


def test_the_cadence_follows_the_partnerships_timetable(config: BoardConfig) -> None:
    cadence = config.cadence
    assert cadence.returns_due == 20
    assert cadence.reminders_before_due == (5, 0)
    assert [(e.level, e.after_due, e.to) for e in cadence.escalations] == [
        (1, 2, "agency_lead"),
        (2, 5, "business_unit_manager"),
    ]
    assert cadence.audit_day_after_due == 10
    assert cadence.briefing_due_after_audit_day == 20
    assert cadence.actions_due_months == 6
    assert config.board.retention.returns_months == 24


def test_every_file_begins_with_a_comment_saying_what_it_holds() -> None:
    for path in sorted(CONFIG_DIR.glob("*.yaml")):
        assert path.read_text(encoding="utf-8").startswith("# "), path.name


# --- broken configurations --------------------------------------------------------


def test_a_missing_folder_is_explained(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="the configuration folder does not exist"):
        load_config(tmp_path / "nowhere")


def test_a_missing_file_is_named(copy: ConfigCopy) -> None:
    (copy.root / "themes.yaml").unlink()
    problems = copy.problems()
    assert [(Path(p.file).name, p.reason) for p in problems] == [
        ("themes.yaml", "the file is missing")
    ]


def test_invalid_yaml_is_reported_with_its_line(copy: ConfigCopy) -> None:
    copy.edit("focuses.yaml", "categories: [looked_after]", "categories: [looked_after")
    (problem,) = copy.problems()
    assert Path(problem.file).name == "focuses.yaml"
    assert problem.reason.startswith("not valid YAML")
    text = (copy.root / "focuses.yaml").read_text(encoding="utf-8").splitlines()
    broken_line = next(i for i, line in enumerate(text, 1) if "[looked_after" in line)
    line = line_of(problem)
    assert line is not None
    assert broken_line <= line <= broken_line + 2  # YAML notices at the end of the flow list


def test_a_key_given_twice_is_refused_rather_than_overwritten(copy: ConfigCopy) -> None:
    copy.edit("cadence.yaml", "  returns_due: 20\n", "  returns_due: 20\n  returns_due: 15\n")
    (problem,) = copy.problems()
    assert Path(problem.file).name == "cadence.yaml"
    assert "'returns_due' is given twice" in problem.reason


def test_a_misspelt_key_is_refused_with_a_suggestion(copy: ConfigCopy) -> None:
    copy.edit(
        "people.yaml",
        "    capacity: 3\n    practitioner_ids: [HCS-131]",
        "    capcity: 3\n    practitioner_ids: [HCS-131]",
    )
    problems = copy.problems()
    typo = find(problems, "people.yaml", "auditors[1].capcity", "unknown key")
    assert "did you mean 'capacity'?" in typo.reason
    find(problems, "people.yaml", "auditors[1].capacity", "required key is missing")
    assert len(problems) == 2


def test_a_bad_email_is_refused(copy: ConfigCopy) -> None:
    copy.edit("agencies.yaml", "email: harriet.ng@example.org", "email: harriet.ng at example.org")
    (problem,) = copy.problems()
    assert key_of(problem) == "agencies[10].lead.email"
    assert problem.reason == "expected an email address, got 'harriet.ng at example.org'"


def test_an_auditor_of_an_unknown_agency_is_refused(copy: ConfigCopy) -> None:
    copy.edit("people.yaml", "agency: city-police", "agency: city-polise")
    (problem,) = copy.problems()
    assert key_of(problem) == "auditors[8].agency"
    assert problem.reason.startswith("unknown agency 'city-polise' (expected one of: camhs,")
    assert "city-police" in problem.reason


def test_an_auditor_outside_their_agencys_areas_is_refused(copy: ConfigCopy) -> None:
    copy.edit(
        "people.yaml",
        "agency: met-police\n    areas: [hackney]",
        "agency: met-police\n    areas: [hackney, city]",
    )
    (problem,) = copy.problems()
    assert key_of(problem) == "auditors[5].areas[1]"
    assert problem.reason == (
        "agency 'met-police' does not work in area 'city' (it works in: hackney)"
    )


def test_an_auditor_in_an_area_the_board_does_not_have_is_refused(copy: ConfigCopy) -> None:
    copy.edit("people.yaml", "areas: [city]", "areas: [islington]")
    (problem,) = copy.problems()
    assert key_of(problem) == "auditors[3].areas[0]"
    assert problem.reason == "unknown area 'islington' (expected one of: city, hackney)"


def test_a_focus_with_an_unknown_category_or_flag_is_refused(copy: ConfigCopy) -> None:
    copy.edit("focuses.yaml", "categories: [looked_after]", "categories: [in_care]")
    copy.edit("focuses.yaml", "flags_any: [neglect, ", "flags_any: [neglected, ")
    problems = copy.problems()
    find(problems, "focuses.yaml", "focuses[1].categories[0]", "unknown category 'in_care'")
    flag = find(problems, "focuses.yaml", "focuses[3].flags_any[0]", "unknown flag 'neglected'")
    assert "neglect," in flag.reason  # the flags that do exist are listed
    assert len(problems) == 2


def test_a_focus_asking_for_cases_in_an_unknown_area_is_refused(copy: ConfigCopy) -> None:
    copy.edit(
        "focuses.yaml",
        "cases_per_area: {hackney: 5, city: 3}",
        "cases_per_area: {hackney: 5, cty: 3}",
    )
    (problem,) = copy.problems()
    assert key_of(problem) == "focuses[2].cases_per_area.cty"
    assert problem.reason.startswith("unknown area 'cty'")


def test_an_unknown_scale_is_refused(copy: ConfigCopy) -> None:
    copy.edit("audit_tool.yaml", "  scale: ofsted", "  scale: ofstead")
    (problem,) = copy.problems()
    assert key_of(problem) == "audit_tool.scale"
    assert problem.reason == "unknown scale 'ofstead' (expected one of: ofsted, rag)"


def test_duplicate_ids_are_refused(copy: ConfigCopy) -> None:
    copy.edit("agencies.yaml", "- id: city-police", "- id: met-police")
    copy.edit("people.yaml", "- id: daniel-costa", "- id: sarah-chukwuma")
    copy.edit("audit_tool.yaml", "- id: amber", "- id: green")
    problems = copy.problems()
    find(problems, "agencies.yaml", "agencies[3].id", "id 'met-police' is used twice")
    find(problems, "people.yaml", "auditors[6].id", "id 'sarah-chukwuma' is used twice")
    find(problems, "audit_tool.yaml", "scales[1].grades[1].id", "grade 'green' is used twice")
    # the auditors of City of London Police now name an agency that is not there
    find(problems, "people.yaml", "auditors[8].agency", "unknown agency 'city-police'")
    find(problems, "people.yaml", "auditors[9].agency", "unknown agency 'city-police'")
    assert len(problems) == 5


def test_escalations_out_of_order_are_refused(copy: ConfigCopy) -> None:
    copy.edit("cadence.yaml", "level: 2\n      after_due: 5", "level: 2\n      after_due: 1")
    (problem,) = copy.problems()
    assert key_of(problem) == "cadence.escalations"
    assert "a later escalation level must not come before an earlier one" in problem.reason


def test_escalation_levels_given_twice_are_refused(copy: ConfigCopy) -> None:
    copy.edit("cadence.yaml", "level: 2", "level: 1")
    (problem,) = copy.problems()
    assert key_of(problem) == "cadence.escalations"
    assert "distinct and in increasing order" in problem.reason


def test_a_reminder_before_launch_is_refused(copy: ConfigCopy) -> None:
    copy.edit("cadence.yaml", "reminders_before_due: [5, 0]", "reminders_before_due: [25, 5, 0]")
    (problem,) = copy.problems()
    assert key_of(problem) == "cadence.reminders_before_due"
    assert problem.reason == (
        "a reminder 25 working days before the deadline would fall on or before the launch day "
        "(returns are due 20 working days after launch)"
    )


def test_an_unquoted_launch_time_is_explained(copy: ConfigCopy) -> None:
    # YAML reads an unquoted 10:30 as the number 630
    copy.edit("cadence.yaml", 'launch_time: "09:00"', "launch_time: 10:30")
    (problem,) = copy.problems()
    assert key_of(problem) == "cadence.launch_time"
    assert 'in quotes, e.g. "09:00"' in problem.reason


def test_a_chase_time_in_the_small_hours_is_refused(copy: ConfigCopy) -> None:
    copy.edit("cadence.yaml", 'chase_time: "08:00"', 'chase_time: "01:30"')
    (problem,) = copy.problems()
    assert key_of(problem) == "cadence.chase_time"
    assert problem.reason == (
        'expected a time of day from "04:00" to "23:59" as HH:MM in quotes, got \'01:30\' '
        "(clocks change in the small hours)"
    )


def test_an_unknown_time_zone_is_refused(copy: ConfigCopy) -> None:
    copy.edit("board.yaml", "timezone: Europe/London", "timezone: London")
    (problem,) = copy.problems()
    assert key_of(problem) == "board.timezone"
    assert "unknown time zone 'London'" in problem.reason


def test_a_password_in_the_configuration_is_refused(copy: ConfigCopy) -> None:
    copy.edit(
        "board.yaml",
        "  timezone: Europe/London\n",
        "  timezone: Europe/London\n  smtp_password: correct-horse\n",
    )
    (problem,) = copy.problems()
    assert key_of(problem) == "board.smtp_password"
    assert problem.reason.startswith("unknown key")
    assert "AUDITROUND_SMTP_PASSWORD" in problem.reason
    assert "correct-horse" not in str(problem)  # the secret itself is never echoed


def test_every_problem_in_every_file_is_listed_at_once(copy: ConfigCopy) -> None:
    (copy.root / "themes.yaml").unlink()
    copy.edit(
        "board.yaml",
        "  timezone: Europe/London\n",
        "  timezone: Europe/London\n  smtp_password: correct-horse\n",
    )
    copy.edit("agencies.yaml", "email: harriet.ng@example.org", "email: harriet.ng")
    copy.edit("people.yaml", "email: amara.bello@example.org", "email: amara.bello")
    copy.edit("people.yaml", "agency: city-police", "agency: city-polise")
    copy.edit("register.yaml", "  - id: neglect\n", "  - id: neglect\n    colour: red\n")
    copy.edit("focuses.yaml", "categories: [looked_after]", "categories: [in_care]")
    copy.edit("audit_tool.yaml", "  scale: ofsted", "  scale: ofstead")
    copy.edit("cadence.yaml", "reminders_before_due: [5, 0]", "reminders_before_due: [25, 0]")
    problems = copy.problems()
    expected = [
        ("board.yaml", "board.smtp_password", "unknown key"),
        ("agencies.yaml", "agencies[10].lead.email", "expected an email address"),
        ("people.yaml", "auditors[0].email", "expected an email address"),
        ("people.yaml", "auditors[8].agency", "unknown agency 'city-polise'"),
        ("register.yaml", "flags[3].colour", "unknown key"),
        ("focuses.yaml", "focuses[1].categories[0]", "unknown category 'in_care'"),
        ("audit_tool.yaml", "audit_tool.scale", "unknown scale 'ofstead'"),
        ("themes.yaml", "", "the file is missing"),
        ("cadence.yaml", "cadence.reminders_before_due", "on or before the launch day"),
    ]
    for file, key, reason in expected:
        find(problems, file, key, reason)
    assert len(problems) == len(expected)
    # listed file by file, in the order of the guide
    files = [Path(p.file).name for p in problems]
    assert files == [file for file, _, _ in expected]


def test_each_problem_gives_the_line_it_is_on(copy: ConfigCopy) -> None:
    copy.edit("people.yaml", "agency: city-police", "agency: city-polise")
    (problem,) = copy.problems()
    lines = (copy.root / "people.yaml").read_text(encoding="utf-8").splitlines()
    assert (
        problem.location
        == f"auditors[8].agency (line {lines.index('    agency: city-polise') + 1})"
    )
    assert str(problem).startswith(f"{copy.root / 'people.yaml'}: auditors[8].agency (line ")


def test_the_error_message_lists_every_problem(copy: ConfigCopy) -> None:
    copy.edit("audit_tool.yaml", "  scale: ofsted", "  scale: ofstead")
    copy.edit("people.yaml", "agency: city-police", "agency: city-polise")
    with pytest.raises(ConfigError) as caught:
        load_config(copy.root)
    message = str(caught.value)
    assert message.startswith("The configuration is not valid (2 problems):")
    assert "people.yaml: auditors[8].agency" in message
    assert "audit_tool.yaml: audit_tool.scale" in message
