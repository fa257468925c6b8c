"""Swagger UI and ReDoc render the API from the packaged bundle with every other host unreachable,
under a policy that names no third-party origin and allows no inline script."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.fixtures.browser import needs_chromium


def _offline_page(browser, base_url: str):
    """A page whose requests to any host but the live server fail, as on a machine with no internet."""
    page = browser.new_page()
    page.set_default_timeout(20_000)
    ours = urlsplit(base_url).netloc
    outside: list[str] = []
    problems: list[str] = []

    def route(request_route):
        url = request_route.request.url
        if url.startswith(("data:", "blob:")) or urlsplit(url).netloc == ours:
            request_route.continue_()
        else:
            outside.append((request_route.request.resource_type, url))
            request_route.abort()

    page.route("**/*", route)
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return page, outside, problems


@needs_chromium
def test_swagger_ui_and_redoc_render_the_operations_offline(live_server, browser):
    page, outside, problems = _offline_page(browser, live_server.url)

    page.goto(live_server.url + "/apidoc/swagger/")
    page.wait_for_selector(".opblock-summary-path")
    document = page.request.get(live_server.url + "/apidoc/openapi.json").json()
    operations = [(path, verb) for path, item in document["paths"].items() for verb in item if verb != "parameters"]
    # Swagger UI renders tag group after tag group: on a busy machine the first is there long before the last.
    page.wait_for_function("n => document.querySelectorAll('.opblock-summary-path').length >= n", arg=len(operations))
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert len(paths) == len(operations) > 20
    assert "/api/token/refresh/" in paths

    page.goto(live_server.url + "/apidoc/redoc/")
    page.get_by_text("/api/token/refresh/").first.wait_for()
    assert page.get_by_text("Botdesk API").first.is_visible()

    # Only ReDoc's "API docs by" logo points elsewhere; offline it is a missing picture, nothing more.
    assert [kind for kind, _url in outside if kind != "image"] == []
    assert problems == []


def test_docs_pages_allow_only_our_origin(client):
    for path in ("/apidoc/swagger/", "/apidoc/redoc/"):
        page = client.get(path)
        assert page.status_code == 200
        policy = page.headers["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
        assert directives["script-src"] == "'self'"  # no CDN, no inline script, no nonce to steal
        assert "http" not in directives["style-src"] + directives["font-src"] + directives["connect-src"]
        assert directives["frame-ancestors"] == "'none'"
        assert "/apidoc/assets/" in page.get_data(as_text=True)
    bundle = client.get("/apidoc/assets/swagger_bundle.js")
    assert bundle.status_code == 200 and bundle.mimetype == "text/javascript"
    assert client.get("/apidoc/assets/templates.py").status_code == 404
    assert client.get("/apidoc/assets/..%2F__init__.py").status_code == 404
