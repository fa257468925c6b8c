#!/usr/bin/env python3
"""Newcomer entry point that needs nothing but Python 3.11+.

    python3 manage.py demo   # venv + dependencies + the whole platform (embedded default, demo data)
    python3 manage.py test   # venv + dependencies + pytest (PostgreSQL/Redis on 127.0.0.1 if reachable,
                             # else SQLite + in-process Redis); extra arguments go to pytest

It creates .venv on first use and re-installs only when the requirements files change.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("BOTDESK_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"


def _requirements_digest() -> str:
    digest = hashlib.sha256()
    for name in ("requirements.txt", "requirements-dev.txt"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def ensure_environment() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - a newcomer may run an older python3
        sys.exit("Botdesk needs Python 3.11 or newer")
    if not PYTHON.exists():
        print(f"creating virtual environment in {VENV}")
        venv.create(VENV, with_pip=True)
    stamp = VENV / ".botdesk-requirements"
    wanted = _requirements_digest()
    if not stamp.exists() or stamp.read_text() != wanted:
        subprocess.check_call([str(PYTHON), "-m", "pip", "install", "-q", "--upgrade", "pip"])
        subprocess.check_call([str(PYTHON), "-m", "pip", "install", "-q", "-r", str(ROOT / "requirements-dev.txt")])
        stamp.write_text(wanted)
    subprocess.check_call([str(PYTHON), str(ROOT / "scripts" / "compile_translations.py")], stdout=subprocess.DEVNULL)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("demo", "test"):
        print(__doc__)
        return 2
    ensure_environment()
    os.chdir(ROOT)
    if argv[0] == "demo":
        return subprocess.call([str(PYTHON), "-m", "flask", "--app", "wsgi", "run-all", *argv[1:]])
    return subprocess.call([str(PYTHON), "-m", "pytest", *argv[1:]])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
