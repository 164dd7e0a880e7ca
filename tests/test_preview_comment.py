"""The preview comment job (pulumi-preview.yml): its script, run against a stand-in GitHub API.

It gets the preview's output as an artifact the pull request's code wrote, so the output is
data: it must never break out of its code block, and only this job's own comment is edited."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from devtools import ROOT

BOT = "github-actions[bot]"


def comment_script() -> str:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "pulumi-preview.yml").read_text())
    (step,) = [s for s in workflow["jobs"]["comment"]["steps"] if "run" in s]
    assert step["shell"] == "python3 {0}"
    script: str = step["run"]
    return script


class FakeGitHub:
    """Issue comments of pull request 7, and every write made to them."""

    def __init__(self, comments: list[dict[str, Any]]) -> None:
        self.comments = comments
        self.writes: list[tuple[str, str, dict[str, Any]]] = []


@pytest.fixture
def github() -> Iterator[tuple[str, FakeGitHub]]:
    state = FakeGitHub([])

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _answer(self, status: int, body: Any) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            assert self.headers["authorization"] == "Bearer job-token"
            assert self.path.startswith("/repos/acme/auth0/issues/7/comments?per_page=100&page=")
            page = int(self.path.rsplit("=", 1)[1])
            self._answer(200, state.comments[(page - 1) * 100 : page * 100])

        def _write(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            state.writes.append((self.command, self.path, body))
            self._answer(201 if self.command == "POST" else 200, {"id": 1})

        do_POST = do_PATCH = _write

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", state
    server.shutdown()


def run_comment(
    api: str,
    tmp_path: Path,
    output: str | None,
    outcome: str | None,
    impact: str | None = "Of 10 users, this change lets in 0:\n",
) -> subprocess.CompletedProcess[str]:
    (tmp_path / "preview").mkdir()
    if impact is not None:
        (tmp_path / "impact").mkdir()
        (tmp_path / "impact" / "impact.txt").write_text(impact)
    if output is not None:
        (tmp_path / "preview" / "preview.txt").write_text(output)
    if outcome is not None:
        (tmp_path / "preview" / "outcome.txt").write_text(outcome + "\n")
    (tmp_path / "comment.py").write_text(comment_script())
    return subprocess.run(
        [sys.executable, str(tmp_path / "comment.py")],
        cwd=tmp_path,
        env={
            "GITHUB_API_URL": api,
            "GITHUB_REPOSITORY": "acme/auth0",
            "GITHUB_TOKEN": "job-token",
            "STACK": "staging",
            "PULL_REQUEST": "7",
        },
        capture_output=True,
        text=True,
    )


def test_the_first_preview_of_a_stack_posts_its_comment(
    github: tuple[str, FakeGitHub], tmp_path: Path
) -> None:
    api, state = github
    result = run_comment(api, tmp_path, "Previewing update (staging)\n  ~ action\n", "success")
    assert result.returncode == 0, result.stderr
    ((method, path, body),) = state.writes
    assert (method, path) == ("POST", "/repos/acme/auth0/issues/7/comments")
    assert body["body"] == (
        "<!-- pulumi-preview:staging -->\n"
        "### Who the change to `staging` lets in\n\n"
        "```\nOf 10 users, this change lets in 0:\n```\n\n"
        "### `pulumi preview` of stack `staging` succeeded\n\n"
        "```diff\nPreviewing update (staging)\n  ~ action\n```"
    )


def test_the_impact_is_data_too_and_its_absence_is_said(
    github: tuple[str, FakeGitHub], tmp_path: Path
) -> None:
    api, state = github
    hostile = "```\n@everyone [click](https://evil.example)\n"
    assert run_comment(api, tmp_path, "ok\n", "success", impact=hostile).returncode == 0
    ((_, _, body),) = state.writes
    lines = body["body"].splitlines()
    assert lines[3] == "````"  # longer than any backtick run in the impact: it stays inside
    assert lines[6] == "````"
    state.writes.clear()
    (tmp_path / "again").mkdir()
    assert run_comment(api, tmp_path / "again", "ok\n", "success", impact=None).returncode == 0
    ((_, _, body),) = state.writes
    assert "The impact job did not finish" in body["body"]


def test_a_later_preview_edits_the_jobs_own_comment_and_no_one_elses(
    github: tuple[str, FakeGitHub], tmp_path: Path
) -> None:
    api, state = github
    marker = "<!-- pulumi-preview:staging -->"
    state.comments = [
        {"id": n, "user": {"login": "someone"}, "body": "hello"} for n in range(1, 101)
    ] + [
        {"id": 500, "user": {"login": "mallory"}, "body": marker + " mine now"},
        {"id": 501, "user": {"login": BOT}, "body": "<!-- pulumi-preview:prod -->"},
        {"id": 502, "user": {"login": BOT}, "body": marker + "\nold"},
    ]
    result = run_comment(api, tmp_path, "error: boom\n", "failure")
    assert result.returncode == 0, result.stderr
    ((method, path, body),) = state.writes
    assert (method, path) == ("PATCH", "/repos/acme/auth0/issues/comments/502")
    assert "`staging` failed" in body["body"]


def test_the_output_cannot_close_its_code_block_and_is_cut_to_fit(
    github: tuple[str, FakeGitHub], tmp_path: Path
) -> None:
    api, state = github
    hostile = "x" * 70_000 + "\n````\n@everyone [click](https://evil.example)\nlast line"
    assert run_comment(api, tmp_path, hostile, "success").returncode == 0
    ((_, _, body),) = state.writes
    text = body["body"]
    assert len(text) < 65_536
    assert text.endswith("last line\n`````")
    lines = text.splitlines()
    assert lines[9] == "`````diff"
    assert lines[10].startswith("(cut to its last part")


@pytest.mark.parametrize("outcome", [None, "skipped", "success\n::set-output", "pwned"])
def test_an_outcome_that_is_not_success_or_failure_says_the_preview_did_not_run(
    github: tuple[str, FakeGitHub], tmp_path: Path, outcome: str | None
) -> None:
    api, state = github
    assert run_comment(api, tmp_path, None, outcome).returncode == 0
    ((_, _, body),) = state.writes
    assert "`staging` did not run: see the job's log" in body["body"]


def test_an_impact_cut_to_fit_says_so(github: tuple[str, FakeGitHub], tmp_path: Path) -> None:
    """A change across many organizations lists more lines than the comment shows of them: the
    lines left off must not read as organizations the change leaves alone."""
    api, state = github
    lines = [f"  customer-{n:05}: 3 would join through emailDomains: c{n}.com" for n in range(200)]
    impact = "Of 9000 users, this change lets in 600:\n" + "\n".join(lines) + "\n"
    assert run_comment(api, tmp_path, "ok\n", "success", impact=impact).returncode == 0
    ((_, _, body),) = state.writes
    shown = body["body"]
    assert "customer-00000: 3 would join" in shown
    assert "customer-00199" not in shown
    assert "(cut to its first part; the impact job's log has all of it)" in shown
    state.writes.clear()
    (tmp_path / "whole").mkdir()
    assert run_comment(api, tmp_path / "whole", "ok\n", "success").returncode == 0
    ((_, _, body),) = state.writes
    assert "(cut" not in body["body"]
