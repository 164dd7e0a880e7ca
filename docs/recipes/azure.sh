# Azure: Blob state, Key Vault keys (federated credential subject, one application each)
tenant=$(az account show --query tenantId --output tsv)
subscription=$(az account show --query id --output tsv)
storage=$(az storage account show --name acmepulumi --resource-group pulumi --query id --output tsv)
vault=$(az keyvault show --name acme-pulumi --query id --output tsv)   # with Azure RBAC authorization
for stack in dev staging prod; do
  az storage container create --name "pulumi-$stack" --account-name acmepulumi --auth-mode login
  az keyvault key create --vault-name acme-pulumi --name "pulumi-$stack" --kty RSA
done
for env in $envs; do
  stack=${env%%-*}
  case $env in dev | staging | prod) blob="Storage Blob Data Contributor" ;; *) blob="Storage Blob Data Reader" ;; esac
  app=$(az ad app create --display-name "auth0-$env" --query appId --output tsv)
  az ad sp create --id "$app"
  az ad app federated-credential create --id "$app" --parameters "{\"name\": \"$env\",
    \"issuer\": \"https://token.actions.githubusercontent.com\",
    \"subject\": \"repo:$repo:environment:$env\", \"audiences\": [\"api://AzureADTokenExchange\"]}"
  az role assignment create --assignee "$app" --role "$blob" \
    --scope "$storage/blobServices/default/containers/pulumi-$stack"
  az role assignment create --assignee "$app" --role "Key Vault Crypto User" --scope "$vault/keys/pulumi-$stack"
  gh variable set AZURE_CLIENT_ID --repo "$repo" --env "$env" --body "$app"
  gh variable set AZURE_TENANT_ID --repo "$repo" --env "$env" --body "$tenant"
  gh variable set AZURE_SUBSCRIPTION_ID --repo "$repo" --env "$env" --body "$subscription"
  gh variable set PULUMI_BACKEND_URL --repo "$repo" --env "$env" --body "azblob://pulumi-$stack?storage_account=acmepulumi"
done
