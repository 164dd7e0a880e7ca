# GitHub: who may use each environment
main_only='"deployment_branch_policy": {"protected_branches": false, "custom_branch_policies": true}'
reviewed='"prevent_self_review": true, "reviewers": [{"type": "User", "id": REVIEWER_ID}]'
for env in dev staging prod-plan dev-drift staging-drift prod-drift \
  dev-reconcile staging-reconcile prod-reconcile; do
  echo "{$main_only}" | gh api -X PUT "repos/$repo/environments/$env" --input -
done
echo "{$main_only, $reviewed}" | gh api -X PUT "repos/$repo/environments/prod" --input -
echo "{$reviewed}" | gh api -X PUT "repos/$repo/environments/prod-preview" --input -
for env in dev-preview staging-preview; do
  echo "{}" | gh api -X PUT "repos/$repo/environments/$env" --input -
done
for env in dev staging prod prod-plan dev-drift staging-drift prod-drift \
  dev-reconcile staging-reconcile prod-reconcile; do
  gh api -X POST "repos/$repo/environments/$env/deployment-branch-policies" -f name=main -f type=branch
done
