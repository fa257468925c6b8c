"""Who owns what each route reaches: one classification of every API route and console view.

``require_role`` records on a view which roles may call it (``view.required_roles``) and which
service credentials it accepts (``view.accepted_services``). This table adds the other half: whose
data the route reaches, so a cross-organization test and the README's permissions table can be
generated from the code. ``tests/core/test_cross_org_matrix.py`` fails when a route or console view
is missing here, so a new endpoint is classified before it ships.

Scopes:

- ``public``: open to anyone (login, health, the marketplace's public listings, signed links).
- ``customer-own``: a customer's own data (seed APIs a bot customer uses); reached by its owner only.
- ``service``: a machine credential (the bot service secret, a sandbox key, a webhook secret).
- ``platform``: the platform's own staff (superuser, the marketplace moderator).
- ``organization``: one organization's data; ``kind`` names the object its URL parameter (or, for
  a collection, its rows) belongs to. Across organizations the answer is 404 (API) or refused /
  not found / empty (console).

``vertical`` groups routes by the area that scopes them.
"""

from __future__ import annotations

from dataclasses import dataclass

PUBLIC = "public"
CUSTOMER_OWN = "customer-own"
SERVICE = "service"
PLATFORM = "platform"
ORGANIZATION = "organization"
SCOPES = (PUBLIC, CUSTOMER_OWN, SERVICE, PLATFORM, ORGANIZATION)


@dataclass(frozen=True)
class Access:
    scope: str
    kind: str | None = None  # the object a URL parameter names; None: a collection or no object
    vertical: str = "platform"

    def __post_init__(self) -> None:
        if self.scope not in SCOPES:
            raise ValueError(f"unknown scope {self.scope!r}")

    def describe(self) -> str:
        if self.kind:
            return f"{self.scope} ({self.kind})"
        return self.scope


def _org(vertical: str, kind: str | None = None) -> Access:
    return Access(ORGANIZATION, kind, vertical)


def _own(vertical: str, kind: str | None = None) -> Access:
    return Access(CUSTOMER_OWN, kind, vertical)


def _public(vertical: str = "platform") -> Access:
    return Access(PUBLIC, None, vertical)


def _service(vertical: str = "platform") -> Access:
    return Access(SERVICE, None, vertical)


def _platform(vertical: str = "platform", kind: str | None = None) -> Access:
    return Access(PLATFORM, kind, vertical)


# Every Flask endpoint under /api/, /telegram/, /ws/ and /sandbox/, by endpoint name.
API: dict[str, Access] = {
    # --- auth, tokens, docs (seed 000 / 001 / 004) ------------------------------------------------
    "core_api.docs_page": _public(),
    "core_api.openapi_document": _public(),
    "core_api.health": _public(),
    "auth_api.staff_login": _public(),
    "auth_api.token_refresh": _public(),
    "auth_api.webapp_auth": _public(),
    "auth_api.logout": _own("platform"),
    "auth_api.me": _own("platform"),
    "auth_api.update_profile": _own("platform"),
    "auth_api.telegram_auth": _service("finance"),
    "auth_api.telegram_login": _service("finance"),
    "auth_api.telegram_register": _service("finance"),
    "auth_api.service_whoami": _service(),
    "auth_api.generate_bot_token": _org("platform"),
    "auth_api.list_bot_tokens": _org("platform"),
    "auth_api.revoke_bot_token": _org("platform", "bot_token"),
    # --- finance (seed 000): a customer's own money ------------------------------------------------
    "finance_api.analytics_categories": _own("finance"),
    "finance_api.analytics_monthly": _own("finance"),
    "finance_api.balance": _own("finance"),
    "finance_api.list_categories": _own("finance"),
    "finance_api.parse": _own("finance"),
    "finance_api.list_debts": _own("finance"),
    "finance_api.create_debt": _own("finance"),
    "finance_api.get_debt": _own("finance", "debt"),
    "finance_api.delete_debt": _own("finance", "debt"),
    "finance_api.settle_debt": _own("finance", "debt"),
    "finance_api.due_debts": _own("finance"),
    "finance_api.list_goals": _own("finance"),
    "finance_api.create_goal": _own("finance"),
    "finance_api.get_goal": _own("finance", "goal"),
    "finance_api.delete_goal": _own("finance", "goal"),
    "finance_api.cancel_goal": _own("finance", "goal"),
    "finance_api.deposit": _own("finance", "goal"),
    "finance_api.list_transactions": _own("finance"),
    "finance_api.create_transaction": _own("finance"),
    "finance_api.get_transaction": _own("finance", "transaction"),
    "finance_api.update_transaction": _own("finance", "transaction"),
    "finance_api.delete_transaction": _own("finance", "transaction"),
    # --- clinic (seed 002): the clinic bot's API, a doctor's JWT or the bot service secret ---------
    "clinic_api.create_appointment": _org("clinic"),
    "clinic_api.reschedule": _org("clinic", "appointment"),
    "clinic_api.cancel": _org("clinic", "appointment"),
    "clinic_api.my_appointments": _org("clinic"),
    "clinic_api.branches": _org("clinic"),
    "clinic_api.doctors": _org("clinic"),
    "clinic_api.services": _org("clinic"),
    "clinic_api.slots": _org("clinic"),
    "clinic_api.faq": _org("clinic"),
    "clinic_api.document_list": _org("clinic"),
    "clinic_api.document_download": _org("clinic", "document"),
    "clinic_api.document_file": _public("clinic"),  # a signed, expiring link
    "clinic_api.document_generate": _org("clinic"),
    "clinic_api.feedback": _org("clinic"),
    "clinic_api.patient_by_telegram_id": _org("clinic", "patient_telegram_id"),
    "clinic_api.patient_upsert": _org("clinic"),
    "clinic_api.verify_iin": _org("clinic"),
    "clinic_api.invoice_status": _org("clinic", "invoice"),
    "clinic_api.balance": _org("clinic"),
    "clinic_api.payment_callback": _service("clinic"),  # signed by the payment provider
    "clinic_api.invoice_create": _org("clinic"),
    "clinic_api.support_ticket": _org("clinic"),
    # --- broadcasts and segments -----------------------------------------------------------------
    "broadcasts_api.create_broadcast": _org("broadcasts"),
    "broadcasts_api.list_broadcasts": _org("broadcasts"),
    "broadcasts_api.get_broadcast": _org("broadcasts", "broadcast"),
    "broadcasts_api.update_broadcast": _org("broadcasts", "broadcast"),
    "broadcasts_api.delete_broadcast": _org("broadcasts", "broadcast"),
    "broadcasts_api.cancel_broadcast": _org("broadcasts", "broadcast"),
    "broadcasts_api.pause_broadcast": _org("broadcasts", "broadcast"),
    "broadcasts_api.resume_broadcast": _org("broadcasts", "broadcast"),
    "broadcasts_api.start_broadcast": _org("broadcasts", "broadcast"),
    "broadcasts_api.broadcast_stats": _org("broadcasts", "broadcast"),
    "broadcasts_api.list_deliveries": _org("broadcasts", "broadcast"),
    "broadcasts_api.schedule_broadcast": _org("broadcasts", "broadcast"),
    "broadcasts_api.test_broadcast": _org("broadcasts", "broadcast"),
    "broadcasts_api.unschedule_broadcast": _org("broadcasts", "broadcast"),
    "broadcasts_api.list_segments": _org("broadcasts"),
    "broadcasts_api.create_segment": _org("broadcasts"),
    "broadcasts_api.get_segment": _org("broadcasts", "segment"),
    "broadcasts_api.update_segment": _org("broadcasts", "segment"),
    "broadcasts_api.delete_segment": _org("broadcasts", "segment"),
    "broadcasts_api.preview_segment": _org("broadcasts", "segment"),
    "broadcasts_api.preview_filters": _org("broadcasts"),
    # --- helpdesk (seed 003) ---------------------------------------------------------------------
    "helpdesk_api.list_categories": _org("helpdesk"),
    "helpdesk_api.create_category": _org("helpdesk"),
    "helpdesk_api.update_category": _org("helpdesk", "category"),
    "helpdesk_api.delete_category": _org("helpdesk", "category"),
    "helpdesk_api.download_file": _org("helpdesk", "attachment"),
    "helpdesk_api.upload_file": _org("helpdesk"),
    "helpdesk_api.list_tickets": _org("helpdesk"),
    "helpdesk_api.create_ticket": _org("helpdesk"),
    "helpdesk_api.get_ticket": _org("helpdesk", "ticket"),
    "helpdesk_api.update_ticket": _org("helpdesk", "ticket"),
    "helpdesk_api.delete_ticket": _org("helpdesk", "ticket"),
    "helpdesk_api.list_messages": _org("helpdesk", "ticket"),
    "helpdesk_api.add_message": _org("helpdesk", "ticket"),
    "helpdesk_api.statistics_dashboard": _org("helpdesk"),
    "helpdesk_api.statistics_tickets": _org("helpdesk"),
    "helpdesk_api.list_users": _org("platform"),
    "helpdesk_api.set_role": _org("platform", "staff_user"),
    "helpdesk_api.set_status": _org("platform", "staff_user"),
    "helpdesk_live.inbox_socket": _org("helpdesk"),
    "helpdesk_live.ticket_socket": _org("helpdesk", "ticket"),
    # --- realty (seed 001): the public marketplace, a guest's own bookings, an agency's staff -----
    "realty_api.list_agencies": _org("realty"),
    "realty_api.create_agency": _platform("realty"),
    "realty_api.set_agency_active": _platform("realty", "agency"),
    "realty_api.agency_metrics": _org("realty", "agency"),
    "realty_api.create_booking": _own("realty"),
    "realty_api.my_bookings": _own("realty"),
    "realty_api.booking_detail": _own("realty", "booking"),
    "realty_api.cancel_booking": _own("realty", "booking"),
    "realty_api.pay_booking": _own("realty", "booking"),
    "realty_api.list_favorites": _own("realty"),
    "realty_api.add_favorite": _own("realty"),
    "realty_api.remove_favorite": _own("realty"),
    "realty_api.list_notifications": _own("realty"),
    "realty_api.read_notifications": _own("realty"),
    "realty_api.add_review": _own("realty"),
    "realty_api.search_listings": _public("realty"),
    "realty_api.listing_detail": _public("realty"),
    "realty_api.listing_calendar": _public("realty"),
    "realty_api.listing_reviews": _public("realty"),
    "realty_api.listing_photo": _public("realty"),  # an uploaded photo by its random key (the credential)
    "realty_api.moderation_queue": _platform("realty"),
    "realty_api.approve_listing": _platform("realty", "listing"),
    "realty_api.reject_listing": _platform("realty", "listing"),
    "realty_api.add_realtor": _org("realty"),
    "realty_api.set_realtor_active": _org("realty", "realtor"),
    "realty_api.remove_block": _org("realty", "block"),
    "realty_api.staff_bookings": _org("realty"),
    "realty_api.confirm_booking": _org("realty", "booking"),
    "realty_api.staff_listings": _org("realty"),
    "realty_api.create_listing": _org("realty"),
    "realty_api.update_listing": _org("realty", "listing"),
    "realty_api.add_block": _org("realty", "listing"),
    "realty_api.list_blocks": _org("realty", "listing"),
    # --- reports (the reports bot, seed 004) -----------------------------------------------------
    "reports_api.daily": _org("reports"),
    "reports_api.date_range": _org("reports"),
    # --- Telegram webhooks and the sandbox --------------------------------------------------------
    "telegram_api.finance_webhook": _service("finance"),
    "telegram_api.webhook_status": _service(),
    "telegram_api.webhook": _service(),
    "sandbox.chat_page": _service("sandbox"),
    "sandbox_api.create_bot": _service("sandbox"),
    "sandbox_api.list_bots": _service("sandbox"),
    "sandbox_api.bot_detail": _service("sandbox"),
    "sandbox_api.user_presses": _service("sandbox"),
    "sandbox_api.callback_answer": _service("sandbox"),
    "sandbox_api.transcript": _service("sandbox"),
    "sandbox_api.chat_state": _service("sandbox"),
    "sandbox_api.user_download": _service("sandbox"),
    "sandbox_api.get_limits": _service("sandbox"),
    "sandbox_api.put_limits": _service("sandbox"),
    "sandbox_api.user_sends": _service("sandbox"),
    "sandbox_api.create_user": _service("sandbox"),
    "sandbox_api.list_users": _service("sandbox"),
    "sandbox_api.block_user": _service("sandbox"),
    "sandbox_api.unblock_user": _service("sandbox"),
    "sandbox_api.bot_api_unknown": _service("sandbox"),
    "sandbox_api.bot_api": _service("sandbox"),
    "sandbox_api.file_download": _service("sandbox"),
}

# Every console view (Flask-Admin), by the view's endpoint: what its rows are. Its list, details,
# edit, delete, export, action and lookup routes all reach that kind of object.
CONSOLE: dict[str, Access] = {
    "admin": _org("platform"),  # the home dashboard: counts of the actor's organization
    "users": _org("platform", "staff_user"),
    "audit": _org("platform", "audit"),
    "jobs": _platform(),
    "organizations": _platform("platform", "organization"),
    "bots": _org("platform", "bot"),
    "profile": _org("platform"),  # the viewer's own account and their organization's bots
    "clinic_dashboard": _org("clinic"),
    "clinic_day": _org("clinic"),  # the reception's calendar
    "clinic_appointments": _org("clinic", "appointment"),
    "clinic_patients": _org("clinic", "patient"),
    "clinic_doctors": _org("clinic", "doctor"),
    "clinic_services": _org("clinic", "service"),
    "clinic_branches": _org("clinic", "branch"),
    "clinic_payments": _org("clinic", "invoice"),
    "clinic_documents": _org("clinic", "document"),
    "clinic_feedback": _org("clinic", "feedback"),
    "clinic_faq": _org("clinic", "faq"),  # an organization's own entries (the platform's: superusers)
    "clinic_support": _org("clinic", "support_ticket"),
    "clinic_reminders": _org("clinic", "reminder"),
    "clinic_settings": _org("clinic", "clinic"),
    "realty_dashboard": _org("realty"),
    "realty_moderation": _platform("realty", "listing"),
    "realty_listings": _org("realty", "listing"),
    "realty_bookings": _org("realty", "booking"),
    "realty_calendar": _org("realty"),
    "realty_agencies": _org("realty", "agency"),
    "realty_realtors": _org("realty", "agency_member"),
    "realty_reviews": _org("realty", "review"),
    "realty_payments": _org("realty", "payment"),
    "realty_moderation_log": _org("realty", "moderation_event"),
    "realty_notifications": _platform("realty"),
    "realty_outbox": _platform("realty"),
    "realty_reports": _org("reports"),
    "helpdesk_inbox": _org("helpdesk"),
    "helpdesk_stats": _org("helpdesk"),
    "helpdesk_tickets": _org("helpdesk", "ticket"),
    "helpdesk_categories": _org("helpdesk", "category"),
    "helpdesk_canned": _org("helpdesk", "canned_reply"),
    "helpdesk_settings": _org("helpdesk"),
    "finance_dashboard": _org("finance"),
    "finance_transactions": _org("finance", "transaction"),
    "finance_wallets": _org("finance", "wallet"),
    "finance_categories": _org("finance", "finance_category"),
    "finance_goals": _org("finance", "goal"),
    "finance_debts": _org("finance", "debt"),
    "finance_voice": _org("finance", "voice_log"),
    "broadcasts": _org("broadcasts"),
    "broadcast_segments": _org("broadcasts"),
}

# Console routes a view exposes itself (``@expose``) that reach one object: "<view>.<method>".
# Flask-Admin's own routes (index_view, details_view, edit_view, delete_view, export, action_view,
# create_view, ajax_lookup, ajax_update) take the view's kind from CONSOLE.
CONSOLE_ROUTES: dict[str, Access] = {
    "organizations.switch": _platform("platform", "organization"),
    "organizations.create": _platform(),
    "jobs.delete": _platform(),
    "jobs.requeue": _platform(),
    "bots.check_token_view": _org("platform", "bot"),
    "profile.link": _org("platform", "bot"),
    "clinic_day.patients": _org("clinic"),
    "clinic_day.book": _org("clinic"),
    "clinic_day.appointment": _org("clinic", "appointment"),
    "clinic_day.act": _org("clinic", "appointment"),
    "clinic_day.patient": _org("clinic", "patient"),
    "realty_moderation.reject_view": _platform("realty", "listing"),
    "realty_listings.reject_view": _org("realty", "listing"),
    "realty_moderation.approve": _platform("realty", "listing"),
    "realty_moderation.reject": _platform("realty", "listing"),
    "realty_listings.approve": _org("realty", "listing"),
    "realty_listings.reject": _org("realty", "listing"),
    "helpdesk_inbox.file": _org("helpdesk", "attachment"),
    "helpdesk_inbox.ticket": _org("helpdesk", "ticket"),
    "helpdesk_inbox.panel": _org("helpdesk", "ticket"),
    "helpdesk_inbox.reply": _org("helpdesk", "ticket"),
    "helpdesk_inbox.update": _org("helpdesk", "ticket"),
    "broadcasts.detail": _org("broadcasts", "broadcast"),
    "broadcasts.act": _org("broadcasts", "broadcast"),
    "broadcasts.deliveries": _org("broadcasts", "broadcast"),
    "broadcasts.edit": _org("broadcasts", "broadcast"),
    "broadcasts.progress": _org("broadcasts", "broadcast"),
    "broadcasts.audience": _org("broadcasts"),
    "broadcasts.export": _org("broadcasts"),
    "broadcasts.create": _org("broadcasts"),
    "broadcasts.preview": _org("broadcasts"),
    "broadcast_segments.delete": _org("broadcasts", "segment"),
    "broadcast_segments.edit": _org("broadcasts", "segment"),
    "broadcast_segments.create": _org("broadcasts"),
}

# Flask-Admin's own routes of a model view; what each does with an object.
MODEL_VIEW_ROUTES = (
    "index_view",
    "details_view",
    "edit_view",
    "delete_view",
    "export",
    "action_view",
    "create_view",
    "ajax_lookup",
    "ajax_update",
)
# Routes of the console that are not a view's (login, logout, language, static files).
CONSOLE_OPEN_ENDPOINTS = ("console.login", "console.logout", "console.set_language", "admin.static")

API_PREFIXES = ("/api/", "/telegram/", "/ws/", "/sandbox/")


def api_rules(app):
    """The URL rules the API table classifies, sorted by path."""
    return sorted(
        (r for r in app.url_map.iter_rules() if r.rule.startswith(API_PREFIXES)), key=lambda r: (r.rule, r.endpoint)
    )


def console_views(app):
    """Every Flask-Admin view registered on the console."""
    return [view for admin in app.extensions["admin"] for view in admin._views]


def console_rules(app, view):
    """The URL rules of one console view, sorted by path."""
    prefix = f"{view.endpoint}."
    return sorted(
        (r for r in app.url_map.iter_rules() if r.endpoint.startswith(prefix)), key=lambda r: (r.rule, r.endpoint)
    )


def console_route_access(view, method_name: str) -> Access | None:
    """The classification of one console route: its own entry, else the view's."""
    own = CONSOLE_ROUTES.get(f"{view.endpoint}.{method_name}")
    if own is not None:
        return own
    return CONSOLE.get(view.endpoint)


def unclassified(app) -> list[str]:
    """Every API route, console view and custom console route that this table does not classify."""
    missing = [f"API {r.endpoint} {r.rule}" for r in api_rules(app) if r.endpoint not in API]
    for view in console_views(app):
        if view.endpoint not in CONSOLE:
            missing.append(f"console view {view.endpoint}")
            continue
        for rule in console_rules(app, view):
            method_name = rule.endpoint.split(".", 1)[1]
            if method_name in (*MODEL_VIEW_ROUTES, "index", "static"):
                continue
            if f"{view.endpoint}.{method_name}" not in CONSOLE_ROUTES:
                missing.append(f"console route {rule.endpoint} {rule.rule}")
    console_endpoints = {v.endpoint for v in console_views(app)}
    for rule in app.url_map.iter_rules():
        if (
            rule.rule.startswith("/admin")
            and rule.endpoint not in CONSOLE_OPEN_ENDPOINTS
            and rule.endpoint.split(".", 1)[0] not in console_endpoints
        ):
            missing.append(f"console route outside a view {rule.endpoint} {rule.rule}")
    return missing
