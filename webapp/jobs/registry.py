"""Imports every vertical's jobs module so their periodic jobs are in the schedule."""

from webapp.verticals import each_module

JOB_MODULES = each_module("jobs")
