"""Imports every model module so SQLAlchemy metadata (and Alembic) sees the whole schema."""

from webapp.verticals import each_module

MODEL_MODULES = each_module("models")
