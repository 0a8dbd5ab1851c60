"""End to end in a real headless browser: every page of a running `streamlit run` server shows its charts and
no error, filters work, and republishing while pages are open never breaks one."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from analysis.publish import publish_aggregates
from core.config import Settings
from core.definitions import load_definitions
from tests.browser.conftest import save_screenshot
from tests.dashboards.clinic import LIVE_GROUP

pytestmark = pytest.mark.xdist_group(LIVE_GROUP)
# slug: (title, charts the page draws on the clinic with no filter)
PAGES = {"overview": ("Overview", 1), "outcomes": ("Outcomes", 2), "durability": ("Durability", 1),
         "safety": ("Safety", 3), "sites": ("Sites", 2), "data-quality": ("Data quality", 3)}
WAIT_MS = 30_000
WIDTH = 1400


def page_url(base: str, slug: str) -> str:
    return base if slug == "overview" else base + slug  # the first page is the app's root


def open_page(page: Page, base: str, slug: str) -> None:
    title, charts = PAGES[slug]
    page.goto(page_url(base, slug))
    wait_rendered(page, title, charts)


def wait_rendered(page: Page, title: str, charts: int) -> None:
    """The page's title, then its charts drawn by Vega (a canvas or svg inside each embed)."""
    page.locator("h1", has_text=title).first.wait_for(timeout=WAIT_MS)
    page.wait_for_function(
        "n => document.querySelectorAll('.vega-embed canvas, .vega-embed svg').length >= n", arg=charts,
        timeout=WAIT_MS)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=WAIT_MS)


def errors(page: Page) -> list[str]:
    return page.locator('[data-testid="stException"]').all_inner_texts()


def full_screenshot(page: Page, path: Path) -> None:
    """Streamlit scrolls its main block, not the document: grow the viewport to the content, then shoot."""
    height = page.evaluate(
        "() => (document.querySelector('[data-testid=\"stMain\"]') || document.body).scrollHeight")
    page.set_viewport_size({"width": WIDTH, "height": min(int(height) + 40, 8000)})
    page.wait_for_timeout(500)  # let Vega redraw at the new size
    page.screenshot(path=str(path))
    page.set_viewport_size({"width": WIDTH, "height": 900})


@pytest.fixture
def page(browser: Browser) -> Page:
    context = browser.new_context(viewport={"width": WIDTH, "height": 900})
    yield context.new_page()
    context.close()


@pytest.mark.parametrize("slug", list(PAGES))
def test_page_opens_in_the_browser_with_its_charts_and_no_error(
        served: tuple[str, Settings], page: Page, slug: str, screenshot_dirs: tuple[Path, Path]):
    base, _ = served
    open_page(page, base, slug)
    assert errors(page) == []
    assert page.locator(".vega-embed").count() >= PAGES[slug][1]
    assert "<11*" in page.get_by_test_id("stSidebar").inner_text()
    shot = screenshot_dirs[0] / f"{slug}.png"
    full_screenshot(page, shot)
    assert shot.stat().st_size > 20_000  # a drawn page, not a blank one
    save_screenshot(shot, screenshot_dirs)


def test_site_filter_chosen_in_the_sidebar_changes_the_figures(served: tuple[str, Settings], page: Page):
    base, _ = served
    open_page(page, base, "overview")
    # the metrics render one by one: read the Patients metric by its label, not whichever came first
    patients = page.get_by_test_id("stMetric").filter(has_text="Patients").get_by_test_id("stMetricValue").first
    patients.wait_for(timeout=WAIT_MS)
    before = patients.inner_text()
    page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").filter(has_text="Site").click()
    page.get_by_role("option", name="Clinic 1 (NV)").click()
    page.get_by_text("Clinic 1 (NV) · All indications", exact=False).first.wait_for(timeout=WAIT_MS)
    wait_rendered(page, "Overview", 1)
    after = patients.inner_text()
    assert before == "1,500"
    assert after != before
    page.get_by_role("link", name="Sites").click()  # the filter stays chosen on the next page
    wait_rendered(page, "Sites", 2)
    caption = page.get_by_test_id("stMain").get_by_test_id("stCaptionContainer").first.inner_text()
    assert caption.startswith("Clinic 1 (NV) · All indications")
    assert errors(page) == []


def test_republishing_while_pages_are_open_breaks_none_and_shows_at_the_next_click(
        served: tuple[str, Settings], page: Page):
    base, settings = served
    done = threading.Event()
    failures: list[BaseException] = []

    def publisher() -> None:
        try:
            for size in (20, 11, 20):
                publish_aggregates(settings, definitions=load_definitions({"min_cell_size": size}))
        except BaseException as exc:  # noqa: BLE001 - recorded, asserted in the test thread
            failures.append(exc)
        finally:
            done.set()

    thread = threading.Thread(target=publisher)
    thread.start()
    visits = 0
    while not done.is_set() or visits < len(PAGES):
        slug = list(PAGES)[visits % len(PAGES)]
        if visits % 2:  # a fresh page load (a new session) ...
            open_page(page, base, slug)
        else:  # ... or a click within the open session
            _click_to(page, base, slug)
        assert errors(page) == [], slug
        visits += 1
    thread.join()
    assert not failures, failures
    # the next interaction after the last publish (min_cell_size 20); a click on the page already open does not
    # rerun the app, so move between two different pages
    last = list(PAGES)[(visits - 1) % len(PAGES)]
    _click_to(page, base, "sites" if last == "safety" else "safety")
    assert "<20*" in page.get_by_test_id("stSidebar").inner_text()


def _click_to(page: Page, base: str, slug: str) -> None:
    """Move within the open app (one websocket session), as a user would."""
    if not page.url.startswith(base):
        open_page(page, base, "overview")
    title, charts = PAGES[slug]
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()
    wait_rendered(page, title, charts)
