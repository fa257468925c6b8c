"""Gunicorn hooks for prometheus_client's multiprocess mode: ``gunicorn -c python:webapp.metrics.gunicorn``.

A worker that exits leaves its metric files in ``PROMETHEUS_MULTIPROC_DIR``; its counters and
histograms must keep counting, but its open sockets are gone, so its live gauges are dropped.
The directory itself must start empty (docker-compose mounts a fresh tmpfs).
"""

from __future__ import annotations


def child_exit(_server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
