"""Reading untrusted YAML as a node tree, so every problem is reported with its key path and line.

yaml.safe_load drops line numbers and silently keeps the last of two equal keys; composing the nodes
ourselves keeps both (PyYAML's node marks) and never constructs anything but plain scalars, so a
`!!python/...` tag is an error here rather than an object.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from core.errors import KowError

MAX_BYTES = 256 * 1024  # a cohort definition is a few lines; anything this big is a mistake or an attack
MAX_NODES = 5_000  # bounds alias expansion ("billion laughs") as well as plain size
MAX_TEXT = 200

_TAG = "tag:yaml.org,2002:"
SCALAR_TYPES = {f"{_TAG}str": "text", f"{_TAG}int": "integer", f"{_TAG}float": "number", f"{_TAG}bool": "true/false",
                f"{_TAG}null": "null", f"{_TAG}timestamp": "date"}
_CONSTRUCTOR = yaml.constructor.SafeConstructor()


class CohortDefinitionError(KowError):
    """A cohort definition breaks the schema; the message names the file, line and key."""


@dataclass(frozen=True)
class Where:
    """Where a value sits: the file, its key path (include.age.min) and its 1-based line."""

    source: str
    path: str
    line: int

    def child(self, key: str | int, node: yaml.Node) -> Where:
        if isinstance(key, int):
            path = f"{self.path}[{key}]"
        else:
            path = f"{self.path}.{key}" if self.path else key
        return Where(self.source, path, line_of(node))

    def error(self, problem: str) -> CohortDefinitionError:
        key = f" {self.path}:" if self.path else ""
        return CohortDefinitionError(f"{self.source}, line {self.line}:{key} {problem}")


def line_of(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def compose(text: str, source: str) -> yaml.Node:
    """The document's root node; syntax errors become CohortDefinitionError with their line."""
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise CohortDefinitionError(f"{source}: larger than {MAX_BYTES // 1024} KiB; "
                                    "a cohort definition is a few lines.")
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f", line {mark.line + 1}" if mark else ""
        raise CohortDefinitionError(f"{source}{line}: not valid YAML ({exc.problem or exc.context}).") from exc
    except yaml.YAMLError as exc:
        raise CohortDefinitionError(f"{source}: not valid YAML ({type(exc).__name__}).") from exc
    if root is None:
        raise CohortDefinitionError(f"{source}: empty; a definition needs at least `name` and `include`.")
    if _count_nodes(root) > MAX_NODES:
        raise CohortDefinitionError(f"{source}: more than {MAX_NODES} YAML nodes; too large for a cohort definition.")
    return root


def _count_nodes(root: yaml.Node) -> int:
    seen, stack = 0, [root]
    while stack and seen <= MAX_NODES:  # counts aliases each time they are used: what expansion would cost
        node = stack.pop()
        seen += 1
        if isinstance(node, yaml.MappingNode):
            stack += [n for pair in node.value for n in pair]
        elif isinstance(node, yaml.SequenceNode):
            stack += node.value
    return seen


def mapping_items(node: yaml.Node, where: Where) -> Iterator[tuple[str, yaml.Node, Where]]:
    """(key, value node, where) of a mapping in file order; refuses non-text and repeated keys."""
    if not isinstance(node, yaml.MappingNode):
        raise where.error(f"expected a mapping (key: value lines), got {describe_node(node)}.")
    plain_collection(node, where)
    seen: dict[str, int] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != f"{_TAG}str":
            raise where.error(f"line {line_of(key_node)}: keys must be plain names, got {describe_node(key_node)}.")
        key = str(key_node.value)
        if key in seen:
            raise where.child(key, key_node).error(f"given twice (first on line {seen[key]}).")
        seen[key] = line_of(key_node)
        yield key, value_node, where.child(key, key_node)


def plain_collection(node: yaml.Node, where: Where) -> None:
    """Refuse a tagged list or mapping (`!!python/object/apply:...`): only plain YAML is a definition."""
    if node.tag not in (f"{_TAG}map", f"{_TAG}seq"):
        raise where.error("unsupported YAML tag; use plain values only.")


def scalar(node: yaml.Node, where: Where) -> Any:
    """A plain scalar as Python (str, int, float, bool, None, date); anything else is an error."""
    if not isinstance(node, yaml.ScalarNode):
        raise where.error(f"expected a single value, got {describe_node(node)}.")
    if node.tag not in SCALAR_TYPES:
        raise where.error("unsupported YAML tag; use plain values only.")
    value = _CONSTRUCTOR.construct_object(node, deep=True)
    if isinstance(value, dt.datetime):
        raise where.error("expected a date (YYYY-MM-DD), got a date and time.")
    return value


def describe_node(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return SCALAR_TYPES.get(node.tag, "a tagged value")


def describe_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, dt.date):
        return "a date"
    if value is None:
        return "null (nothing)"
    return "text"
