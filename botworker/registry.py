"""Which conversation a bot runs: the package ``botworker/<vertical>/`` of its vertical, if written.

A vertical's package exposes ``register_handlers(bot)``, ``on_start(bot, message)``,
``main_menu(language)``, ``help_text(language)`` and ``on_language(language)`` (the user chose a
language with the common keyboard); whatever it leaves out (or the whole package, for a vertical
without one) falls back to the common defaults in ``botworker.common``.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

from telebot import TeleBot, types

from webapp.telegram.models import Vertical


@dataclass(frozen=True)
class VerticalBot:
    name: str
    register_handlers: Callable[[TeleBot], None]
    on_start: Callable[[TeleBot, types.Message], None]
    main_menu: Callable[[str], types.ReplyKeyboardMarkup]
    help_text: Callable[[str], str]
    on_language: Callable[[str], None]


def vertical_package(vertical: str) -> ModuleType | None:
    """``botworker.<vertical>`` when that package exists (only the platform's verticals are looked up)."""
    if vertical not in {v.value for v in Vertical}:
        return None
    name = f"botworker.{vertical}"
    if importlib.util.find_spec(name) is None:
        return None
    return importlib.import_module(name)


def defaults(name: str = "default") -> VerticalBot:
    from botworker import common

    return VerticalBot(
        name=name,
        register_handlers=lambda bot: None,
        on_start=common.default_on_start,
        main_menu=common.default_main_menu,
        help_text=common.default_help_text,
        on_language=common.default_on_language,
    )


def from_module(name: str, module: object | None) -> VerticalBot:
    """A VerticalBot from any object with (some of) the five functions; the rest are the defaults."""
    base = defaults(name)
    if module is None:
        return base
    return VerticalBot(
        name=name,
        register_handlers=getattr(module, "register_handlers", base.register_handlers),
        on_start=getattr(module, "on_start", base.on_start),
        main_menu=getattr(module, "main_menu", base.main_menu),
        help_text=getattr(module, "help_text", base.help_text),
        on_language=getattr(module, "on_language", base.on_language),
    )


def vertical_bot(vertical: str) -> VerticalBot:
    return from_module(vertical, vertical_package(vertical))
