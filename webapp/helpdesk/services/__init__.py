"""The helpdesk's rules, callable from the API, the console, the bot and jobs alike."""

from webapp.helpdesk.services.access import can_download, can_view_ticket, is_admin, is_staff, visible_tickets
from webapp.helpdesk.services.categories import (
    create_category,
    delete_category,
    get_category,
    list_categories,
    update_category,
)
from webapp.helpdesk.services.files import get_file, purge_orphan_files, read_file, store_upload
from webapp.helpdesk.services.listing import ticket_page
from webapp.helpdesk.services.stats import ticket_statistics
from webapp.helpdesk.services.tickets import (
    UNSET,
    add_message,
    allowed_moves,
    assign,
    await_customer,
    close,
    create_ticket,
    delete_ticket,
    get_ticket,
    message_stats,
    messages_query,
    resolve,
    set_status,
    start_work,
    update_ticket,
)

__all__ = [
    "UNSET",
    "add_message",
    "allowed_moves",
    "assign",
    "await_customer",
    "can_download",
    "can_view_ticket",
    "close",
    "create_category",
    "create_ticket",
    "delete_category",
    "delete_ticket",
    "get_category",
    "get_file",
    "get_ticket",
    "is_admin",
    "is_staff",
    "list_categories",
    "message_stats",
    "messages_query",
    "purge_orphan_files",
    "read_file",
    "resolve",
    "set_status",
    "start_work",
    "store_upload",
    "ticket_page",
    "ticket_statistics",
    "update_category",
    "update_ticket",
    "visible_tickets",
]
