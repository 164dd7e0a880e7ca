"""The documentation's per-environment setup commands (docs/recipes/, which the Clouds' IAM
recipes page includes), run against stand-in CLIs (aws, gcloud, az, gh,
curl) that record every call: each identity trusts only its own environment's OIDC subject,
previews and checks only read their own stack's state, and only their own stack's key."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from devtools import ROOT
from tests.test_gitops import (
    ENVIRONMENTS,
    GITHUB_ENVIRONMENTS,
    RECONCILE_ENVIRONMENTS,
    WORKFLOW_FILES,
    environment_names,
    load,
)

# Each test runs several processes against a tenant (or cloud CLIs' stand-ins).
pytestmark = pytest.mark.slow

RECIPES = ROOT / "docs" / "recipes"
GITOPS = "\n".join(
    path.read_text(encoding="utf-8")
    for path in [ROOT / "docs" / "gitops.md", ROOT / "docs" / "cloud-iam.md", *RECIPES.glob("*.sh")]
)
"""Everything the documentation says about the pipeline's setup, the recipes included."""
REPO = "OWNER/REPO"
DEPLOYS = {"dev", "staging", "prod"}

# Each stand-in logs {"cmd", "args", "files"} (the contents of file:// arguments) and answers
# the few lookups the commands read back.
STUB = f"""#!{sys.executable}
import json, os, pathlib, sys

cmd, args = pathlib.Path(sys.argv[0]).name, sys.argv[1:]
files = {{a[7:]: pathlib.Path(a[7:]).read_text() for a in args if a.startswith("file://")}}
def after(flag):
    return args[args.index(flag) + 1] if flag in args else ""
stdin = sys.stdin.read() if after("--input") == "-" else None
with open(os.environ["LOG"], "a") as log:
    log.write(json.dumps({{"cmd": cmd, "args": args, "files": files, "stdin": stdin}}) + "\\n")
line = " ".join([cmd, *args])
if line.startswith("aws kms describe-key"):
    print("arn:aws:kms:eu-west-1:123456789012:key/for-" + after("--key-id"))
elif line.startswith("aws kms create-key"):
    print("new-key-id")
elif line.startswith("gcloud projects describe"):
    print("424242")
elif line.startswith("az account show"):
    print({{"tenantId": "tenant-id", "id": "subscription-id"}}[after("--query")])
elif line.startswith("az storage account show"):
    print("/subscriptions/s/resourceGroups/pulumi/providers/Microsoft.Storage/storageAccounts/acmepulumi")
elif line.startswith("az keyvault show"):
    print("/subscriptions/s/resourceGroups/pulumi/providers/Microsoft.KeyVault/vaults/acme-pulumi")
elif line.startswith("az ad app create"):
    print("app-" + after("--display-name"))
elif cmd == "curl":
    url = [a for a in args if a.startswith("https://")][0]
    if url.endswith("/oidc/issuers"):
        print(json.dumps({{"id": "issuer-1"}}))
    elif "/auth/policies/oidcissuers/" in url:
        print(json.dumps({{"id": "policy-1", "policies": []}}))
"""


def shell_blocks() -> list[str]:
    return [path.read_text(encoding="utf-8") for path in sorted(RECIPES.glob("*.sh"))]


def block(title: str) -> str:
    (found,) = [b for b in shell_blocks() if b.startswith(f"# {title}")]
    return found


def run_block(tmp_path: Path, title: str) -> list[dict[str, Any]]:
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    for name in ("aws", "gcloud", "az", "gh", "curl"):
        (stubs / name).write_text(STUB)
        (stubs / name).chmod(0o755)
    (prologue,) = [b for b in shell_blocks() if b.startswith("repo=")]
    script = prologue.replace("OWNER/REPO", REPO) + block(title).replace("REVIEWER_ID", "4242")
    log = tmp_path / "calls.jsonl"
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=tmp_path,
        env={
            "PATH": f"{stubs}:/usr/bin:/bin",
            "LOG": str(log),
            "PULUMI_ACCESS_TOKEN": "admin-token",
        },
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in log.read_text().splitlines()]


def calls(log: list[dict[str, Any]], *prefix: str) -> list[dict[str, Any]]:
    return [c for c in log if [c["cmd"], *c["args"]][: len(prefix)] == list(prefix)]


def flag(call: dict[str, Any], name: str) -> str:
    args: list[str] = call["args"]
    for arg in args:
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return args[args.index(name) + 1]


def variables(log: list[dict[str, Any]], name: str) -> dict[str, str]:
    return {flag(c, "--env"): flag(c, "--body") for c in calls(log, "gh", "variable", "set", name)}


def url(call: dict[str, Any]) -> str:
    args: list[str] = call["args"]
    return next(a for a in args if a.startswith("https://"))


def subject(env: str) -> str:
    return f"repo:{REPO}:environment:{env}"


def test_the_setup_names_every_environment_the_workflows_use() -> None:
    (prologue,) = [b for b in shell_blocks() if b.startswith("repo=")]
    (envs,) = re.findall(r'^envs="([^"]+)"$', prologue, re.MULTILINE)
    assert set(envs.split()) == ENVIRONMENTS
    assert len(envs.split()) == len(ENVIRONMENTS)


def test_every_oidc_subject_in_the_setup_names_an_environment() -> None:
    subjects = re.findall(r"repo:[^\s\"'`),]+", GITOPS)
    assert len(subjects) >= 5
    for found in subjects:
        assert ":environment:" in found, found
        assert "*" not in found
        assert ":ref:" not in found
        assert "pull_request" not in found


def test_github_environments_keep_deploys_to_main_and_prod_behind_reviewers(
    tmp_path: Path,
) -> None:
    log = run_block(tmp_path, "GitHub:")
    settings = environment_settings(log)
    assert set(settings) == GITHUB_ENVIRONMENTS | APPROVALS
    main_only = {c["args"][3].split("/")[4] for c in calls(log, "gh", "api", "-X", "POST")}
    # What a pull request's jobs may use: its previews, and the impact's approval.
    for_pull_requests = {"dev-preview", "staging-preview", "prod-preview", *APPROVALS}
    assert main_only == GITHUB_ENVIRONMENTS - for_pull_requests
    assert main_only >= RECONCILE_ENVIRONMENTS
    for env, setting in settings.items():
        reviewed = setting.get("reviewers") == [{"type": "User", "id": 4242}]
        assert reviewed == (env in {"prod", "prod-preview", *APPROVALS}), env
        assert setting.get("prevent_self_review", False) == reviewed
        assert ("deployment_branch_policy" in setting) == (env not in for_pull_requests), env


APPROVALS = {"impact-approval"}
"""Environments that hold nothing and only make a job wait for a maintainer."""


def environment_settings(log: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each environment the setup creates (``PUT .../environments/NAME``), with its settings."""
    return {
        c["args"][3].rsplit("/", 1)[1]: json.loads(c["stdin"])
        for c in calls(log, "gh", "api", "-X", "PUT")
        if "/environments/" in c["args"][3]
    }


def test_the_setup_creates_every_environment_a_workflow_names(tmp_path: Path) -> None:
    # GitHub creates an environment a job names that does not exist, with no protection rule:
    # one the setup leaves out (impact-approval was) lets its job through unreviewed.
    named = {
        env
        for path in WORKFLOW_FILES
        for job in load(path.name)["jobs"].values()
        if "environment" in job
        for env in environment_names(job["environment"])
    }
    assert named <= set(environment_settings(run_block(tmp_path, "GitHub:")))


def test_main_takes_only_reviewed_pull_requests_which_no_workflow_can_approve(
    tmp_path: Path,
) -> None:
    # The deploy environments trust `main` alone, so whoever can change `main` holds the
    # deployer (update:client_keys, read:client_keys): without a protected main, any branch
    # author could push there; with GitHub Actions allowed to approve pull requests, a branch's
    # own pull_request workflow could approve it (GITHUB_TOKEN, pull-requests: write).
    log = run_block(tmp_path, "GitHub:")
    puts = {c["args"][3]: json.loads(c["stdin"]) for c in calls(log, "gh", "api", "-X", "PUT")}
    protection = puts[f"repos/{REPO}/branches/main/protection"]
    reviews = protection["required_pull_request_reviews"]
    assert reviews["required_approving_review_count"] >= 1
    assert reviews["dismiss_stale_reviews"] is True
    assert reviews["require_last_push_approval"] is True
    assert protection["enforce_admins"] is True
    assert protection["allow_force_pushes"] is False
    assert protection["allow_deletions"] is False
    workflow = puts[f"repos/{REPO}/actions/permissions/workflow"]
    assert workflow == {
        "default_workflow_permissions": "read",
        "can_approve_pull_request_reviews": False,
    }


def test_aws_roles_trust_one_environment_and_previews_only_read_their_stack(
    tmp_path: Path,
) -> None:
    log = run_block(tmp_path, "AWS:")
    roles = {flag(c, "--role-name"): c for c in calls(log, "aws", "iam", "create-role")}
    policies = {flag(c, "--role-name"): c for c in calls(log, "aws", "iam", "put-role-policy")}
    assert set(roles) == set(policies) == {f"auth0-{env}" for env in ENVIRONMENTS}
    for env in ENVIRONMENTS:
        stack = env.split("-")[0]
        (trust,) = roles[f"auth0-{env}"]["files"].values()
        (statement,) = json.loads(trust)["Statement"]
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert statement["Condition"] == {
            "StringEquals": {
                "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                "token.actions.githubusercontent.com:sub": subject(env),
            }
        }
        (access,) = policies[f"auth0-{env}"]["files"].values()
        grants = json.loads(access)["Statement"]
        actions = {
            a
            for g in grants
            for a in ([g["Action"]] if isinstance(g["Action"], str) else g["Action"])
        }
        resources = {g["Resource"] for g in grants}
        writes = {"s3:PutObject", "s3:DeleteObject"}
        assert (writes <= actions) == (env in DEPLOYS), env
        assert actions - writes == {"s3:ListBucket", "s3:GetObject", "kms:Decrypt"}
        assert resources == {
            f"arn:aws:s3:::acme-pulumi-{stack}",
            f"arn:aws:s3:::acme-pulumi-{stack}/*",
            f"arn:aws:kms:eu-west-1:123456789012:key/for-alias/pulumi-{stack}",
        }
    assert variables(log, "AWS_ROLE_ARN") == {
        env: f"arn:aws:iam::123456789012:role/auth0-{env}" for env in ENVIRONMENTS
    }
    assert variables(log, "PULUMI_BACKEND_URL") == {
        env: f"s3://acme-pulumi-{env.split('-')[0]}" for env in ENVIRONMENTS
    }


def test_google_service_accounts_trust_one_environment_and_previews_only_read(
    tmp_path: Path,
) -> None:
    log = run_block(tmp_path, "Google Cloud:")
    (provider,) = calls(log, "gcloud", "iam", "workload-identity-pools", "providers", "create-oidc")
    assert flag(provider, "--attribute-condition") == (
        f"assertion.repository == '{REPO}' && assertion.sub.startsWith('repo:{REPO}:environment:')"
    )
    pool = "principal://iam.googleapis.com/projects/424242/locations/global/workloadIdentityPools/github"
    bindings = calls(log, "gcloud", "iam", "service-accounts", "add-iam-policy-binding")
    assert {c["args"][3]: flag(c, "--member") for c in bindings} == {
        f"auth0-{env}@acme-infra.iam.gserviceaccount.com": f"{pool}/subject/{subject(env)}"
        for env in ENVIRONMENTS
    }
    buckets = calls(log, "gcloud", "storage", "buckets", "add-iam-policy-binding")
    keys = calls(log, "gcloud", "kms", "keys", "add-iam-policy-binding")
    for env in ENVIRONMENTS:
        stack, member = (
            env.split("-")[0],
            f"serviceAccount:auth0-{env}@acme-infra.iam.gserviceaccount.com",
        )
        (bucket,) = [c for c in buckets if flag(c, "--member") == member]
        assert bucket["args"][3] == f"gs://acme-pulumi-{stack}"
        assert flag(bucket, "--role") == (
            "roles/storage.objectUser" if env in DEPLOYS else "roles/storage.objectViewer"
        )
        (key,) = [c for c in keys if flag(c, "--member") == member]
        assert key["args"][3] == f"pulumi-{stack}"
        assert flag(key, "--role") == "roles/cloudkms.cryptoKeyDecrypter"


def test_azure_applications_trust_one_environment_and_previews_only_read(
    tmp_path: Path,
) -> None:
    log = run_block(tmp_path, "Azure:")
    credentials = calls(log, "az", "ad", "app", "federated-credential", "create")
    assert {
        flag(c, "--id"): json.loads(flag(c, "--parameters"))["subject"] for c in credentials
    } == {f"app-auth0-{env}": subject(env) for env in ENVIRONMENTS}
    for c in credentials:
        parameters = json.loads(flag(c, "--parameters"))
        assert parameters["issuer"] == "https://token.actions.githubusercontent.com"
        assert parameters["audiences"] == ["api://AzureADTokenExchange"]
    assignments = calls(log, "az", "role", "assignment", "create")
    for env in ENVIRONMENTS:
        stack = env.split("-")[0]
        mine = {
            flag(c, "--role"): flag(c, "--scope")
            for c in assignments
            if flag(c, "--assignee") == f"app-auth0-{env}"
        }
        blob = "Storage Blob Data Contributor" if env in DEPLOYS else "Storage Blob Data Reader"
        assert mine == {
            blob: "/subscriptions/s/resourceGroups/pulumi/providers/Microsoft.Storage/"
            f"storageAccounts/acmepulumi/blobServices/default/containers/pulumi-{stack}",
            "Key Vault Crypto User": "/subscriptions/s/resourceGroups/pulumi/providers/"
            f"Microsoft.KeyVault/vaults/acme-pulumi/keys/pulumi-{stack}",
        }
    assert variables(log, "AZURE_CLIENT_ID") == {env: f"app-auth0-{env}" for env in ENVIRONMENTS}


def test_pulumi_cloud_gives_each_environment_a_team_token_for_its_stack_only(
    tmp_path: Path,
) -> None:
    log = run_block(tmp_path, "Pulumi Cloud:")
    grants = {}
    for c in calls(log, "curl"):
        data = json.loads(flag(c, "--data")) if "--data" in c["args"] else {}
        if "addStackPermission" in data:
            team = url(c).rsplit("/", 1)[1]
            grants[team] = data["addStackPermission"]
    assert grants == {
        f"auth0-{env}": {
            "projectName": "auth0-org-assignment",
            "stackName": env.split("-")[0],
            "permission": 102 if env in DEPLOYS else 101,  # Write, Read
        }
        for env in ENVIRONMENTS
    }
    (patch,) = [c for c in calls(log, "curl") if url(c).endswith("/auth/policies/policy-1")]
    policies = json.loads(flag(patch, "--data"))["policies"]
    assert len(policies) == len(ENVIRONMENTS)
    assert {p["teamName"]: p for p in policies} == {
        f"auth0-{env}": {
            "decision": "allow",
            "tokenType": "team",  # never "organization": that token is an admin's
            "teamName": f"auth0-{env}",
            "rules": {"aud": "urn:pulumi:org:acme", "sub": subject(env)},
        }
        for env in ENVIRONMENTS
    }
    assert variables(log, "PULUMI_OIDC_SCOPE") == {env: f"team:auth0-{env}" for env in ENVIRONMENTS}
    assert variables(log, "PULUMI_OIDC_ORGANIZATION") == dict.fromkeys(ENVIRONMENTS, "acme")


@pytest.mark.parametrize("title", ["AWS:", "Google Cloud:", "Azure:"])
def test_no_identity_of_another_stack_is_given_prods_key(tmp_path: Path, title: str) -> None:
    # The same property as above, read off the commands' text: every key and bucket an
    # identity is given is named through $stack, never a stack written out.
    text = block(title).split("for env in $envs; do", 1)[1]
    assert not re.search(r"pulumi-(dev|staging|prod)\b", text)
