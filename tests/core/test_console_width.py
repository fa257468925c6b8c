"""The console at a 1366×900 laptop screen in Uzbek (the longest labels): the navbar stays one row
and a wide list scrolls inside its own box instead of being cut off or widening the page.

Screenshots go to screenshots/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import pytest

from tests.fixtures.browser import SCREENSHOTS, needs_chromium, sign_in

WIDTH, HEIGHT = 1366, 900


@needs_chromium
@pytest.mark.parametrize("language", ["uz", "kk"])  # the two longest sets of menu labels
def test_navbar_is_one_row_and_wide_lists_scroll_at_1366(live_server, browser, make_user, realty, language):
    agency = realty.agency("Alpha")
    long_title = "Chilonzor tumanida metro yonida yangi taʼmirlangan uch xonali kvartira, mebel va texnika bilan " * 2
    realty.listing(agency, realty.realtor(agency), status="pending", title=long_title.strip())
    superuser = make_user("superuser", language=language, first_name="Gulnoza", last_name="Abdurahmonova")
    page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
    page.set_default_timeout(20_000)
    sign_in(page, live_server.url, superuser)
    page.wait_for_url("**/admin/**")
    SCREENSHOTS.mkdir(exist_ok=True)

    for name, path in (("home", "/admin/"), ("listings", "/admin/realty_listings/"), ("users", "/admin/users/")):
        page.goto(live_server.url + path)
        page.screenshot(path=str(SCREENSHOTS / f"width-1366-{language}-{name}.png"))
        navbar = page.locator("nav.navbar").first.bounding_box()
        assert navbar["height"] < 70, (path, navbar)  # one row: a wrapped navbar is ~110 px
        sign_out = page.locator("nav.navbar button[type=submit]").last.bounding_box()
        assert sign_out["x"] + sign_out["width"] <= WIDTH, (path, sign_out)  # not pushed off the screen
        # Nothing widens the page past the screen: the page itself never scrolls sideways.
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH, path
        if name == "listings":
            # A long title ends in an ellipsis on one line and keeps its full text as the tooltip.
            cell = page.locator("td", has_text="Chilonzor tumanida").first
            assert cell.get_attribute("title") == long_title.strip()
            assert cell.evaluate("td => td.getBoundingClientRect().width") < 24 * 16 + 30

    # The users table is wider than the screen: it scrolls inside its own box, its last column reachable.
    box = page.locator(".table-responsive").first
    assert box.evaluate("el => el.scrollWidth > el.clientWidth && getComputedStyle(el).overflowX === 'auto'")
    box.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
    last = page.locator(".table-responsive th").last
    assert last.evaluate("th => th.getBoundingClientRect().right") <= WIDTH
    page.screenshot(path=str(SCREENSHOTS / f"width-1366-{language}-users-scrolled.png"))
