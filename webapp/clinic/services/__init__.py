"""Clinic rules, one module per area. Plain functions over ``db.session``: they flush, callers commit.

Every function that depends on the current time takes ``now`` (default ``clock.now()``), so tests
and scans run on a fixed clock.
"""
