"""Reading the configuration folder: YAML files into the board's frozen policy.

:func:`load_config` reads every file, collects *every* problem (file, key and
line, what was expected) and raises one :class:`ConfigError` listing them all;
then it checks cross-references (an auditor's agency exists, a focus's
categories exist, ...) in :mod:`.checks`. Secrets never live here: they come
from the environment.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from audit_core.adapters.config import checks
from audit_core.adapters.config.explain import problems_from
from audit_core.adapters.config.files import SCHEMA
from audit_core.domain.errors import ConfigError, Problem
from audit_core.domain.policy import BoardConfig


def load_config(directory: Path | str) -> BoardConfig:
    """Read and validate every configuration file; raise one ConfigError listing all problems.

    1. Read each file as YAML (a duplicated key is refused, not silently overwritten).
    2. Validate each file against its schema, collecting every problem of every file.
    3. Check the cross-references with every entry that is valid on its own
       (see :mod:`.checks`), so that one broken entry does
       not hide the problems of the others.
    4. Raise one ConfigError with everything found, each problem with the line
       it is on and in the order of the files, or return the frozen config.
    """
    root = Path(directory)
    if not root.is_dir():
        raise ConfigError(
            [
                Problem(
                    str(root), "", "the configuration folder does not exist (set AUDITROUND_CONFIG)"
                )
            ]
        )
    problems: list[Problem] = []
    raws: dict[str, dict[str, Any]] = {}
    nodes: dict[str, yaml.Node] = {}
    parsed: dict[str, Any] = {}
    for name, model in SCHEMA.items():
        path = root / name
        display = str(path)
        if not path.is_file():
            problems.append(Problem(display, "", "the file is missing"))
            continue
        try:
            raw, node = _read_yaml(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            problems.append(_yaml_problem(display, exc))
            continue
        except UnicodeDecodeError:
            problems.append(Problem(display, "", "not UTF-8 text"))
            continue
        if not isinstance(raw, dict):
            problems.append(Problem(display, "", "expected a mapping at the top of the file"))
            continue
        raws[name] = raw
        if node is not None:
            nodes[display] = node
        try:
            parsed[name] = model.model_validate(raw)
        except ValidationError as exc:
            problems.extend(problems_from(display, model, exc))
    problems.extend(checks.cross_check(checks.Parts.of_files(raws, parsed), root))
    if problems:
        raise ConfigError(_with_lines(problems, nodes, [str(root / name) for name in SCHEMA]))
    return BoardConfig(
        board=parsed["board.yaml"].board,
        agencies=parsed["agencies.yaml"].agencies,
        auditors=parsed["people.yaml"].auditors,
        business_unit_contacts=parsed["people.yaml"].business_unit,
        categories=parsed["register.yaml"].categories,
        age_bands=parsed["register.yaml"].age_bands,
        flags=parsed["register.yaml"].flags,
        focuses=parsed["focuses.yaml"].focuses,
        scales=parsed["audit_tool.yaml"].scales,
        audit_tool=parsed["audit_tool.yaml"].audit_tool,
        themes=parsed["themes.yaml"].themes,
        cadence=parsed["cadence.yaml"].cadence,
        register_limits=parsed["register.yaml"].limits,
        source=str(root),
    )


# --- reading YAML -------------------------------------------------------------


class _StrictLoader(yaml.SafeLoader):
    """The safe loader, except that a key given twice in one mapping is an error."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _value in node.value:
        key = loader.construct_object(key_node)
        try:
            first = seen.setdefault(key, key_node.start_mark.line)
        except TypeError:  # an unhashable key; the schema reports it
            continue
        if first != key_node.start_mark.line:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"the key '{key}' is given twice (first on line {first + 1})",
                key_node.start_mark,
            )
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _read_yaml(text: str) -> tuple[Any, yaml.Node | None]:
    """The document's data, and its node tree (which knows the line of every key)."""
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    return data, node


_KEY_PART = re.compile(r"\[(\d+)\]|\.?([^.\[\]]+)")


def _line_of(node: yaml.Node, key_path: str) -> int | None:
    """The line of the deepest part of ``key_path`` present in the file (1-based)."""
    line = None
    for match in _KEY_PART.finditer(key_path):
        index, key = match.groups()
        if index is not None and isinstance(node, yaml.SequenceNode):
            if int(index) >= len(node.value):
                break
            node = node.value[int(index)]
            line = node.start_mark.line + 1
        elif key is not None and isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                    line, node = key_node.start_mark.line + 1, value_node
                    break
            else:
                break
        else:
            break
    return line


def _with_lines(
    problems: list[Problem], nodes: dict[str, yaml.Node], file_order: list[str]
) -> list[Problem]:
    """Add the line to each key path, and sort the problems by file and line."""
    located: list[tuple[int, int, int, Problem]] = []
    for position, problem in enumerate(problems):
        node = nodes.get(problem.file)
        line = _line_of(node, problem.location) if node is not None and problem.location else None
        if line is not None:
            problem = Problem(problem.file, f"{problem.location} (line {line})", problem.reason)
        order = file_order.index(problem.file) if problem.file in file_order else len(file_order)
        located.append((order, line or 0, position, problem))
    return [problem for *_, problem in sorted(located, key=lambda item: item[:3])]


def _yaml_problem(display: str, exc: yaml.YAMLError) -> Problem:
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    detail = getattr(exc, "problem", None) or str(exc)
    context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and context_mark is not None and context_mark.line != getattr(mark, "line", None):
        detail += f", {context} begun on line {context_mark.line + 1}"
    return Problem(display, where, f"not valid YAML ({detail})")
