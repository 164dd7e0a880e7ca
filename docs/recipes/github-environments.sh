# GitHub: who may use each environment
main_only='"deployment_branch_policy": {"protected_branches": false, "custom_branch_policies": true}'
reviewed='"prevent_self_review": true, "reviewers": [{"type": "User", "id": REVIEWER_ID}]'
for env in dev staging prod-plan dev-drift staging-drift prod-drift \
  dev-reconcile staging-reconcile prod-reconcile; do
  echo "{$main_only}" | gh api -X PUT "repos/$repo/environments/$env" --input -
done
echo "{$main_only, $reviewed}" | gh api -X PUT "repos/$repo/environments/prod" --input -
echo "{$reviewed}" | gh api -X PUT "repos/$repo/environments/prod-preview" --input -
# impact-approval holds nothing: its job waits for a maintainer (GitHub would create it unprotected)
echo "{$reviewed}" | gh api -X PUT "repos/$repo/environments/impact-approval" --input -
for env in dev-preview staging-preview; do
  echo "{}" | gh api -X PUT "repos/$repo/environments/$env" --input -
done
for env in dev staging prod prod-plan dev-drift staging-drift prod-drift \
  dev-reconcile staging-reconcile prod-reconcile; do
  gh api -X POST "repos/$repo/environments/$env/deployment-branch-policies" -f name=main -f type=branch
done
# main: changed only through a pull request someone else approved after its last push, admins
# too (the deploy environments trust main alone); GitHub Actions' token may not approve one
echo '{"required_pull_request_reviews": {"required_approving_review_count": 1,
  "dismiss_stale_reviews": true, "require_last_push_approval": true},
  "enforce_admins": true, "required_status_checks": null, "restrictions": null,
  "allow_force_pushes": false, "allow_deletions": false}' \
  | gh api -X PUT "repos/$repo/branches/main/protection" --input -
echo '{"default_workflow_permissions": "read", "can_approve_pull_request_reviews": false}' \
  | gh api -X PUT "repos/$repo/actions/permissions/workflow" --input -
