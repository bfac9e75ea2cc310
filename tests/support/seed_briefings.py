"""Two learning briefings as content, after the two the board has published.

- :func:`city_briefing`: the City of London, 2017-18, one round on Think Family: three
  case summaries, strengths headed by theme (some with a line before the bullets), six
  key messages with their practice prompts and policy links.
- :func:`hackney_briefing`: Hackney, the year 2014/15, two rounds (Neglect / Parental
  Mental Health, then Early Help): no case summaries, strengths as one list of bullets
  with a bold key phrase (one phrase not in its text), lessons with prompts, a note before
  the second round's lessons, and a recurring lesson (engaging fathers).

The facts (themes, key phrases, what the prompts ask) follow the published briefings;
the sentences are written for the tests. The grades are invented: the published
briefings print none. :func:`reading_order` lists what a reader must find, in order.
"""

from __future__ import annotations

from audit_core.domain.briefing import (
    BriefingContent,
    CaseSummary,
    GradeCount,
    Lesson,
    Link,
    RoundPart,
    Strength,
    StrengthGroup,
)

BOARD = "City & Hackney Safeguarding Children Partnership"
SHORT = "CHSCP"
POLICIES = "https://chscp.example.org/policies"
PROCESS = (
    "Twice a year the partnership audits a sample of case files together: each agency "
    "involved reads its own record of the same case against one audit tool, and the "
    "auditors meet on an audit day to agree what went well and what must change. It runs "
    "across the City of London and Hackney, and it is one of the most direct ways the "
    "partnership learns from its own front-line practice."
)


def grades(outstanding: int, good: int, improve: int, inadequate: int) -> tuple[GradeCount, ...]:
    """The counts of the Ofsted scale, best first (as the audit tool grades)."""
    return (
        GradeCount("outstanding", "Outstanding", outstanding),
        GradeCount("good", "Good", good),
        GradeCount("requires-improvement", "Requires improvement", improve),
        GradeCount("inadequate", "Inadequate", inadequate),
    )


def lesson(
    theme: str, heading: str, text: str, *prompts: str, links: tuple[Link, ...] = ()
) -> Lesson:
    return Lesson(theme, heading, text, tuple(prompts), links)


def flat(theme: str, heading: str, *items: Strength) -> StrengthGroup:
    """Strengths of one theme, printed in the one list of a briefing not headed by theme."""
    return StrengthGroup(theme, heading, "", items)


# --- the City of London, 2017-18: Think Family ---------------------------------------------


def city_briefing() -> BriefingContent:
    return BriefingContent(
        board_name=BOARD,
        board_short_name=SHORT,
        title=f"{SHORT} Case Audits",
        area_id="city",
        area_name="City of London",
        scope="2017-H2",
        period="2017-18",
        introduction="",
        process=PROCESS,
        rounds=(city_round(),),
    )


def city_round() -> RoundPart:
    return RoundPart(
        round_id="2017-H2",
        heading="Think Family",
        period="October 2017 to March 2018",
        cases=(
            CaseSummary(
                "Case 1",
                "A mother asked early help for support. Concerns grew about meeting an "
                "infant's needs alongside siblings with additional needs and her own "
                "mental health.",
            ),
            CaseSummary(
                "Case 2",
                "A father was imprisoned for offences against children outside the family; "
                "concerns followed about the mother's mental health and the effect of his "
                "past controlling behaviour.",
            ),
            CaseSummary(
                "Case 3",
                "An infant was made subject to a child protection plan because of violence "
                "in the family.",
            ),
        ),
        strengths=city_strengths(),
        lessons=city_lessons(),
        grades=grades(0, 2, 1, 0),
    )


def city_strengths() -> tuple[StrengthGroup, ...]:
    return (
        StrengthGroup(
            "partnership-with-parents",
            "Working in Partnership with Parents",
            "In all three cases professionals built good relationships with parents, "
            "which let them:",
            (
                Strength("open and honest conversations", "hold open and honest conversations"),
                Strength("mental health", "recognise and support mental health needs, and"),
                Strength("engage parents", "engage parents in the plan."),
            ),
        ),
        StrengthGroup(
            "multi-agency-working",
            "Effective Multi-agency Working",
            "The audits found multi-agency working that kept the children in view while "
            "thinking about the whole family:",
            (
                Strength(
                    "well attended",
                    "Timely, well attended child in need and strategy meetings made sure "
                    "information was shared properly.",
                ),
                Strength(
                    "support from CAMHS",
                    "In Case 2 the partnership arranged support from CAMHS through the school "
                    "holidays to keep the young person safe.",
                ),
            ),
        ),
        StrengthGroup(
            "voice-of-the-child",
            "Voice of the Child",
            "Professionals actively sought the children's views and feelings.",
            (
                Strength(
                    "seen and assessed as individuals",
                    "In Case 1 professionals kept the children's needs in view beside a "
                    "vulnerable mother and heard their hopes for the future; siblings of "
                    "different ages were seen and assessed as individuals.",
                ),
                Strength(
                    "direct work",
                    "Case 2 showed direct work with young people about their feelings and the "
                    "risks to their emotional health, leading to referrals to the right help.",
                ),
            ),
        ),
        StrengthGroup(
            "targeted-resources",
            "Targeted Resources",
            "",
            (
                Strength(
                    "wider needs of the family",
                    "Case 1 showed professionals assessing the wider needs of the family and "
                    "putting targeted resources in place.",
                ),
                Strength(
                    "dedicated support worker",
                    "The right people with the right skills came in at the right time: a "
                    "dedicated support worker helped the parent in the evenings.",
                ),
                Strength(
                    "school on time",
                    "The impact showed: the parent organised the day better, and the children "
                    "got to school on time.",
                ),
            ),
        ),
    )


def city_lessons() -> tuple[Lesson, ...]:
    return (
        lesson(
            "escalation-and-challenge",
            "Escalation and Challenge",
            "Professionals need to challenge decisions they believe are not in the child's "
            "interest. Three went unchallenged: a CAMHS decision not to offer support, an "
            "independent school missing multi-agency meetings (Case 2), and a disagreement "
            "within the partnership over thresholds (Case 3).",
            "Do you know the CHSCP Escalation Policy, and have you read it?",
            links=(Link("CHSCP Escalation Policy", f"{POLICIES}/escalation"),),
        ),
        lesson(
            "engaging-fathers",
            "Fathers and/or Significant Others",
            "All three cases were a reminder to include fathers and significant others in "
            "assessments, whether or not they live at home, and above all where only one "
            "account of family life is heard. Weigh what protects the child as well as the "
            "risks.",
            "Do you actively seek to engage fathers and significant others in your "
            "assessments and interventions?",
            "Do you ask whether children want contact with their fathers or significant "
            "others, and what it means for their sense of identity?",
            "Do you weigh the protective factors a father brings, not only the risks?",
            links=(Link("Working with fathers and male carers", f"{POLICIES}/fathers"),),
        ),
        lesson(
            "information-sharing",
            "Information Sharing",
            "GPs are the central point for health information: they hear of emerging issues "
            "for children and families, and can judge how one person's health affects the "
            "rest of the family.",
            "GPs: when something changes in a case, do you share it within your practice "
            "and with the partner agencies who need it?",
            "Is everything relevant on the file, where it can be found later?",
            links=(
                Link("Information sharing guidance", f"{POLICIES}/information-sharing"),
                Link("Designated Nurse, City and Hackney CCG", f"{POLICIES}/designated-nurse"),
            ),
        ),
        lesson(
            "domestic-abuse-safety-planning",
            "Safety Planning in response to DV",
            "One case showed why a domestic violence safety plan must be referred to in the "
            "family's other plans, in adults' and children's services alike.",
            "Do you know whether a DV safety plan is in place for the family you work with?",
            "Can every agency see that plan within the other multi-agency plans?",
        ),
        lesson(
            "silent-child",
            "The Silent Child",
            "In Case 2 one sibling's behaviour drew attention and CAMHS support; the other, "
            "showing nothing outwardly, was assessed but not offered the service. Signs of "
            "harm do not show in every child in the same way or at the same time.",
            "Do you keep every sibling in mind, not only the one whose behaviour asks for help?",
            "Does the silent child get the same access to services as their siblings?",
        ),
        lesson(
            "thresholds",
            "Thresholds",
            "Case 3 showed the need for the whole Children and Families Team to apply "
            "thresholds consistently, so that partners can challenge a decision through "
            "escalation.",
            "Do you use the City of London Threshold of Need tool in your day-to-day work?",
            links=(Link("City of London Threshold of Need tool", f"{POLICIES}/thresholds"),),
        ),
    )


# --- Hackney, 2014/15: two rounds ----------------------------------------------------------


def hackney_briefing() -> BriefingContent:
    return BriefingContent(
        board_name=BOARD,
        board_short_name=SHORT,
        title=f"{SHORT} Case Audits",
        area_id="hackney",
        area_name="Hackney",
        scope="2014-15",
        period="2014/15",
        introduction=(
            "The year's audits found many examples of good safeguarding practice across "
            "the partnership, and lessons that have already led to real improvements."
        ),
        process=PROCESS,
        rounds=(neglect_round(), early_help_round()),
    )


def neglect_round() -> RoundPart:
    return RoundPart(
        round_id="2014-H1",
        heading="Neglect / Parental Mental Health",
        period="April to September 2014",
        cases=(),
        strengths=(
            flat(
                "engaging-fathers",
                "Engagement with fathers",
                Strength(
                    "engagement with fathers",
                    "Practitioners showed engagement with fathers and the wider family.",
                ),
            ),
            flat(
                "information-sharing",
                "Information sharing",
                Strength(
                    "good information sharing",
                    "Multi-agency meetings were well attended, with good information sharing.",
                ),
            ),
            flat(
                "early-help",
                "Early help",
                Strength(
                    "Hackney Child Wellbeing Framework",
                    "Referrals were thorough and used the Hackney Child Wellbeing Framework.",
                ),
            ),
            flat(
                "planning-and-discharge",
                "Planning and discharge meetings",
                Strength(
                    "joint mental health protocol",
                    "Hackney CYPS and ELFT worked to their joint mental health protocol.",
                ),
            ),
            flat(
                "escalation-and-challenge",
                "Escalation of concerns",
                Strength(
                    "concerns being escalated",
                    "Front-line practitioners were seen to escalate concerns.",
                ),
                Strength(
                    "Over and above",
                    "Agencies went beyond their usual service to support the child.",
                ),
            ),
        ),
        lessons=(
            lesson(
                "early-help",
                "Early help",
                "In one case, families already known to services needed to be identified "
                "sooner, so that a coordinated early help plan could prevent a referral to "
                "statutory services.",
                "Make sure you know the Hackney Wellbeing Framework.",
            ),
            lesson(
                "low-mood-and-neglect",
                "Low mood",
                "The audit showed the need for more awareness of low mood and of low-level "
                "neglect.",
                "Be alert to signs of low mood and neglect; CHSCP training on parental "
                "mental health tells you more.",
            ),
            lesson(
                "information-sharing",
                "Information sharing",
                "Information was shared well in places, but not every time.",
                "Read the information sharing guidance. If you care, share!",
                links=(Link("Information sharing guidance", f"{POLICIES}/information-sharing"),),
            ),
            lesson(
                "planning-and-discharge",
                "Planning and discharge meetings",
                "Long-term planning and discharge meetings are needed to agree the support "
                "that follows and what happens if it fails.",
                "Follow the Joint Mental Health Protocol, and draw on mental health staff's "
                "expertise.",
            ),
            lesson(
                "escalation-and-challenge",
                "Escalation of concerns",
                "Concerns must be escalated, above all when professionals disagree about a "
                "care plan.",
                "See the CHSCP Escalation Policy.",
                links=(Link("CHSCP Escalation Policy", f"{POLICIES}/escalation"),),
            ),
        ),
        grades=grades(0, 2, 2, 1),
        strengths_by_theme=False,
    )


def early_help_round() -> RoundPart:
    fathers = Lesson(
        "engaging-fathers",
        "Ensuring engagement with fathers",
        "Fathers were not always engaged in early help. The partnership will keep "
        "saying so, and its training will cover it.",
        (
            "Be alert to fathers and other adults, and to their part in the care of the "
            "children you work with.",
        ),
        (),
        recurring=True,
    )
    return RoundPart(
        round_id="2014-H2",
        heading="Early Help",
        period="October 2014 to March 2015",
        cases=(),
        strengths=(
            flat(
                "multi-agency-working",
                "Effective multi-agency working",
                Strength(
                    "Multi-Agency Team process is effectively coordinating support",
                    "The cases showed that the Multi-Agency Team process is effectively "
                    "coordinating support for children and families.",
                ),
            ),
            flat(
                "partnership-with-parents",
                "Working in partnership with parents",
                Strength(
                    "positive working relationships",
                    "Practitioners of many agencies kept positive working relationships "
                    "with families.",
                ),
                Strength(
                    "understanding parenting in the context of different cultures",
                    "Practitioners worked with families understanding parenting in the "
                    "context of different cultures.",
                ),
            ),
            flat(
                "voice-of-the-child",
                "Voice of the child",
                Strength(
                    "voice of the child",
                    "The voice of the child was clear in assessments and step-down plans.",
                ),
            ),
            flat(
                "early-help",
                "Early help",
                Strength(
                    "early help and evidence based interventions",
                    "Families were offered early help and evidence based interventions.",
                ),
            ),
            flat(
                "escalation-and-challenge",
                "Escalation of concerns",
                Strength(
                    "concerns being escalated",
                    "There were concerns being escalated as soon as risks were seen to rise.",
                ),
            ),
        ),
        lessons=(
            lesson(
                "information-sharing",
                "Information sharing",
                "Agencies working with the same family did not always share what they "
                "knew, including who the lead professional was.",
                "Read the information sharing guidance, and ask your manager if unsure.",
                links=(Link("Information sharing guidance", f"{POLICIES}/information-sharing"),),
            ),
            fathers,
        ),
        grades=grades(1, 3, 1, 0),
        lessons_note=(
            "These are the first findings: the audit came late in the year, and more lessons "
            "and actions follow in 2015/16."
        ),
        strengths_by_theme=False,
    )


# --- what a reader must find --------------------------------------------------------------


def reading_order(content: BriefingContent) -> list[str]:
    """What the full briefing prints, in order: the masthead, every theme, then for each
    round its heading (when there are several), the section headings, each strength's
    heading and key phrase, each lesson's heading and prompts and links."""
    several = len(content.rounds) > 1
    seen = [content.title, content.area_name, content.period, *content.foci, *content.themes]
    for part in content.rounds:
        seen += [part.heading] if several else []
        seen += [case.label for case in part.cases]
        seen += ["Strengths"] if part.strengths else []
        for group in part.strengths:
            seen += [group.heading] if part.strengths_by_theme else []
            seen += [s.key_phrase for s in group.items]
        seen += ["Lessons and key messages"] if part.lessons else []
        for item in part.lessons:
            seen += [item.heading, *item.prompts, *(link.title for link in item.links)]
    return seen


def key_phrases(content: BriefingContent) -> list[str]:
    return [s.key_phrase for part in content.rounds for g in part.strengths for s in g.items]


def prompts(content: BriefingContent) -> list[str]:
    return [p for part in content.rounds for item in part.lessons for p in item.prompts]


SEVEN_BOXES = (
    "1 What the audit is",
    "2 Why it matters",
    "3 What we looked at",
    "4 What went well",
    "5 What must change",
    "6 Questions to ask yourself",
    "7 Find out more",
)


def seven_minute_order(content: BriefingContent) -> list[str]:
    """What the seven-minute briefing prints, in order: its seven boxes, with the themes,
    the foci, every key phrase, every lesson's heading, every prompt and every link."""
    lessons = [item for part in content.rounds for item in part.lessons]
    links = {link.url: link.title for item in lessons for link in item.links}
    one, two, three, four, five, six, seven = SEVEN_BOXES
    return [
        content.title,
        *(one, two, *content.themes),
        *(three, *content.foci),
        *(four, *key_phrases(content)),
        *(five, *(item.heading for item in lessons)),
        *(six, *dict.fromkeys(prompts(content))),
        *(seven, *links.values()),
    ]
