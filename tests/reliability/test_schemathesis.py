"""Schemathesis v4 over the whole OpenAPI document, against the service on
PostgreSQL: every check, the examples, coverage, fuzzing and stateful
phases, a fixed seed and a bounded number of examples. Zero failures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ADMIN_TOKEN, postgres_database
from tests.reliability.service import ROOT, register, running_service

pytestmark = pytest.mark.postgres

CONFIG = Path(__file__).with_name("schemathesis.toml")
SEED = 20261121
MAX_EXAMPLES = 10
TIMEOUT_S = 600


def test_the_api_keeps_every_promise_of_its_openapi_document(
    postgres_admin_url: str, tmp_path: Path
) -> None:
    with (
        postgres_database(postgres_admin_url) as url,
        # Schemathesis sends thousands of requests with one key.
        running_service(
            url, tmp_path / "service.log", env={"BACKPLAN_RATE_LIMIT_REQUESTS": "0"}
        ) as service,
        register(service, "Schemathesis") as http,
    ):
        env = {
            **os.environ,
            "BACKPLAN_SCHEMATHESIS_API_KEY": http.headers["Authorization"].removeprefix("Bearer "),
            "BACKPLAN_SCHEMATHESIS_ADMIN_TOKEN": ADMIN_TOKEN,
            "SCHEMATHESIS_HOOKS": "tests.reliability.schemathesis_hooks",
            "PYTHONPATH": str(ROOT),
        }
        command = [
            str(Path(sys.executable).with_name("schemathesis")),
            "--config-file", str(CONFIG),
            "--no-color",
            "run", f"{service.url}/openapi.json",
            "--checks", "all",
            "--phases", "examples,coverage,fuzzing,stateful",
            "--seed", str(SEED),
            "--max-examples", str(MAX_EXAMPLES),
            "--generation-database", "none",
            "--workers", "2",
            "--report", "junit",
            "--report-dir", str(tmp_path / "report"),
        ]  # fmt: skip
        # In tmp_path, so that Schemathesis keeps its crash cache out of the tree.
        run = subprocess.run(
            command,
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            check=False,
        )
        server_log = service.output()
    assert run.returncode == 0, f"{run.stdout}\n{run.stderr}\n--- service log ---\n{server_log}"
