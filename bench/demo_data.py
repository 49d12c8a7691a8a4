"""``portal demo`` at scale: 200,000 persons and 100,000 cases against 2,000 and 1,000, timed in the same run.

    python bench/demo_data.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres \
        [--persons 200000] [--cases 100000] [--small-persons 2000] [--small-cases 1000]

What it does: a new PostgreSQL database beside the URL's (dropped at the end), migrated to the head; then the
command exactly as a user types it, ``portal demo --reset --persons N --cases M`` (the region jilin), first at the
small size, then at the large one, each in its own process. Prints per size the wall-clock seconds, the CPU
seconds of the command, the rows written per second and the peak memory of the process; then the ratio of the
seconds per person at the large size to the small one, by wall clock and by the command's CPU time (the goal:
≤ 1.5, the time grows with the data and no faster; CPU is the figure other load on the machine does not distort) and
whether the large size finished within the goal of 10 minutes.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
GOAL_MINUTES = 10
GOAL_RATIO = 1.5


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True, help="PostgreSQL URL (a database of its own is made beside)")
    parser.add_argument("--persons", type=int, default=200_000)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--small-persons", type=int, default=2_000)
    parser.add_argument("--small-cases", type=int, default=1_000)
    return parser.parse_args()


def run(env: dict[str, str], persons: int, cases: int) -> tuple[float, float, int, int]:
    """(wall seconds, CPU seconds, rows written, peak RSS in MiB) of one ``portal demo`` process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "portal", "demo", "--reset", "--persons", str(persons),
                          "--cases", str(cases)], env=env, capture_output=True, text=True, check=True).stdout
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    summary = out.strip().splitlines()[-1]
    rows = sum(int(n) for n in re.findall(r"(\d+) [a-z]", summary.split(":", 1)[1].split(" in ")[0]))
    return wall, cpu, rows, after.ru_maxrss // 1024


def main() -> None:
    args = parse()
    from sqlalchemy import create_engine, make_url, text

    name = f"bench_demo_{secrets.token_hex(4)}"
    admin = create_engine(args.database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    url = make_url(args.database_url).set(database=name).render_as_string(hide_password=False)
    results = {}
    try:
        with tempfile.TemporaryDirectory(prefix="bench-demo-") as folder:
            env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
            env.update({"PORTAL_ENV": "development", "PORTAL_DATABASE_URL": url, "PORTAL_REGION": "jilin",
                        "PORTAL_INSTANCE_PATH": str(Path(folder) / "instance"), "PORTAL_LOG_LEVEL": "WARNING",
                        "PYTHONPATH": str(ROOT)})
            subprocess.run([sys.executable, "-m", "portal", "db", "upgrade"], env=env, check=True,
                           capture_output=True)
            for size in ((args.small_persons, args.small_cases), (args.persons, args.cases)):
                results[size] = run(env, *size)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
        admin.dispose()
    print("portal demo on PostgreSQL (bulk: COPY), region jilin, each size in its own process")
    for (persons, cases), (wall, cpu, rows, rss) in results.items():
        print(f"  {persons:>8,} persons {cases:>8,} cases: {wall:7.1f} s wall, {cpu:7.1f} s CPU, "
              f"{rows:>11,} rows ({rows / wall:8,.0f} rows/s), peak {rss} MiB")
    (small_persons, _), (large_persons, _) = results
    small, large = results[(args.small_persons, args.small_cases)], results[(args.persons, args.cases)]
    for what, at in (("wall-clock", 0), ("CPU", 1)):  # CPU: the command's own, whatever else loads the machine
        ratio = (large[at] / large_persons) / (small[at] / small_persons)
        print(f"{what} seconds per person, large ÷ small: {ratio:.2f} (goal ≤ {GOAL_RATIO}): "
              f"{'OK' if ratio <= GOAL_RATIO else 'MISSED'}")
    print(f"large size in {large[0] / 60:.1f} min (goal ≤ {GOAL_MINUTES} min): "
          f"{'OK' if large[0] <= GOAL_MINUTES * 60 else 'MISSED'}")


if __name__ == "__main__":
    main()
