"""The analysts' docs stay in step with the code: every criterion, example, API function and link."""

from __future__ import annotations

import re

import pytest

from analysis.cohorts.criteria import CRITERIA
from analysis.cohorts.definition import TOP_KEYS
from kow import api
from tests.cohorts.clinic import REPOSITORY

DOCS = REPOSITORY / "docs"
GUIDES = ("analyst-guide.md", "cohorts.md")


def test_docs_cohorts_documents_every_key_criterion_and_example() -> None:
    text = (DOCS / "cohorts.md").read_text()
    documented = set(re.findall(r"^\| `(\w+)` \|", text, flags=re.MULTILINE))
    assert set(CRITERIA) | set(TOP_KEYS) <= documented
    assert all(path.name in text for path in (REPOSITORY / "cohorts").glob("*.yaml"))
    functions = [name for name in api.__all__ if callable(getattr(api, name)) and not name[0].isupper()]
    assert all(f"api.{name}(" in text for name in functions if name != "to_definition")


@pytest.mark.parametrize("guide", GUIDES)
def test_docs_relative_links_resolve(guide: str) -> None:
    text = (DOCS / guide).read_text()
    for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text):
        assert (DOCS / target).exists(), f"{guide} links to missing {target}"
