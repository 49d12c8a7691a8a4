"""How long the command line takes to start: ``portal --help`` and a command that needs the app.

    python bench/cli_start.py [--runs 7]

Each command runs in a fresh process (as an operator or a cron job runs it); prints the median wall time,
beside a bare ``python -c pass`` of the same interpreter as the baseline. ``portal --help`` neither builds the
app nor reads the catalog, and a command that builds the app reads the catalog only when it uses it.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PORTAL = [sys.executable, "-c", "from portal.cli import main; main()"]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(argv: list[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    """Median wall time and median CPU time (user + system: what the command costs, whatever the load)."""
    walls, cpus = [], []
    for _run in range(runs):
        cpu, started = _children_cpu(), time.perf_counter()
        subprocess.run(argv, env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        walls.append(time.perf_counter() - started)
        cpus.append(_children_cpu() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as instance:
        env = {**os.environ, "PORTAL_INSTANCE_PATH": instance, "PORTAL_ENV": "development"}
        env.pop("PORTAL_DATABASE_URL", None)
        subprocess.run([*PORTAL, "db", "upgrade"], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        rows = [
            ("python -c pass (baseline)", timed([sys.executable, "-c", "pass"], env, args.runs)),
            ("portal --help", timed([*PORTAL, "--help"], env, args.runs)),
            ("portal keys status (builds the app)", timed([*PORTAL, "keys", "status"], env, args.runs)),
        ]
    load = os.getloadavg()[0]
    print(f"medians of {args.runs} runs, load average {load:.1f}")
    print(f"  {'':<40} {'wall':>8}    {'cpu':>8}")
    for name, (wall, cpu) in rows:
        print(f"  {name:<40} {wall * 1000:5.0f} ms    {cpu * 1000:5.0f} ms")


if __name__ == "__main__":
    main()
