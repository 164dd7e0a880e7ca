# Google Cloud: GCS state, Cloud KMS keys (workload identity attribute condition, one service account each)
project=acme-infra
number=$(gcloud projects describe "$project" --format='value(projectNumber)')
pool=projects/$number/locations/global/workloadIdentityPools/github
gcloud iam workload-identity-pools create github --project="$project" --location=global
gcloud iam workload-identity-pools providers create-oidc github --project="$project" --location=global \
  --workload-identity-pool=github --issuer-uri=https://token.actions.githubusercontent.com \
  --attribute-mapping=google.subject=assertion.sub,attribute.repository=assertion.repository \
  --attribute-condition="assertion.repository == '$repo' && assertion.sub.startsWith('repo:$repo:environment:')"
gcloud kms keyrings create pulumi --project="$project" --location=global
for stack in dev staging prod; do
  gcloud storage buckets create "gs://acme-pulumi-$stack" --project="$project" --location=EU
  gcloud kms keys create "pulumi-$stack" --keyring=pulumi --location=global --project="$project" --purpose=encryption
done
for env in $envs; do
  stack=${env%%-*} sa=auth0-$env@$project.iam.gserviceaccount.com
  case $env in dev | staging | prod) storage=roles/storage.objectUser ;; *) storage=roles/storage.objectViewer ;; esac
  gcloud iam service-accounts create "auth0-$env" --project="$project"
  gcloud iam service-accounts add-iam-policy-binding "$sa" --project="$project" --role=roles/iam.workloadIdentityUser \
    --member="principal://iam.googleapis.com/$pool/subject/repo:$repo:environment:$env"
  gcloud storage buckets add-iam-policy-binding "gs://acme-pulumi-$stack" --member="serviceAccount:$sa" --role="$storage"
  gcloud kms keys add-iam-policy-binding "pulumi-$stack" --keyring=pulumi --location=global --project="$project" \
    --member="serviceAccount:$sa" --role=roles/cloudkms.cryptoKeyDecrypter
  gh variable set GCP_WORKLOAD_IDENTITY_PROVIDER --repo "$repo" --env "$env" --body "$pool/providers/github"
  gh variable set GCP_SERVICE_ACCOUNT --repo "$repo" --env "$env" --body "$sa"
  gh variable set PULUMI_BACKEND_URL --repo "$repo" --env "$env" --body "gs://acme-pulumi-$stack"
done
