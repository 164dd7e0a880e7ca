"""The GitOps pipeline: previews per stack, ordered ups, drift detection, least privilege."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from auth0_org_assignment.commands import deployed_rules, reconcile, snapshot
from auth0_org_assignment.config import load_stack_file
from devtools import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
ALL_STACKS = sorted(p.name.split(".")[1] for p in ROOT.glob("Pulumi.*.yaml"))
# The pipeline deploys every stack but the one for the local tenant (localtenant/).
STACKS = [
    s for s in ALL_STACKS if not load_stack_file(s, ROOT).tenant_domain.startswith("localhost:")
]
PULUMI_ACTION = "pulumi/actions@8e5e406f4007fca908480587cb9893c07090f58d"
PINNED = {
    "actions/checkout": ("3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "actions/setup-python": ("5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0"),
    "actions/setup-node": ("249970729cb0ef3589644e2896645e5dc5ba9c38", "v6.5.0"),
    "astral-sh/setup-uv": ("20cfd1bf945f4377ade1205e4dbc17946fc9a30d", "v10.0.1"),
    "pulumi/actions": ("8e5e406f4007fca908480587cb9893c07090f58d", "v7.0.0"),
    "actions/upload-artifact": ("ea165f8d65b6e75b540449e92b4886f43607fa02", "v4.6.2"),
    "actions/download-artifact": ("d3f86a106a0bac45b974a628896c90dbdf5c8093", "v4.3.0"),
    "aws-actions/configure-aws-credentials": ("b47578312673ae6fa5b5096b330d9fbac3d116df", "v4.2.1"),
    "google-github-actions/auth": ("ba79af03959ebeac9769e648f473a284504d9193", "v2.1.10"),
    "azure/login": ("a457da9ea143d694b1b9c7c869ebb04ebe844ef5", "v2.3.0"),
    "actions/cache": ("5a3ec84eff668545956fd18022155c47e93e2684", "v4.2.3"),
}
WORKFLOW_FILES = sorted(WORKFLOWS.glob("*.yml"))
ACTION_FILES = sorted((ROOT / ".github" / "actions").glob("*/action.yml"))


def load(name: str) -> dict[str, Any]:
    document: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    document["on"] = document.pop(True, document.get("on"))  # YAML 1.1 reads `on` as true
    return document


def steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job.get("steps", []) if s.get("uses", "").startswith(action)]


def test_the_pipeline_covers_every_stack_but_the_local_one() -> None:
    assert {"dev", "staging", "prod"} <= set(STACKS)
    assert set(ALL_STACKS) - set(STACKS) == {"local"}


def uses_secrets(job: dict[str, Any]) -> bool:
    return "${{ secrets." in yaml.safe_dump(job)


def setup_step(job: dict[str, Any]) -> dict[str, Any]:
    (step,) = [s for s in job["steps"] if s.get("uses") == "./.github/actions/setup"]
    return dict(step)


def test_tests_run_with_no_environment_and_no_secret() -> None:
    test = load("pull-request.yml")["jobs"]["test"]
    assert "environment" not in test
    assert not uses_secrets(test)
    (step,) = [s for s in test["steps"] if s.get("name") == "Test"]
    assert step["run"] == "scripts/test"
    (cache,) = [s for s in test["steps"] if s.get("name") == "Cache the engine"]
    for pinned in (
        ".pulumi-version",
        "uv.lock",
        "scripts/engine",
        "devtools/engine/auth0-provider/**",
    ):
        assert f"'{pinned}'" in cache["with"]["key"]  # a new version builds anew
    assert "scripts/test" in (ROOT / "README.md").read_text()


def test_pull_requests_preview_every_stack_after_the_tests_with_one_edited_comment() -> None:
    workflow = load("pull-request.yml")
    assert "pull_request" in workflow["on"]
    caller = workflow["jobs"]["preview"]
    assert caller["needs"] == "test"
    assert sorted(caller["strategy"]["matrix"]["stack"]) == STACKS
    assert caller["uses"] == "./.github/workflows/pulumi-preview.yml"
    assert caller["with"] == {"stack": "${{ matrix.stack }}"}
    preview_workflow = load("pulumi-preview.yml")
    assert preview_workflow["on"]["workflow_call"]["inputs"]["stack"]["required"] is True
    preview, comment = preview_workflow["jobs"]["preview"], preview_workflow["jobs"]["comment"]
    assert preview["environment"] == "${{ inputs.stack }}-preview"
    (run,) = [s for s in preview["steps"] if "pull-request-preview" in s.get("run", "")]
    assert run["run"].startswith('scripts/pull-request-preview "$STACK" --diff')
    assert "--refresh" not in run["run"]  # a refresh would need a credential
    assert run["env"]["STACK"] == "${{ inputs.stack }}"
    (upload,) = [s for s in preview["steps"] if "upload-artifact" in s.get("uses", "")]
    downloads = [s for s in comment["steps"] if "download-artifact" in s.get("uses", "")]
    assert [d["with"]["name"] for d in downloads] == [
        upload["with"]["name"],
        "impact-${{ inputs.stack }}",
    ]
    assert upload["with"]["name"] == "preview-${{ inputs.stack }}"
    assert upload["if"] == "${{ !cancelled() }}"  # a failed preview is shown too
    assert preview["outputs"]["artifact"] == "${{ steps.upload.outputs.artifact-id }}"
    assert comment["needs"] == ["preview", "impact"]
    assert comment["if"] == "${{ !cancelled() && needs.preview.outputs.artifact != '' }}"


def test_a_pull_request_shows_who_it_lets_in_with_no_credential_at_all() -> None:
    jobs = load("pulumi-preview.yml")["jobs"]
    impact, approval = jobs["impact"], jobs["approve-impact"]
    # The branch's code runs here: no environment, no secret, no variable, reads only.
    assert "environment" not in impact
    assert impact["permissions"] == {"contents": "read", "actions": "read"}
    text = yaml.safe_dump(impact)
    assert "secrets." not in text
    assert "vars." not in text
    (measure,) = [s for s in impact["steps"] if "auth0-org-assignment impact" in s.get("run", "")]
    assert "--max-admitted" in measure["run"]
    assert "population.yml" in text  # the trusted workflow's snapshot
    # Past the limit, the check waits for a maintainer (an environment with reviewers).
    assert approval["needs"] == "impact"
    assert "needs.impact.outputs.approval == 'needed'" in approval["if"]
    assert approval["environment"] == "impact-approval"
    assert approval["permissions"] == {}
    assert impact["outputs"]["approval"] == (
        "${{ steps.measure.outputs.approval || steps.snapshot.outputs.approval }}"
    )


def test_an_impact_that_cannot_measure_waits_for_a_maintainer_too() -> None:
    """The approval job skipped is a passing required check: when the impact job fails (a
    branch the reader cannot read but the CLI deploys, timeBudgetMs: 25e2 say, which YAML 1.2
    reads as 2500 and PyYAML as a string), a change letting in thousands merged with no
    approval. Anything but a measured success waits for a maintainer."""
    approval = load("pulumi-preview.yml")["jobs"]["approve-impact"]
    condition = approval["if"]
    # Without a status function GitHub adds success(): a failed impact would skip the job.
    assert condition.startswith("${{ always() && ")
    assert "needs.impact.result != 'success'" in condition
    assert "needs.impact.outputs.approval == 'needed'" in condition


def run_impact_step(step: str, cwd: Path, scratch: Path, env: dict[str, str]) -> str:
    """Run the impact job's step ``step`` (its id) as the runner's bash would, in ``cwd``;
    what it wrote to ``$GITHUB_OUTPUT``."""
    (found,) = [
        s for s in load("pulumi-preview.yml")["jobs"]["impact"]["steps"] if s.get("id") == step
    ]
    output = scratch / "github-output"
    output.write_text("")
    subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", found["run"]],
        cwd=cwd,
        env={**env, "GITHUB_OUTPUT": str(output)},
        check=True,
    )
    return output.read_text()


def test_a_pull_request_with_no_snapshot_to_measure_waits_for_a_maintainer(
    tmp_path: Path,
) -> None:
    """No population snapshot yet (a new repository, or the daily workflow failing for long):
    the change is not measured, so it waits for a maintainer as one past the limit does."""
    gh = tmp_path / "bin" / "gh"
    gh.parent.mkdir()
    gh.write_text("#!/bin/sh\n")  # gh run list finds no successful run
    gh.chmod(0o755)
    outputs = run_impact_step(
        "snapshot", tmp_path, tmp_path, {"PATH": f"{gh.parent}:/usr/bin:/bin", "STACK": "prod"}
    )
    assert outputs.splitlines() == ["found=false", "approval=needed"]
    assert "No population snapshot yet" in (tmp_path / "impact.txt").read_text()


def test_the_population_snapshot_is_taken_daily_by_a_trusted_workflow() -> None:
    workflow = load("population.yml")
    assert "schedule" in workflow["on"]
    assert "pull_request" not in workflow["on"]
    job = workflow["jobs"]["snapshot"]
    assert sorted(job["strategy"]["matrix"]["stack"]) == STACKS
    assert job["environment"] == "${{ matrix.stack }}-reconcile"
    (run,) = [s for s in job["steps"] if "auth0-org-assignment snapshot" in s.get("run", "")]
    assert run["env"]["AUTH0_SNAPSHOT_CLIENT_ID"] == "${{ secrets.AUTH0_RECONCILE_CLIENT_ID }}"
    (upload,) = [s for s in job["steps"] if "upload-artifact" in s.get("uses", "")]
    assert upload["with"]["name"] == "population-${{ matrix.stack }}"


def test_a_fork_gets_no_preview_and_is_told_why() -> None:
    jobs = load("pull-request.yml")["jobs"]
    same_repository = "github.event.pull_request.head.repo.full_name == github.repository"
    assert jobs["preview"]["if"] == same_repository
    notice = jobs["fork-notice"]
    assert notice["if"] == same_repository.replace("==", "!=")
    assert not uses_secrets(notice)
    assert "GITHUB_STEP_SUMMARY" in notice["steps"][0]["run"]


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_jobs_using_a_backend_can_log_in_with_oidc_instead_of_stored_keys(
    path: Path,
) -> None:
    backend_login = yaml.safe_load((ROOT / ".github/actions/backend-login/action.yml").read_text())
    inputs = set(backend_login["inputs"])
    for name, job in load(path.name)["jobs"].items():
        if "steps" not in job or "PULUMI_ACCESS_TOKEN" not in yaml.safe_dump(job):
            continue
        names = [step.get("name") for step in job["steps"]]
        login = names.index("Log in to the backend with OIDC")
        step = job["steps"][login]
        assert step["uses"] == "./.github/actions/backend-login"
        assert set(step["with"]) == inputs  # every backend's variables are passed
        for key, value in step["with"].items():
            assert value.startswith("${{ vars."), f"{path.name}:{name}: {key} is not a secret"
        for later in job["steps"][login + 1 :]:
            token = later.get("env", {}).get("PULUMI_ACCESS_TOKEN")
            if token:  # the stored token, or else the one the OIDC step exported
                assert token == ("${{ secrets.PULUMI_ACCESS_TOKEN || env.PULUMI_ACCESS_TOKEN }}"), (
                    f"{path.name}:{name}"
                )


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_jobs_holding_credentials_install_runtime_dependencies_only(path: Path) -> None:
    for name, job in load(path.name)["jobs"].items():
        if "steps" in job and uses_secrets(job):
            assert setup_step(job)["with"]["dev-dependencies"] == "false", f"{path.name}:{name}"
            assert job["env"]["UV_NO_DEV"] == "true", f"{path.name}:{name}"
            assert "npm " not in yaml.safe_dump(job), f"{path.name}:{name}"


def test_pull_requests_show_the_rendered_action_diff_in_the_summary() -> None:
    job = load("pull-request.yml")["jobs"]["action-code-diff"]
    (step,) = [s for s in job["steps"] if "action-code-diff" in s.get("run", "")]
    assert "$GITHUB_STEP_SUMMARY" in step["run"]
    assert step["env"]["BASE_SHA"] == "${{ github.event.pull_request.base.sha }}"
    assert (ROOT / "scripts" / "action-code-diff").stat().st_mode & 0o111


def test_push_to_main_updates_dev_then_staging_then_applies_prods_reviewed_plan() -> None:
    workflow = load("deploy.yml")
    assert workflow["on"] == {"push": {"branches": ["main"]}}
    jobs = workflow["jobs"]
    assert jobs["up-dev"]["with"]["stack"] == "dev"
    assert jobs["up-staging"]["needs"] == "up-dev"
    assert jobs["up-staging"]["with"]["stack"] == "staging"
    plan, up = jobs["plan-prod"], jobs["up-prod"]
    assert (plan["needs"], up["needs"]) == ("up-staging", "plan-prod")
    assert up["environment"] == "prod"  # required reviewers: the approval gate
    assert plan["environment"] == "prod-plan"
    saving = " ".join(s.get("run", "") for s in plan["steps"])
    assert "--save-plan prod.plan.json" in saving
    assert "GITHUB_STEP_SUMMARY" in saving
    applying = " ".join(s.get("run", "") for s in up["steps"])
    assert "pulumi up --stack prod --yes --refresh --plan prod.plan.json" in applying
    (upload,) = [s for s in plan["steps"] if "upload-artifact" in s.get("uses", "")]
    (download,) = [s for s in up["steps"] if "download-artifact" in s.get("uses", "")]
    assert upload["with"]["name"] == download["with"]["name"] == "prod-plan"
    for job in (plan, up):
        (step,) = [s for s in job["steps"] if "pulumi " in s.get("run", "")]
        assert step["env"]["PULUMI_EXPERIMENTAL"] == "true"
        assert job["concurrency"] == {"group": "pulumi-prod", "cancel-in-progress": False}


def test_each_up_runs_in_its_stacks_environment_and_concurrency_group() -> None:
    up = load("pulumi-up.yml")
    assert up["on"]["workflow_call"]["inputs"]["stack"]["required"] is True
    (job,) = up["jobs"].values()
    assert job["environment"] == "${{ inputs.stack }}"
    assert job["concurrency"] == {
        "group": "pulumi-${{ inputs.stack }}",
        "cancel-in-progress": False,
    }
    # The CLI first (the paced plugin is built with it), then the up.
    install, step = steps_using(job, PULUMI_ACTION)
    assert "command" not in install["with"]
    assert step["with"]["command"] == "up"
    assert step["with"]["stack-name"] == "${{ inputs.stack }}"


def test_drift_is_detected_daily_in_its_own_environment_and_concurrency_group() -> None:
    workflow = load("drift.yml")
    (schedule,) = workflow["on"]["schedule"]
    minute, hour, day, month, weekday = schedule["cron"].split()
    assert (day, month, weekday) == ("*", "*", "*")
    assert hour.isdigit()
    assert minute.isdigit()
    assert "workflow_dispatch" in workflow["on"]
    job = workflow["jobs"]["drift"]
    assert sorted(job["strategy"]["matrix"]["stack"]) == STACKS
    assert job["environment"] == "${{ matrix.stack }}-drift"
    # Not pulumi-<stack>: a deploy waiting for approval must neither block nor cancel it.
    assert job["concurrency"] == {"group": "drift-${{ matrix.stack }}", "cancel-in-progress": False}
    (step,) = [s for s in job["steps"] if "drift-check" in s.get("run", "")]
    assert step["run"] == 'scripts/drift-check "$STACK"'
    assert (ROOT / "scripts" / "drift-check").stat().st_mode & 0o111


def posts_comments(job: dict[str, Any]) -> bool:
    return any("/comments" in step.get("run", "") for step in job.get("steps", []))


def called_permissions(job: dict[str, Any]) -> dict[str, str]:
    """What the jobs of the reusable workflow a job calls ask for, together."""
    union: dict[str, str] = {}
    for called in load(Path(job["uses"]).name)["jobs"].values():
        for scope, level in called["permissions"].items():
            union[scope] = "write" if "write" in (level, union.get(scope)) else level
    return union


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_least_privilege(path: Path) -> None:
    workflow = load(path.name)
    assert workflow["permissions"] == {}, "no default token permissions at workflow level"
    for name, job in workflow["jobs"].items():
        where = f"{path.name}:{name}"
        permissions = job.get("permissions")
        assert isinstance(permissions, dict), f"{where} sets its own permissions"
        assert set(permissions.values()) <= {"read", "write"}
        assert permissions.get("contents", "read") == "read", where
        if "uses" in job:  # a reusable workflow: exactly what its jobs need, no more
            assert permissions == called_permissions(job), where
            continue
        assert (permissions.get("pull-requests") == "write") == posts_comments(job), where
        logs_in = "backend-login" in yaml.safe_dump(job)
        assert (permissions.get("id-token") == "write") == logs_in, where


def pull_request_jobs() -> list[tuple[str, dict[str, Any]]]:
    """Every job a pull request starts, those of the reusable workflows it calls included."""
    jobs = []
    for name, job in load("pull-request.yml")["jobs"].items():
        if "uses" in job:
            called = Path(job["uses"]).name
            jobs += [(f"{called}:{n}", j) for n, j in load(called)["jobs"].items()]
        else:
            jobs.append((f"pull-request.yml:{name}", job))
    return jobs


def runs_branch_code(job: dict[str, Any]) -> bool:
    """Checks the branch out, or runs an action or script from the checkout."""
    return any(
        step.get("uses", "").startswith(("actions/checkout@", "./"))
        or "scripts/" in step.get("run", "")
        for step in job.get("steps", [])
    )


def test_no_job_that_runs_the_pull_requests_code_can_write_to_the_pull_request() -> None:
    jobs = pull_request_jobs()
    writers = [name for name, job in jobs if job["permissions"].get("pull-requests") == "write"]
    assert writers == ["pulumi-preview.yml:comment"]
    for name, job in jobs:
        if runs_branch_code(job):
            assert job["permissions"].get("pull-requests") is None, name
            assert "write" not in {v for k, v in job["permissions"].items() if k != "id-token"}
    (comment,) = [job for name, job in jobs if name == "pulumi-preview.yml:comment"]
    assert not runs_branch_code(comment)
    assert "environment" not in comment
    assert [s.get("uses", "").split("@")[0] for s in comment["steps"]] == [
        "actions/download-artifact",
        "actions/download-artifact",
        "",
    ]
    assert comment["steps"][2]["shell"] == "python3 {0}"  # runs only the text in this file


def test_a_pull_requests_jobs_hold_no_credential_but_the_previews() -> None:
    # Whatever a pull request starts runs a branch's code or reads its output: the only
    # environment it may name is its stack's <stack>-preview, which holds the state's access
    # and key, and no Auth0 credential (scripts/pull-request-preview; with the real engine,
    # tests/test_preview_lifecycle.py). Never a deploy, drift, plan or reconcile one.
    previews = {f"{stack}-preview" for stack in STACKS}
    named = {}
    for name, job in pull_request_jobs():
        if "environment" in job:
            named[name] = environment_names(job["environment"])
        elif "steps" in job:
            assert not uses_secrets(job), name
    assert named.pop("pulumi-preview.yml:approve-impact") == {"impact-approval"}
    assert named == {"pulumi-preview.yml:preview": previews}
    (preview,) = [job for name, job in pull_request_jobs() if name == "pulumi-preview.yml:preview"]
    secrets = set(re.findall(r"\$\{\{ secrets\.(\w+)", yaml.safe_dump(preview)))
    assert secrets == {"PULUMI_ACCESS_TOKEN", "PULUMI_CONFIG_PASSPHRASE"}
    runs = [step.get("run", "") for step in preview["steps"]]
    assert [run for run in runs if "pulumi preview" in run] == []
    assert [run for run in runs if run.startswith("scripts/pull-request-preview ")]
    # The approval job holds no secret and runs nothing from the branch.
    (approval,) = [j for n, j in pull_request_jobs() if n == "pulumi-preview.yml:approve-impact"]
    assert not uses_secrets(approval)
    assert not runs_branch_code(approval)


def test_the_branch_code_check_sees_a_checkout_and_local_code() -> None:
    assert runs_branch_code({"steps": [{"uses": "actions/checkout@x"}]})
    assert runs_branch_code({"steps": [{"uses": "./.github/actions/setup"}]})
    assert runs_branch_code({"steps": [{"run": "scripts/test"}]})
    assert not runs_branch_code({"steps": [{"uses": "actions/download-artifact@x"}]})


ENVIRONMENTS = {
    *(f"{stack}{suffix}" for stack in STACKS for suffix in ("", "-preview", "-drift")),
    "prod-plan",
}
"""The environments whose jobs use the Pulumi backend, each with a backend identity."""
RECONCILE_ENVIRONMENTS = {f"{stack}-reconcile" for stack in STACKS}
"""Reconcile's: Auth0 credentials only, no backend."""
GITHUB_ENVIRONMENTS = ENVIRONMENTS | RECONCILE_ENVIRONMENTS


def environment_names(environment: str) -> set[str]:
    """The GitHub environments a job's `environment:` can name (matrix and inputs expanded)."""
    for parameter in ("${{ matrix.stack }}", "${{ inputs.stack }}"):
        if environment.startswith(parameter):
            return {stack + environment.removeprefix(parameter) for stack in STACKS}
    return {environment}


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_every_job_that_reads_variables_or_secrets_has_an_environment(path: Path) -> None:
    # Backend, cloud and Auth0 credentials live in environments only (docs/cloud-iam.md): a job
    # without one, like the tests of a pull request, can reach none of them, and each cloud
    # trusts only repo:OWNER/REPO:environment:<name> subjects.
    for name, job in load(path.name)["jobs"].items():
        if "steps" not in job:
            continue
        text = yaml.safe_dump(job)
        if "${{ vars." in text or "${{ secrets." in text:
            assert "environment" in job, f"{path.name}:{name} reads credentials without one"
            assert environment_names(job["environment"]) <= GITHUB_ENVIRONMENTS, (
                f"{path.name}:{name}"
            )


def test_environment_expressions_expand_to_each_stacks_environment() -> None:
    assert environment_names("${{ inputs.stack }}-preview") == {
        "dev-preview",
        "staging-preview",
        "prod-preview",
    }
    assert environment_names("prod-plan") == {"prod-plan"}


@pytest.mark.parametrize("path", WORKFLOW_FILES + ACTION_FILES, ids=lambda p: p.name)
def test_third_party_actions_are_pinned_to_full_shas(path: Path) -> None:
    for line in path.read_text().splitlines():
        match = re.search(r"uses:\s*([^\s@#]+)@(\S+)(?:\s*#\s*(\S+))?", line)
        if not match:
            continue
        action, ref, comment = match.groups()
        assert action in PINNED, f"{path.name}: {action} is not an approved action"
        assert (ref, comment) == PINNED[action], f"{path.name}: {line.strip()}"


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_pulumi_cli_version_comes_from_the_version_file(path: Path) -> None:
    for job in load(path.name)["jobs"].values():
        for step in steps_using(job, PULUMI_ACTION):
            assert step["with"]["pulumi-version-file"] == ".pulumi-version"
            if "command" in step["with"]:
                assert step["with"]["cloud-url"] == "${{ vars.PULUMI_BACKEND_URL }}"
            else:  # only installs the CLI: the steps that run it log in through the variable
                runs = [s for s in job["steps"] if "PULUMI_CONFIG_PASSPHRASE" in s.get("env", {})]
                assert runs
                for run in runs:
                    if "command" in run.get("with", {}):  # the action runs it: cloud-url
                        continue
                    assert run["env"]["PULUMI_BACKEND_URL"] == "${{ vars.PULUMI_BACKEND_URL }}"
    assert re.fullmatch(r"\d+\.\d+\.\d+\n", (ROOT / ".pulumi-version").read_text())


@pytest.mark.parametrize("path", WORKFLOW_FILES + ACTION_FILES, ids=lambda p: p.name)
def test_no_secret_or_expression_is_interpolated_into_a_shell_script(path: Path) -> None:
    document = yaml.safe_load(path.read_text())
    jobs = document.get("jobs") or {"composite": document["runs"]}
    for job in jobs.values():
        for step in job.get("steps", []):
            assert "${{" not in step.get("run", ""), f"{path.name}: pass values through env"


# `|` that is not `||`: a pipeline, whose status without pipefail is only its last command's.
PIPE = re.compile(r"(?<!\|)\|(?!\|)")


def all_steps(path: Path) -> list[tuple[str, dict[str, Any], str | None]]:
    """(where, step, default shell) for every step of a workflow or composite action."""
    document = yaml.safe_load(path.read_text())
    if "runs" in document:
        return [(f"{path.parent.name}/{path.name}", s, None) for s in document["runs"]["steps"]]
    top = document.get("defaults", {}).get("run", {}).get("shell")
    return [
        (f"{path.name}:{name}", step, job.get("defaults", {}).get("run", {}).get("shell", top))
        for name, job in document["jobs"].items()
        for step in job.get("steps", [])
    ]


@pytest.mark.parametrize("path", WORKFLOW_FILES + ACTION_FILES, ids=lambda p: p.name)
def test_a_pipeline_fails_its_step_when_any_command_in_it_fails(path: Path) -> None:
    # Unspecified, GitHub runs `bash -e {0}`; `shell: bash` runs `bash --noprofile --norc -eo
    # pipefail {0}` (docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax,
    # jobs.<job_id>.steps[*].shell), so `pulumi preview | tee` fails when the preview does.
    for where, step, default in all_steps(path):
        if PIPE.search(step.get("run", "")):
            assert step.get("shell", default) == "bash", f"{where}: {step.get('name')}"


def test_the_pipeline_check_sees_pipes_and_only_pipes() -> None:
    assert PIPE.search("pulumi preview | tee preview.txt")
    assert not PIPE.search('test -n "$A" || exit 1')


@pytest.mark.parametrize("path", WORKFLOW_FILES + ACTION_FILES, ids=lambda p: p.name)
def test_an_upload_with_nothing_to_upload_fails(path: Path) -> None:
    uploads = [
        (where, step)
        for where, step, _ in all_steps(path)
        if step.get("uses", "").startswith("actions/upload-artifact@")
    ]
    for where, step in uploads:
        assert step["with"].get("if-no-files-found") == "error", where


@pytest.fixture
def diff_repo(tmp_path: Path) -> Path:
    """A git repository with the program and the deployed stacks, committed as the base."""
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in ("infra", "auth0_org_assignment", "scripts", "action_templates"):
        shutil.copytree(ROOT / name, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
    for stack in STACKS:
        shutil.copy(ROOT / f"Pulumi.{stack}.yaml", repo / f"Pulumi.{stack}.yaml")
    (repo / "node_modules").symlink_to(ROOT / "node_modules")  # esbuild, as scripts/setup installs
    (repo / ".gitignore").write_text("node_modules\n")
    for args in (
        ("init", "-q"),
        ("add", "-A"),
        ("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base"),
    ):
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)
    return repo


def action_code_diff(repo: Path) -> str:
    result = subprocess.run(
        ["scripts/action-code-diff", "HEAD"],
        cwd=repo,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "PYTHON": sys.executable},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.slow
def test_action_code_diff_shows_a_changed_stack_as_a_javascript_diff(diff_repo: Path) -> None:
    stack_file = diff_repo / "Pulumi.staging.yaml"
    stack_file.write_text(stack_file.read_text().replace("- google-oauth2", "- github"))
    summary = action_code_diff(diff_repo)
    assert "### `dev`: no change" in summary
    assert "### `prod`: no change" in summary
    assert "### `staging`\n\n```diff\n--- base/staging.js\n+++ branch/staging.js" in summary
    # The packed block names each connection once: renaming one is a one-line diff there.
    removed = [line for line in summary.splitlines() if line.startswith('-  "connections"')]
    added = [line for line in summary.splitlines() if line.startswith('+  "connections"')]
    assert len(removed) == len(added) == 1
    assert '["Username-Password-Authentication", "google-oauth2"]' in removed[0]
    assert '["Username-Password-Authentication", "github"]' in added[0]


@pytest.mark.slow
def test_action_code_diff_reports_a_broken_stack_and_still_diffs_the_others(
    diff_repo: Path,
) -> None:
    (diff_repo / "Pulumi.dev.yaml").write_text("config:\n  auth0:domain: [broken\n")
    (diff_repo / "Pulumi.eu.yaml").write_text(
        (diff_repo / "Pulumi.staging.yaml").read_text().replace("acme-staging", "acme-eu")
    )
    stack_file = diff_repo / "Pulumi.prod.yaml"
    stack_file.write_text(
        stack_file.read_text().replace("timeBudgetMs: 2500", "timeBudgetMs: 2000")
    )
    summary = action_code_diff(diff_repo)
    assert "### `dev`: does not render on this branch" in summary
    assert "YAML syntax error" in summary
    assert "### `eu` (new stack)" in summary
    assert '+    "timeBudgetMs": 2000' in summary
    assert "### `staging`: no change" in summary


def test_backend_login_runs_each_clouds_login_only_when_its_variable_is_set() -> None:
    action = yaml.safe_load((ROOT / ".github/actions/backend-login/action.yml").read_text())
    steps = {step["name"]: step for step in action["runs"]["steps"]}
    assert steps["Pulumi Cloud"]["if"] == "inputs.pulumi-organization != ''"
    assert steps["Pulumi Cloud"]["run"] == 'scripts/pulumi-cloud-oidc "$ORGANIZATION" "$SCOPE"'
    assert steps["Pulumi Cloud"]["env"]["SCOPE"] == "${{ inputs.pulumi-token-scope }}"
    assert steps["AWS"]["if"] == "inputs.aws-role-arn != ''"
    assert steps["Google Cloud"]["if"] == "inputs.gcp-workload-identity-provider != ''"
    assert steps["Azure"]["if"] == "inputs.azure-client-id != ''"


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_every_pulumi_cloud_token_is_scoped_to_the_jobs_environment(path: Path) -> None:
    # scripts/pulumi-cloud-oidc refuses anything but team:/user: (tests/test_pulumi_cloud_oidc.py);
    # the scope, like the organization, is a variable of the job's environment.
    for where, step, _ in all_steps(path):
        if step.get("uses") == "./.github/actions/backend-login":
            assert step["with"]["pulumi-token-scope"] == "${{ vars.PULUMI_OIDC_SCOPE }}", where


def test_reconcile_runs_daily_as_a_dry_run_in_its_own_environment_without_a_backend() -> None:
    workflow = load("reconcile.yml")
    assert "schedule" in workflow["on"]
    assert "workflow_dispatch" in workflow["on"]
    job = workflow["jobs"]["reconcile"]
    assert sorted(job["strategy"]["matrix"]["stack"]) == STACKS
    assert job["environment"] == "${{ matrix.stack }}-reconcile"
    assert job["concurrency"] == {
        "group": "reconcile-${{ matrix.stack }}",
        "cancel-in-progress": False,
    }
    assert job["permissions"] == {"contents": "read"}
    assert not steps_using(job, "./.github/actions/backend-login")
    (step,) = [s for s in job["steps"] if "reconcile-check" in s.get("run", "")]
    assert step["run"] == 'scripts/reconcile-check "$STACK"'
    assert step["env"]["RECONCILE_REMOVE"] == "${{ vars.RECONCILE_REMOVE }}"
    assert set(step["env"]) >= {"AUTH0_RECONCILE_CLIENT_ID", "AUTH0_RECONCILE_CLIENT_SECRET"}


NOT_HELD_WARNING = reconcile._undeployed_line(load_stack_file("dev", ROOT), "acme")
"""The command's own warning for an organization no bound Action holds: the check picks it out
by its wording, so the two must agree."""


def reconcile_check(
    tmp_path: Path, command: str, remove: str
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """scripts/reconcile-check on stack dev, the reconcile command standing in as the shell
    script ``command``, ``RECONCILE_REMOVE`` set to ``remove``: its run and summary file."""
    stand_in = tmp_path / "python"
    stand_in.write_text("#!/bin/sh\n" + command)
    stand_in.chmod(0o755)
    summary = tmp_path / "summary.md"
    result = subprocess.run(
        [str(ROOT / "scripts" / "reconcile-check"), "dev"],
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHON": str(stand_in),
            "RECONCILE_REMOVE": remove,
            "GITHUB_STEP_SUMMARY": str(summary),
        },
        capture_output=True,
        text=True,
    )
    return result, summary


@pytest.mark.parametrize(
    ("remove", "status", "verdict", "heading"),
    [
        ("", 0, 0, "every member still matches"),
        ("", 3, 1, "members would leave"),
        ("", 2, 1, "could not run"),
        ("true", 0, 0, "done"),
        ("true", 1, 1, "could not run"),
    ],
)
def test_the_reconcile_check_fails_when_someone_would_leave(
    tmp_path: Path, remove: str, status: int, verdict: int, heading: str
) -> None:
    result, summary = reconcile_check(
        tmp_path,
        f'echo "$@" > {tmp_path}/args\n'
        "echo 'would remove auth0|1 from acme: the email is not verified'\n"
        "echo 'auth0|2 stands in acme only through an email domain that is not proven: kept'\n"
        f"exit {status}\n",
        remove,
    )
    assert result.returncode == verdict
    assert f"## Reconcile `dev`: {heading}" in summary.read_text()
    if heading in ("members would leave", "done"):
        assert "auth0|2 stands in acme only through" in summary.read_text()
    dry_run = "--dry-run" in (tmp_path / "args").read_text()
    assert dry_run is (remove != "true")


@pytest.mark.parametrize("remove", ["", "true"])
def test_the_reconcile_check_fails_when_an_organization_was_not_judged(
    tmp_path: Path, remove: str
) -> None:
    """A run that left an organization alone because no bound Action holds its rule (a deploy
    did not finish, the Action was unbound) exits with the status for it: the check is red and
    names it, and the members another organization loses."""
    warning = NOT_HELD_WARNING
    removal = ("removing" if remove else "would remove") + " auth0|1 from globex: blocked"
    result, summary = reconcile_check(
        tmp_path,
        f'echo "{warning}" >&2\necho "{removal}"\nexit {deployed_rules.NOT_HELD}\n',
        remove,
    )
    assert result.returncode == 1
    written = summary.read_text()
    assert "## Reconcile `dev`: organizations not judged" in written
    assert warning in written
    assert removal in written


@pytest.mark.parametrize("name", ["deploy.yml", "pulumi-up.yml", "pulumi-preview.yml", "drift.yml"])
def test_every_job_that_runs_pulumi_on_a_tenant_uses_the_paced_plugin(name: str) -> None:
    """Pulumi's downloaded auth0 plugin does not pace a deploy's Management API requests
    (docs/scale.md): each job that runs pulumi against a tenant builds or restores ours, after
    installing the CLI and before the first pulumi command."""
    for job in load(name)["jobs"].values():
        steps = job.get("steps", [])
        uses = [step.get("uses", "") for step in steps]
        pulumi = [i for i, step in enumerate(steps) if "AUTH0_CLIENT_ID" in step.get("env", {})]
        if not pulumi:
            continue
        assert "./.github/actions/paced-plugin" in uses, job
        paced = uses.index("./.github/actions/paced-plugin")
        install = next(i for i, u in enumerate(uses) if u.startswith(PULUMI_ACTION))
        assert install < paced < min(pulumi)


def _refreshes(step: dict[str, Any]) -> bool:
    """Whether a step's pulumi command reads every resource from the tenant: ``--refresh``, a
    ``pulumi refresh``, or a script of this repository that runs one."""
    text = step.get("run", "") + " " + " ".join(map(str, step.get("with", {}).values()))
    for script in re.findall(r"scripts/[\w-]+", text):
        text += (ROOT / script).read_text()
    return bool(re.search(r"--refresh\b|pulumi refresh\b", text)) or (
        step.get("with", {}).get("command") == "refresh"
    )


@pytest.mark.parametrize("name", ["deploy.yml", "pulumi-up.yml", "pulumi-preview.yml", "drift.yml"])
def test_a_job_that_refreshes_runs_fewer_operations_at_once(name: str) -> None:
    """A refresh reads every resource, and waits in the tenant's read buckets too (the slowest
    on Enterprise, "Read Organization Connections"): the paced plugin's action is told, so the
    job's PULUMI_PARALLEL still lets the last read start within the provider's timeout
    (docs/scale.md, Operations in flight)."""
    for job in load(name)["jobs"].values():
        steps = job.get("steps", [])
        pulumi = [step for step in steps if "AUTH0_CLIENT_ID" in step.get("env", {})]
        if not pulumi:
            continue
        paced = next(s for s in steps if s.get("uses") == "./.github/actions/paced-plugin")
        refreshes = any(_refreshes(step) for step in pulumi)
        assert paced["with"].get("refresh", "false") == ("true" if refreshes else "false"), job


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_every_pulumi_step_writes_a_bucket_backends_state_compressed(path: Path) -> None:
    """A bucket backend's state is written whole after each step of a deploy; compressed
    (Pulumi's PULUMI_DIY_BACKEND_ZSTD), each write is a thirtieth of the bytes at 1,000
    organizations (docs/scale.md, The state backend). Readers find either form, so the steps
    that only read it (previews) set it too: one rule for every step that logs in."""
    steps = [s for job in load(path.name)["jobs"].values() for s in job.get("steps", [])]
    for step in steps:
        if "PULUMI_ACCESS_TOKEN" in step.get("env", {}):
            assert step["env"].get("PULUMI_DIY_BACKEND_ZSTD") == "true", (path.name, step["name"])


@pytest.mark.parametrize("name", ["deploy.yml", "pulumi-up.yml", "pulumi-preview.yml", "drift.yml"])
def test_every_pulumi_job_runs_as_many_operations_at_once_as_its_tier_and_share_allow(
    name: str,
) -> None:
    """The paced plugin's action gives PULUMI_PARALLEL (docs/scale.md, Operations in flight)
    for the same tier and share the job's pulumi commands pace with, as an output the pulumi
    steps read (not written to the job's environment file, which later steps would trust)."""
    for job in load(name)["jobs"].values():
        steps = job.get("steps", [])
        pulumi = [step for step in steps if "AUTH0_CLIENT_ID" in step.get("env", {})]
        if not pulumi:
            continue
        uses = [step.get("uses", "") for step in steps]
        paced = steps[uses.index("./.github/actions/paced-plugin")]
        assert uses.index("./.github/actions/setup") < uses.index(
            "./.github/actions/paced-plugin"
        ), "the action runs the project's Python"
        for step in pulumi:
            env = step["env"]
            assert paced["with"]["rate-limit-tier"] == env["AUTH0_RATE_LIMIT_TIER"]
            assert paced["with"]["rate-limit-share"] == env["AUTH0_RATE_LIMIT_SHARE"]
            assert env["PULUMI_PARALLEL"] == f"${{{{ steps.{paced['id']}.outputs.parallel }}}}"
    action = yaml.safe_load((ROOT / ".github/actions/paced-plugin/action.yml").read_text())
    (setting,) = [
        s for s in action["runs"]["steps"] if "print_deploy_parallelism" in s.get("run", "")
    ]
    assert action["outputs"]["parallel"]["value"] == (
        f"${{{{ steps.{setting['id']}.outputs.parallel }}}}"
    )
    assert '>> "$GITHUB_OUTPUT"' in setting["run"]
    assert "GITHUB_ENV" not in setting["run"]
    assert setting["env"] == {
        "AUTH0_RATE_LIMIT_TIER": "${{ inputs.rate-limit-tier }}",
        "AUTH0_RATE_LIMIT_SHARE": "${{ inputs.rate-limit-share }}",
        "REFRESH": "${{ inputs.refresh }}",
    }


def test_the_reconcile_check_names_the_organizations_a_resumed_plan_left_alone(
    tmp_path: Path,
) -> None:
    """A resumed plan's exit 4, with its own wording: the summary names acme."""
    warning = reconcile._left_alone_line("acme")
    result, summary = reconcile_check(
        tmp_path,
        'echo "resuming the run that stopped after 0 of 0 users"\n'
        f'echo "{warning}" >&2\nexit {deployed_rules.NOT_HELD}\n',
        "true",
    )
    assert result.returncode == 1
    written = summary.read_text()
    assert "## Reconcile `dev`: organizations not judged" in written
    assert warning in written, written


def test_a_dry_run_with_leavers_still_names_the_organizations_not_judged(
    tmp_path: Path,
) -> None:
    """Exit 3 (globex's members would leave) while no Action holds acme's rule: the summary
    says acme was not judged too."""
    warning = NOT_HELD_WARNING
    result, summary = reconcile_check(
        tmp_path,
        f'echo "{warning}" >&2\necho "would remove auth0|1 from globex: blocked"\nexit 3\n',
        "",
    )
    assert result.returncode == 1
    written = summary.read_text()
    assert "members would leave" in written
    assert "Some organizations were not judged" in written
    assert warning in written, written


def test_the_impact_job_measures_a_data_file_change_against_the_deployed_data_file(
    tmp_path: Path,
) -> None:
    """A stack whose organizations are in an organizationsFile: the base stack file names the
    same path, which must be read as the base commit holds it, not as the branch does (else a
    change to the data file alone measures the branch against itself: 0 let in, no approval)."""
    repository = tmp_path / "repository"
    repository.mkdir()

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
            cwd=repository,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()

    header = "name,displayName,connections,emailDomains\n"
    (repository / "Pulumi.yaml").write_text("name: auth0-org-assignment\n")
    (repository / "Pulumi.prod.yaml").write_text(
        "config:\n  auth0:domain: acme.eu.auth0.com\n"
        "  auth0-org-assignment:organizationsFile: orgs.csv\n"
    )
    (repository / "orgs.csv").write_text(header + "acme,Acme,db,acme.com\n")
    git("init", "--quiet", "--initial-branch=main", ".")
    git("add", "--all")
    git("commit", "--quiet", "--message=deployed")
    base_sha = git("rev-parse", "HEAD")
    (repository / "orgs.csv").write_text(header + "acme,Acme,db,acme.com globex.com\n")
    git("commit", "--quiet", "--all", "--message=the pull request")
    # What the job's earlier steps leave: the virtual environment and the snapshot.
    command = repository / ".venv" / "bin" / "auth0-org-assignment"
    command.parent.mkdir(parents=True)
    command.write_text(
        f'#!/bin/sh\nPYTHONPATH="{ROOT}" exec "{sys.executable}" '
        '-m auth0_org_assignment.commands "$@"\n'
    )
    command.chmod(0o755)
    salt = "0" * 32
    population = snapshot.Population(
        format=snapshot.FORMAT,
        tenant="a-b.auth0.com",
        taken_at="2026-12-07T00:00:00+00:00",
        salt=salt,
        organizations={"acme": "org_acme"},
        population=[
            snapshot.Shape(
                identities=[
                    snapshot.Identity(
                        connection="db",
                        strategy="auth0",
                        domain_digests=snapshot.domain_digests(salt, "globex.com"),
                        verified=True,
                    )
                ],
                blocked=False,
                marked=[],
                pending=[],
                count=500,
            )
        ],
    )
    (repository / "population").mkdir()
    (repository / "population" / "population-prod.json").write_text(population.model_dump_json())
    outputs = run_impact_step(
        "measure",
        repository,
        tmp_path,
        {
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "BASE_SHA": base_sha,
            "STACK": "prod",
            "MAX_ADMITTED": "100",
        },
    )
    assert "this change lets in 500" in (repository / "impact.txt").read_text()
    assert "approval=needed" in outputs


def test_the_prod_preview_restores_nothing_an_earlier_push_could_have_cached() -> None:
    """Every job of a pull request shares one Actions cache scope, its merge ref, across all its
    pushes: an earlier push's tests (code no longer in the diff) can save a plugin and Go modules
    of their own under the key the preview restores. prod-preview runs, with prod's state and
    key, only once a maintainer approves the code they read, so it builds the plugin instead."""
    action = yaml.safe_load((ROOT / ".github/actions/paced-plugin/action.yml").read_text())
    (cache,) = [s for s in action["runs"]["steps"] if s.get("uses", "").startswith("actions/cache")]
    assert cache["if"] == "inputs.cache == 'true'"
    assert action["inputs"]["cache"]["default"] == "true"
    preview = load("pulumi-preview.yml")["jobs"]["preview"]
    (paced,) = steps_using(preview, "./.github/actions/paced-plugin")
    assert paced["with"]["cache"] == "${{ inputs.stack != 'prod' }}"
