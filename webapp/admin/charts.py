"""Geometry for the console's inline SVG bar charts (no chart library: the console works offline)."""

from __future__ import annotations


def bars(values: list[tuple[str, int]], height: int = 140, width: int = 22) -> dict:
    """Bar positions and heights for ``(label, value)`` pairs, scaled so the tallest bar fills ``height``."""
    top = max((v for _, v in values), default=0) or 1
    return {
        "bars": [
            {"x": i * (width + 6), "label": label, "value": v, "h": int(height * v / top)}
            for i, (label, v) in enumerate(values)
        ],
        "height": height,
        "width": max(1, len(values)) * (width + 6),
        "bar": width,
    }
