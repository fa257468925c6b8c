"""Start-up CPU: what one process spends in ``import webapp; create_app()``, this tree against a baseline.

    .venv/bin/python bench/startup.py                       # 5 runs each, against caaac43
    .venv/bin/python bench/startup.py --runs 9 --baseline none

Every process of the platform pays it when it starts: each RQ worker (``flask --app wsgi rq-worker``),
each gunicorn worker, cron, the bot worker, every test session. Each run is a fresh interpreter that
measures ``time.process_time()`` around the import and the call (the interpreter's own start is left
out; the whole child's CPU is printed beside it). The baseline (``--baseline``, a git ref exported
with ``git archive`` into a temporary directory, or the path of another checkout) and this tree run
alternately, so a shared machine's drifting load falls on both; both are compiled first
(``compileall``), as a deployed tree is, so neither pays for compiling its sources.

No database or Redis is contacted: ``create_app`` only reads the settings. DATABASE_URL and REDIS_URL
default to a local PostgreSQL and Redis URL (outside the embedded default, like the workers); the
secrets are fresh ones.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from broadcast import baseline_tree  # noqa: E402 - bench/ is this script's directory

# The tree before this bench's start-up work.
DEFAULT_BASELINE = "caaac43"
# What a deployed tree runs; compiled in both trees (not tests, nor a symlinked virtualenv).
SOURCES = ("webapp", "botworker", "config.py", "wsgi.py")

MEASURE = """
import time
started = time.process_time()
import webapp
webapp.create_app()
print(time.process_time() - started)
"""


def environment(instance_dir: str) -> dict[str, str]:
    from config import fresh_secrets

    env = os.environ.copy()
    env.setdefault("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    env.setdefault("BOTDESK_INSTANCE_DIR", instance_dir)
    for name, value in fresh_secrets().items():
        env.setdefault(name, value)
    return env


def compile_tree(tree: Path) -> None:
    present = [str(tree / name) for name in SOURCES if (tree / name).exists()]
    subprocess.run([sys.executable, "-m", "compileall", "-q", *present], check=True, stdout=subprocess.DEVNULL)


def run_once(tree: Path, env: dict[str, str]) -> tuple[float, float]:
    """(CPU-s of import + create_app, CPU-s of the whole child process)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [sys.executable, "-c", MEASURE], cwd=tree, env={**env, "PYTHONPATH": str(tree)}, capture_output=True, text=True
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"create_app failed in {tree}:\n{done.stderr[-3000:]}")
    whole = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return float(done.stdout.strip().splitlines()[-1]), whole


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per tree (default 5)")
    parser.add_argument(
        "--baseline",
        default=DEFAULT_BASELINE,
        help=f"git ref or checkout path to compare with (default {DEFAULT_BASELINE}); 'none' for this tree only",
    )
    args = parser.parse_args()

    instance_dir = tempfile.mkdtemp(prefix="botdesk-bench-startup-")
    env = environment(instance_dir)
    trees = [("this tree", ROOT)]
    removable = None
    if args.baseline.lower() != "none":
        baseline, removable = baseline_tree(args.baseline)
        trees.insert(0, ("baseline", baseline))
        print(f"baseline: {args.baseline} ({baseline})")
    try:
        for _label, tree in trees:
            compile_tree(tree)
        figures: dict[str, list[tuple[float, float]]] = {label: [] for label, _ in trees}
        for run in range(1, args.runs + 1):
            for label, tree in trees:
                figures[label].append(run_once(tree, env))
            shown = (f"{name} {figures[name][-1][0]:.3f} s (process {figures[name][-1][1]:.3f})" for name, _ in trees)
            print(f"run {run}: " + ", ".join(shown), flush=True)
        medians = {}
        for label, _ in trees:
            in_app = statistics.median(f[0] for f in figures[label])
            whole = statistics.median(f[1] for f in figures[label])
            medians[label] = (in_app, whole)
            print(f"{label}: median {in_app:.3f} CPU-s in import + create_app, {whole:.3f} for the whole process")
        if "baseline" in medians:
            ratio = medians["this tree"][0] / medians["baseline"][0]
            whole_ratio = medians["this tree"][1] / medians["baseline"][1]
            print(f"this tree / baseline: {ratio:.2f} (create_app), {whole_ratio:.2f} (whole process)")
        print(f"load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    finally:
        shutil.rmtree(instance_dir, ignore_errors=True)
        if removable:
            shutil.rmtree(removable, ignore_errors=True)


if __name__ == "__main__":
    main()
