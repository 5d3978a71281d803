#!/usr/bin/env python3
"""Replays the last commits of a real repository as edits and checks `krepis check --changed`.

    python3 bench/changed_history.py REPO [--commits N] [--krepis BIN]

REPO is any git repository (it is cloned into a temporary folder, never touched). For each of the
last N commits that change TypeScript files, oldest first, the clone's HEAD is set to the commit's
parent with the commit's tree in the working tree and index (what a pre-commit hook sees), and
`krepis check --changed --format json` with the cache is compared with the same run without it
(`--no-cache`): the findings, the number of files checked and the summary must be equal. The
cache is the one the earlier steps left, as in daily use. Prints the median wall time of both and
exits 1 on the first difference.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


def run(cmd, cwd, check=True):
    return subprocess.run(cmd, cwd=cwd, check=check, capture_output=True, text=True)


def findings(report):
    return sorted(
        (d["file"], d["rule"], d["line"], d["column"], d["message"])
        for d in report["diagnostics"]
    )


def krepis(binary, cwd, *args):
    start = time.perf_counter()
    out = run([binary, "check", "--changed", "--format", "json", *args], cwd, check=False)
    elapsed = time.perf_counter() - start
    if out.returncode not in (0, 1):
        sys.exit(f"krepis exited {out.returncode}: {out.stderr}")
    return json.loads(out.stdout), elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("repo")
    parser.add_argument("--commits", type=int, default=20)
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument(
        "--krepis", default=os.path.join(here, "..", "target", "release", "krepis")
    )
    args = parser.parse_args()
    binary = os.path.abspath(args.krepis)
    with tempfile.TemporaryDirectory() as tmp:
        work = os.path.join(tmp, "repo")
        run(["git", "clone", "-q", os.path.abspath(args.repo), work], tmp)
        listed = run(
            ["git", "log", "--first-parent", "--format=%H", "--", "*.ts", "*.tsx"], work
        ).stdout.split()
        commits = [c for c in listed if run(["git", "rev-parse", "-q", "--verify", c + "~1"], work, False).returncode == 0]
        commits = list(reversed(commits[: args.commits]))
        if not commits:
            sys.exit("no commit changes TypeScript files")
        with open(os.path.join(work, ".git", "info", "exclude"), "a") as exclude:
            exclude.write(".krepis/\n")
        run(["git", "checkout", "-q", commits[0] + "~1"], work)
        # Files older than two seconds are known by their stamps; a checkout is fresh.
        time.sleep(2.1)
        run([binary, "check", "--format", "json"], work, check=False)
        cached_times, fresh_times = [], []
        for i, commit in enumerate(commits):
            run(["git", "checkout", "-q", "-f", commit], work)
            run(["git", "reset", "-q", "--soft", commit + "~1"], work)
            cached, t_cached = krepis(binary, work)
            fresh, t_fresh = krepis(binary, work, "--no-cache")
            cached_times.append(t_cached)
            fresh_times.append(t_fresh)
            same = (
                findings(cached) == findings(fresh)
                and cached["files_checked"] == fresh["files_checked"]
                and cached["summary"] == fresh["summary"]
            )
            print(
                f"{i + 1:3} {commit[:10]} files checked {fresh['files_checked']:5} "
                f"findings {len(fresh['diagnostics']):5} cached {t_cached * 1000:7.1f} ms "
                f"no cache {t_fresh * 1000:7.1f} ms {'same' if same else 'DIFFERENT'}"
            )
            if not same:
                a, b = set(findings(cached)), set(findings(fresh))
                print("only with the cache:", sorted(a - b)[:10])
                print("only without it:", sorted(b - a)[:10])
                return 1
            run(["git", "reset", "-q", "--hard", commit], work)
        print(
            f"{len(commits)} commits, all the same; median --changed with the cache "
            f"{statistics.median(cached_times) * 1000:.1f} ms, without "
            f"{statistics.median(fresh_times) * 1000:.1f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
