"""The finance vertical's bot (seed 000): the four functions the runner looks for."""

from botworker.finance.handlers import help_text, main_menu, on_start, register_handlers

__all__ = ["help_text", "main_menu", "on_start", "register_handlers"]
