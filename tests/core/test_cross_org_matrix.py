"""The cross-organization matrix: every organization role of A, on every route that reaches
organization data, with organization B's objects.

Generated from the URL map and the console's registered views, classified by
``webapp.core.access_map``; a route or view missing there fails ``test_every_route_is_classified``,
so a new endpoint joins the matrix by its classification.

Each cell is one case, its id ``<vertical>:<role>:<METHOD> <rule>``:

- API, a route naming an object (URL parameter): 404 (403 when the role may not use the route at
  all, per ``required_roles``).
- API, a collection: refused, or an answer without B's marker; a create naming B's object in its
  body is refused or not found.
- Console: details/edit/custom pages of B's object are refused (403), redirected or not found;
  lists, exports, lookups, dashboards and forms never show B's marker; deletes, actions and inline
  edits leave B's rows as they were.
- Every non-GET call is checked against a snapshot of the database: B's rows stay unchanged.

A's roles are admin, doctor, realtor, helper and marketer; the platform moderator is checked on
every vertical but realty and its reports (the marketplace it moderates).

The world (two organizations with every kind of object) is built once per module and rebuilt only
after a cell changed it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import SimpleNamespace

import pytest

from tests.conftest import _clean_database, make_app
from tests.cross_org import MARKERS, ORG_ROLES, build_world, lost_rows, remove_added_rows, snapshot
from webapp.core import access_map as amap

B_MARK = MARKERS["b"]
B_NAME = "Matrix organization B"  # B's organization (and its agency's) name
MODERATOR_SKIPS = ("realty", "reports")
ARG_RE = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
ANY_RE = re.compile(r"<any\(([^)]*)\):([^<>]+)>")


def _body_templates(b) -> dict[str, dict]:
    """JSON bodies that pass validation, so the answer is about the object, not the payload."""
    ids = b.ids
    tg = ids["patient_telegram_id"]
    return {
        "clinic_api.create_appointment": {
            "telegram_user_id": tg,
            "doctor_id": ids["doctor"],
            "service_id": ids["service"],
            "branch_id": ids["branch"],
            "date": "2030-01-08",
            "time": "10:00",
        },
        "clinic_api.reschedule": {"date": "2030-01-08", "time": "11:00"},
        "clinic_api.cancel": {"reason": "matrix"},
        "clinic_api.document_generate": {
            "telegram_user_id": tg,
            "document_type": "visit",
            "appointment_id": ids["appointment"],
        },
        "clinic_api.feedback": {"telegram_user_id": tg, "appointment_id": ids["appointment"], "score": 9},
        "clinic_api.invoice_create": {"telegram_user_id": tg, "amount": "100", "appointment_id": ids["appointment"]},
        "clinic_api.support_ticket": {"telegram_user_id": tg, "subject": "matrix", "message": "matrix"},
        "broadcasts_api.create_broadcast": {"bot_id": ids["bot"], "title": "matrix", "text": "matrix"},
        "broadcasts_api.update_broadcast": {"title": "matrix"},
        "broadcasts_api.schedule_broadcast": {"scheduled_at": "2031-01-01T10:00:00+00:00"},
        "broadcasts_api.create_segment": {"bot_id": ids["bot"], "name": "matrix", "filters": {}},
        "broadcasts_api.update_segment": {"name": "matrix"},
        "broadcasts_api.preview_filters": {"bot_id": ids["bot"], "filters": {}},
        "helpdesk_api.update_category": {"name": "matrix"},
        "helpdesk_api.create_ticket": {"title": "matrix", "description": "matrix", "category_id": str(ids["category"])},
        "helpdesk_api.update_ticket": {"title": "matrix", "assigned_to": str(b.staff["helper"].id)},
        "helpdesk_api.add_message": {"content": "matrix"},
        "helpdesk_api.set_role": {"role": "MARKETER"},
        "helpdesk_api.set_status": {"is_active": False},
        "realty_api.set_realtor_active": {"is_active": False},
        "realty_api.update_listing": {"title": "matrix"},
        "realty_api.add_block": {"date_from": "2031-03-01", "date_to": "2031-03-03"},
        "finance_api.update_transaction": {"amount": "1"},
        "finance_api.deposit": {"amount": "1"},
    }


# Valid bodies of collection routes that name no object (the answer must still show nothing of B's).
PLAIN_BODIES = {"clinic_api.verify_iin": {"iin": "900101300017"}}


def _query_templates(b) -> dict[str, dict]:
    """Query strings naming B's objects for collection routes that take them."""
    ids = b.ids
    tg = ids["patient_telegram_id"]
    return {
        "clinic_api.my_appointments": {"telegram_user_id": tg},
        "clinic_api.document_list": {"telegram_user_id": tg},
        "clinic_api.balance": {"telegram_user_id": tg},
        "clinic_api.slots": {"doctor_id": ids["doctor"], "date": "2030-01-07"},
        "clinic_api.doctors": {"branch_id": ids["branch"]},
        "clinic_api.services": {"branch_id": ids["branch"]},
        "broadcasts_api.list_segments": {"bot_id": ids["bot"]},
        "broadcasts_api.list_broadcasts": {"bot_id": ids["bot"]},
    }


# --- the cells, generated from the URL map and the console's views ------------------------------


@dataclass(frozen=True)
class Cell:
    surface: str  # "api" or "console"
    vertical: str
    role: str
    method: str
    rule: str
    endpoint: str
    kind: str | None
    what: str  # api: "object" / "collection"; console: the route's method name
    extra: str = ""  # console action name, ajax field, or a verb
    scope: str = amap.ORGANIZATION  # platform cells: an organization's roles are refused outright

    @property
    def id(self) -> str:
        where = "console " if self.surface == "console" else ""
        extra = f" [{self.extra}]" if self.extra else ""
        return f"{self.vertical}:{self.role}:{where}{self.method} {self.rule}{extra}"


def _roles_for(vertical: str, scope: str = amap.ORGANIZATION) -> tuple[str, ...]:
    if scope == amap.PLATFORM or vertical in MODERATOR_SKIPS:
        return ORG_ROLES
    return (*ORG_ROLES, "moderator")


def _api_cells(app) -> list[Cell]:
    cells = []
    for rule in amap.api_rules(app):
        access = amap.API.get(rule.endpoint)
        # Organization data; and a customer's own objects, which no staff of another business reaches.
        # Platform routes: an organization's roles are refused.
        if access is None or not (
            access.scope in (amap.ORGANIZATION, amap.PLATFORM) or (access.scope == amap.CUSTOMER_OWN and access.kind)
        ):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            what = "object" if access.kind else "collection"
            for role in _roles_for(access.vertical, access.scope):
                cell = Cell("api", access.vertical, role, method, rule.rule, rule.endpoint, access.kind, what)
                cells.append(cell if access.scope != amap.PLATFORM else _platform_cell(cell))
    return cells


def _console_cells(app) -> list[Cell]:
    cells = []
    for view in amap.console_views(app):
        for rule in amap.console_rules(app, view):
            name = rule.endpoint.split(".", 1)[1]
            access = amap.console_route_access(view, name)
            if name == "static" or access is None or access.scope not in (amap.ORGANIZATION, amap.PLATFORM):
                continue
            methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
            if name in ("edit_view", "create_view", "edit", "create") and "GET" in methods:
                # The form shows the object (or B's rows as choices); changes are the delete/action cells.
                methods = ["GET"]
            extras = [""]
            if name == "action_view":
                extras = [action for action, _text in getattr(view, "_actions", [])]
            elif name == "ajax_lookup":
                extras = sorted(getattr(view, "_form_ajax_refs", {}) or {})
            elif name == "ajax_update":
                extras = [
                    c if isinstance(c, str) else c.key for c in (getattr(view, "column_editable_list", None) or [])
                ]
            elif (
                name in ("details_view", "edit_view", "delete_view", "export") and getattr(view, "model", None) is None
            ):
                extras = []
            match = ANY_RE.search(rule.rule)
            if match:
                extras = sorted(v.strip().strip("'\"") for v in match.group(1).split(","))
            if name == "export" and "<export_type>" in rule.rule:
                extras = list(getattr(view, "export_types", None) or ["csv"]) if view.can_export else []
            for extra in extras:
                for method in methods:
                    for role in _roles_for(access.vertical, access.scope):
                        where = (rule.rule, rule.endpoint, access.kind, name, extra)
                        cell = Cell("console", access.vertical, role, method, *where)
                        cells.append(cell if access.scope != amap.PLATFORM else _platform_cell(cell))
    return cells


def _platform_cell(cell: Cell) -> Cell:
    from dataclasses import replace

    return replace(cell, scope=amap.PLATFORM, vertical=f"{cell.vertical}-platform")


_COLLECTION_APP = make_app()
CELLS = _api_cells(_COLLECTION_APP) + _console_cells(_COLLECTION_APP)


# --- the world, once per module -----------------------------------------------------------------

_STATE: dict = {}


@pytest.fixture(autouse=True)
def _clean_state():
    """The module keeps its world between cells (see ``_matrix_module``): no per-test wipe."""
    yield


@pytest.fixture(scope="module", autouse=True)
def _matrix_module(app):
    from webapp.extensions import redis_store

    saved_csrf = app.config.get("WTF_CSRF_ENABLED", True)
    app.config["WTF_CSRF_ENABLED"] = False  # forms are not what this matrix checks
    _clean_database(app)
    with app.app_context():
        redis_store.client.flushdb()
    _STATE.clear()
    yield
    _STATE.clear()
    app.config["WTF_CSRF_ENABLED"] = saved_csrf
    _clean_database(app)
    with app.app_context():
        redis_store.client.flushdb()


@pytest.fixture
def world(app, make_user, make_organization, realty, hd_category, hd_ticket, auth_header, frozen_clock):
    if _STATE.get("dirty") or "world" not in _STATE:
        from webapp.extensions import redis_store

        _clean_database(app)
        with app.app_context():
            redis_store.client.flushdb()
        factories = SimpleNamespace(
            make_user=make_user,
            make_organization=make_organization,
            realty=realty,
            hd_category=hd_category,
            hd_ticket=hd_ticket,
        )
        built = build_world(app, factories)
        actors = {**built.a.staff, "moderator": built.moderator}
        headers = {role: auth_header(user) for role, user in actors.items()}
        clients = {}
        for role, user in actors.items():
            client = app.test_client()
            with client.session_transaction() as session:
                session["_user_id"] = str(user.id)
                session["_fresh"] = True
            clients[role] = client
        with app.app_context():
            baseline = snapshot()
        _STATE.update(
            world=built,
            actors=actors,
            headers=headers,
            clients=clients,
            baseline=baseline,
            bodies=_body_templates(built.b),
            queries=_query_templates(built.b),
            dirty=False,
        )
    return SimpleNamespace(**_STATE)


def _fill(rule: str, values: dict[str, object]) -> str:
    return ARG_RE.sub(lambda m: str(values[m.group(1)]), rule)


def _allowed(app, role_user, required) -> bool:
    """Whether the role may use the route at all (``required_roles``; () means any active user)."""
    from webapp.core.roles import user_has_role
    from webapp.core.services import get_user

    if not required:
        return True
    with app.app_context():
        return user_has_role(get_user(role_user.id), *required)


def _check_unchanged(app, w, cell: Cell) -> None:
    """B's rows (and A's) are as built; rows the call added are removed again for the next cell."""
    with app.app_context():
        after = snapshot()
        lost = lost_rows(w.baseline, after)
        if lost:
            _STATE["dirty"] = True  # rebuilt before the next cell
        else:
            try:
                remove_added_rows(w.baseline, after)
            except Exception:  # noqa: BLE001 - rows the world cannot shed in order: rebuild it instead
                _STATE["dirty"] = True
    assert not lost, f"{cell.id}: B's (or A's) rows changed or vanished: {lost}"


def _call_api(app, w, cell: Cell):
    b = w.world.b
    rule = next(r for r in amap.api_rules(app) if r.rule == cell.rule and r.endpoint == cell.endpoint)
    values = {arg: b.ids[cell.kind] for arg in rule.arguments} if cell.kind else {}
    path = _fill(cell.rule, values)
    body = w.bodies.get(cell.endpoint, PLAIN_BODIES.get(cell.endpoint))
    if body is None and cell.method in ("POST", "PUT", "PATCH"):
        body = {}
    query = w.queries.get(cell.endpoint) if cell.method == "GET" else None
    return app.test_client().open(
        path, method=cell.method, json=body, query_string=query, headers=w.headers[cell.role]
    ), rule


def _call_socket(request, w, cell: Cell):
    """A WebSocket route is refused before the upgrade, with an HTTP status; None when it opens."""
    from simple_websocket import Client, ConnectionError

    live_server = request.getfixturevalue("live_server")
    values = {arg: w.world.b.ids[cell.kind] for arg in ARG_RE.findall(cell.rule)} if cell.kind else {}
    token = w.headers[cell.role]["Authorization"].split(" ", 1)[1]
    url = live_server.url.replace("http://", "ws://", 1) + _fill(cell.rule, values) + f"?token={token}"
    try:
        socket = Client.connect(url)
    except ConnectionError as refused:
        return SimpleNamespace(status_code=refused.status_code, get_data=lambda as_text=True: "")
    socket.close()
    return SimpleNamespace(status_code=101, get_data=lambda as_text=True: "")


@pytest.mark.parametrize("cell", [c for c in CELLS if c.surface == "api"], ids=lambda c: c.id)
def test_api_cell(request, app, world, cell):
    if cell.rule.startswith("/ws/"):
        response = _call_socket(request, world, cell)
    else:
        response, _rule = _call_api(app, world, cell)
    view = app.view_functions[cell.endpoint]
    allowed = _allowed(app, world.actors[cell.role], getattr(view, "required_roles", None))
    status = response.status_code
    text = response.get_data(as_text=True)
    assert status < 500, f"{cell.id}: server error {status}: {text[:300]}"
    if cell.method != "GET":
        _check_unchanged(app, world, cell)
    if not allowed or cell.scope == amap.PLATFORM:
        assert status in (403, 404), f"{cell.id}: the role may not use the route, got {status}"
        return
    if cell.what == "object":
        assert status == 404, f"{cell.id}: B's {cell.kind} answered {status}, not 404: {text[:300]}"
    elif cell.endpoint in world.bodies and cell.method != "GET":
        assert not 200 <= status < 300, f"{cell.id}: a create naming B's objects answered {status}: {text[:300]}"
    assert not shows_b(text), f"{cell.id}: the answer shows B's data: {text[:300]}"


# Per-request random strings (CSRF tokens, CSP nonces) can spell "ZQXB" by chance: they are not data.
RANDOM_TOKENS = re.compile(
    r'name="csrf_token"[^>]*value="[^"]*"|value="[^"]*"[^>]*name="csrf_token"|nonce="[^"]*"|"csrf_token":\s*"[^"]*"'
)


def shows_b(text: str) -> bool:
    text = RANDOM_TOKENS.sub("", text)
    return B_MARK in text or B_NAME in text


def _console_request(app, w, cell: Cell):
    b = w.world.b
    client = w.clients[cell.role]
    object_id = b.ids.get(cell.kind) if cell.kind else None
    rule = cell.rule
    values = {}
    for arg in ARG_RE.findall(rule):
        if arg in ("verb", "export_type"):
            values[arg] = cell.extra
        else:
            values[arg] = object_id
    path = _fill(rule, values)
    data = None
    query = None
    name = cell.what
    if name in ("details_view", "edit_view"):
        query = {"id": object_id}
    elif name == "delete_view":
        data = {"id": object_id}
    elif name == "action_view":
        data = {"action": cell.extra, "rowid": object_id}
    elif name == "ajax_update":
        data = {"pk": object_id, "name": cell.extra, "value": "matrix", "list_form_pk": object_id}
    elif name == "ajax_lookup":
        query = {"name": cell.extra, "query": "ZQX"}
    elif name in ("audience", "preview"):
        data = {"bot_id": b.ids["bot"], "title": "matrix", "text": "matrix"}
    elif cell.method == "POST":
        data = {"bot_id": b.ids["bot"]}
    return client.open(path, method=cell.method, data=data, query_string=query)


OBJECT_PAGES = ("details_view", "edit_view")
SHOWS_ROWS = ("index_view", "index", "export", "ajax_lookup", "create_view", "create", "audience", "preview")


@pytest.mark.parametrize("cell", [c for c in CELLS if c.surface == "console"], ids=lambda c: c.id)
def test_console_cell(app, world, cell):
    response = _console_request(app, world, cell)
    status = response.status_code
    text = response.get_data(as_text=True)
    assert status < 500, f"{cell.id}: server error {status}"
    if cell.method != "GET":
        _check_unchanged(app, world, cell)
    if cell.scope == amap.PLATFORM:
        assert status in (302, 403, 404), f"{cell.id}: a platform page answered {status} to an organization's role"
    if cell.what in OBJECT_PAGES or (cell.kind and cell.method == "GET" and cell.what not in SHOWS_ROWS):
        assert status in (302, 403, 404), f"{cell.id}: B's {cell.kind} page answered {status}"
    assert not shows_b(text), f"{cell.id}: the page shows B's data"


# --- the classification covers everything ---------------------------------------------------------


def test_every_route_is_classified(app):
    """Every API/Telegram/WebSocket/sandbox route and every console view and route is in access_map."""
    assert amap.unclassified(app) == []


def test_classification_has_no_stale_entries(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    views = {v.endpoint for v in amap.console_views(app)}
    stale = [e for e in amap.API if e not in endpoints]
    stale += [v for v in amap.CONSOLE if v not in views]
    stale += [r for r in amap.CONSOLE_ROUTES if r not in endpoints]
    assert stale == []


def test_the_matrix_covers_every_organization_route(app):
    """Each organization-owned route and console view has cells for every role of A."""
    covered = {(c.surface, c.endpoint) for c in CELLS}
    for rule in amap.api_rules(app):
        if amap.API[rule.endpoint].scope == amap.ORGANIZATION:
            assert ("api", rule.endpoint) in covered, rule.rule
    for view in amap.console_views(app):
        if amap.CONSOLE[view.endpoint].scope == amap.ORGANIZATION:
            assert any(s == "console" and e.startswith(f"{view.endpoint}.") for s, e in covered), view.endpoint
    roles = {c.role for c in CELLS}
    assert roles == {*ORG_ROLES, "moderator"}


def test_the_world_has_both_organizations(app, world):
    """The matrix's premise: B's objects exist, carry B's marker, and A's actors belong to A."""
    from webapp.core.services import get_user
    from webapp.core.tenancy import organization_id_of

    with app.app_context():
        for role, user in world.world.a.staff.items():
            assert organization_id_of(get_user(user.id)) == world.world.a.organization_id, role
        for role, user in world.world.b.staff.items():
            assert organization_id_of(get_user(user.id)) == world.world.b.organization_id, role
    assert world.world.a.organization_id != world.world.b.organization_id
    assert set(world.world.b.ids) == set(world.world.a.ids)


# A's own data reaches A's actors: the markers are on the pages, and the actors are signed in, so an
# answer without B's marker means B's rows were left out (not that nothing was shown at all).
OWN_PAGES = [
    ("admin", "console", "/admin/clinic_patients/", "ZQXApatient"),
    ("admin", "console", "/admin/clinic_faq/", "ZQXA faq"),
    ("doctor", "api", "/api/bot/support/faq/", "ZQXA faq"),
    ("doctor", "console", "/admin/clinic_appointments/", "ZQXA"),
    ("realtor", "console", "/admin/realty_listings/", "ZQXA listing"),
    ("helper", "console", "/admin/helpdesk_tickets/", "ZQXA ticket"),
    ("marketer", "console", "/admin/broadcasts/", "ZQXA broadcast"),
    ("helper", "api", "/api/v1/tickets", "ZQXA ticket"),
    ("marketer", "api", "/api/broadcasts/", "ZQXA broadcast"),
    ("realtor", "api", "/api/v1/realty/staff/listings/", "ZQXA listing"),
]


@pytest.mark.parametrize("role,surface,path,marker", OWN_PAGES, ids=[f"{r}:{p}" for r, _s, p, _m in OWN_PAGES])
def test_own_organization_data_is_shown(app, world, role, surface, path, marker):
    if surface == "console":
        response = world.clients[role].get(path)
    else:
        response = app.test_client().get(path, headers=world.headers[role])
    assert response.status_code == 200, f"{role} {path}: {response.status_code}"
    assert marker in response.get_data(as_text=True)
