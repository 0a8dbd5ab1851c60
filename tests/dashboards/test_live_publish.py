"""Always available: publishing while the dashboard runs swaps data in at the next interaction, never
shows a half-built state, and never fails the publish or locks the warehouse."""

from __future__ import annotations

import threading
from pathlib import Path

import duckdb
import pytest

from analysis.publish import publish_aggregates
from core.config import Settings
from core.definitions import load_definitions
from tests.dashboards.clinic import LIVE_GROUP, page_app, private_copy, warehouse_rows

pytestmark = pytest.mark.xdist_group(LIVE_GROUP)
PAGES = ("overview", "outcomes", "durability", "safety", "sites", "data-quality")
LOOSE, STRICT = 11, 40  # two publishes told apart by their min_cell_size


@pytest.fixture
def mine(clinic: Settings, tmp_path: Path) -> Settings:
    return private_copy(clinic, tmp_path / "live")


def medium_cell(settings: Settings) -> tuple[str, str, int]:
    """A site x indication whose patient count the loose publish shows and the strict one must hide."""
    con = duckdb.connect(str(settings.published), read_only=True)
    try:
        rows = con.execute("""
            SELECT site, indication, numerator FROM metrics
            WHERE metric = 'patients' AND route = 'All' AND period = 'All' AND month = 'All'
              AND site <> 'All' AND indication <> 'All' AND numerator >= ? AND numerator < ?
            ORDER BY ALL""", [LOOSE, STRICT]).fetchall()
    finally:
        con.close()
    assert rows, "no site x indication between the two thresholds"
    site, indication, n = rows[0]
    truth = warehouse_rows(settings, "SELECT count(*) FROM marts.fct_courses WHERE course_number = 1 "
                                     "AND site_id = $s AND indication = $i", {"s": site, "i": indication})
    assert truth[0][0] == n
    return site, indication, n


def patients_shown(at) -> str:
    return next(m.value for m in at.metric if m.label == "Patients")


def test_next_interaction_shows_a_new_publish_without_a_restart(mine: Settings):
    site, indication, n = medium_cell(mine)
    at = page_app(mine.published).run()
    at.selectbox(key="filter_site").set_value(site)
    at.selectbox(key="filter_indication").set_value(indication).run()
    assert patients_shown(at) == f"{n:,}"
    publish_aggregates(mine, definitions=load_definitions({"min_cell_size": STRICT}))
    at.run()  # the same session's next interaction
    assert not at.exception
    assert patients_shown(at) == f"<{STRICT}*"
    assert f"<{STRICT}*" in " ".join(c.value for c in at.sidebar.caption)


def test_republishing_while_pages_are_requested_fails_no_request_and_shows_no_mixed_state(mine: Settings):
    site, indication, n = medium_cell(mine)
    done = threading.Event()
    failures: list[BaseException] = []

    def publisher() -> None:
        try:
            for i in range(4):
                size = STRICT if i % 2 == 0 else LOOSE
                publish_aggregates(mine, definitions=load_definitions({"min_cell_size": size}))
        except BaseException as exc:  # noqa: BLE001 - recorded and re-raised in the test thread
            failures.append(exc)
        finally:
            done.set()

    thread = threading.Thread(target=publisher)
    thread.start()
    runs = 0
    seen = set()
    while not done.is_set() or runs < len(PAGES):
        at = page_app(mine.published, PAGES[runs % len(PAGES)]).run()
        assert not at.exception, [e.value for e in at.exception]
        mark = next(c.value for c in at.sidebar.caption if "*" in c.value)
        if PAGES[runs % len(PAGES)] == "overview":
            at.selectbox(key="filter_site").set_value(site)
            at.selectbox(key="filter_indication").set_value(indication).run()
            assert not at.exception, [e.value for e in at.exception]
            mark = next(c.value for c in at.sidebar.caption if "*" in c.value)
            # one run reads one file: the threshold in the sidebar and the figure agree
            expected = f"<{STRICT}*" if f"<{STRICT}*" in mark else f"{n:,}"
            assert patients_shown(at) == expected
        seen.add(f"<{STRICT}*" in mark)
        runs += 1
    thread.join()
    assert not failures, failures
    assert runs >= len(PAGES)
    assert seen == {True, False}, "the runs saw both publishes"


def test_the_dashboard_never_opens_the_warehouse(mine: Settings):
    for page in PAGES:
        assert not page_app(mine.published, page).run().exception
    writer = duckdb.connect(str(mine.warehouse))  # would fail with a lock error if the dashboard held it
    writer.execute("CREATE TABLE IF NOT EXISTS main.touched AS SELECT 1 AS x")
    writer.close()
    publish_aggregates(mine)  # and a rebuild's publish goes through while the dashboard's connection is open
