# Pulumi Cloud: state and secrets (one team per environment, an OIDC policy per environment)
org=acme    # and PULUMI_ACCESS_TOKEN: an organization admin's, for these calls only
api() { curl --fail --silent --show-error -H "Authorization: token $PULUMI_ACCESS_TOKEN" \
  -H "Content-Type: application/json" "$@"; }
id() { python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])'; }
policies=
for env in $envs; do
  stack=${env%%-*}
  case $env in dev | staging | prod) permission=102 ;; *) permission=101 ;; esac   # Write, Read
  api -X POST "https://api.pulumi.com/api/orgs/$org/teams/pulumi" --data "{\"name\": \"auth0-$env\"}"
  api -X PATCH "https://api.pulumi.com/api/orgs/$org/teams/auth0-$env" --data "{\"addStackPermission\":
    {\"projectName\": \"auth0-org-assignment\", \"stackName\": \"$stack\", \"permission\": $permission}}"
  policies="$policies{\"decision\": \"allow\", \"tokenType\": \"team\", \"teamName\": \"auth0-$env\",
    \"rules\": {\"aud\": \"urn:pulumi:org:$org\", \"sub\": \"repo:$repo:environment:$env\"}},"
  gh variable set PULUMI_OIDC_ORGANIZATION --repo "$repo" --env "$env" --body "$org"
  gh variable set PULUMI_OIDC_SCOPE --repo "$repo" --env "$env" --body "team:auth0-$env"
done
issuer=$(api -X POST "https://api.pulumi.com/api/orgs/$org/oidc/issuers" \
  --data '{"name": "github", "url": "https://token.actions.githubusercontent.com"}' | id)
policy=$(api "https://api.pulumi.com/api/orgs/$org/auth/policies/oidcissuers/$issuer" | id)
api -X PATCH "https://api.pulumi.com/api/orgs/$org/auth/policies/$policy" --data "{\"policies\": [${policies%,}]}"
