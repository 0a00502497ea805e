"""The whole test suite: formatting, lint, types, then pytest.

Run from the project root with the project's virtualenv:
    .venv/bin/python scripts/check.py [extra pytest arguments]
Exits non-zero as soon as one step fails.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

STEPS = [
    [str(BIN / "ruff"), "format", "--check", "."],
    [str(BIN / "ruff"), "check", "."],
    [str(BIN / "mypy")],
    [str(BIN / "pytest"), *sys.argv[1:]],
]


def main() -> int:
    for step in STEPS:
        print(
            f"$ {' '.join(Path(step[0]).name if i == 0 else a for i, a in enumerate(step))}",
            flush=True,
        )
        code = subprocess.call(step, cwd=ROOT)
        if code != 0:
            print(f"check failed: {Path(step[0]).name} exited {code}", file=sys.stderr)
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
