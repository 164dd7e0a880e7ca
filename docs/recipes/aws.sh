# AWS: S3 state, KMS keys (IAM trust policy on token.actions.githubusercontent.com:sub)
account=123456789012 region=eu-west-1
aws iam create-open-id-connect-provider --url https://token.actions.githubusercontent.com \
  --client-id-list sts.amazonaws.com
for stack in dev staging prod; do
  aws s3api create-bucket --bucket "acme-pulumi-$stack" --region "$region" \
    --create-bucket-configuration "LocationConstraint=$region"
  aws kms create-alias --alias-name "alias/pulumi-$stack" \
    --target-key-id "$(aws kms create-key --query KeyMetadata.KeyId --output text)"
done
for env in $envs; do
  stack=${env%%-*}
  case $env in dev | staging | prod) writes='"s3:PutObject", "s3:DeleteObject", ' ;; *) writes= ;; esac
  key=$(aws kms describe-key --key-id "alias/pulumi-$stack" --query KeyMetadata.Arn --output text)
  cat > trust.json <<EOF
{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
  "Principal": {"Federated": "arn:aws:iam::$account:oidc-provider/token.actions.githubusercontent.com"},
  "Action": "sts:AssumeRoleWithWebIdentity",
  "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                                 "token.actions.githubusercontent.com:sub": "repo:$repo:environment:$env"}}}]}
EOF
  cat > access.json <<EOF
{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::acme-pulumi-$stack"},
  {"Effect": "Allow", "Action": [${writes}"s3:GetObject"], "Resource": "arn:aws:s3:::acme-pulumi-$stack/*"},
  {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "$key"}]}
EOF
  aws iam create-role --role-name "auth0-$env" --assume-role-policy-document file://trust.json
  aws iam put-role-policy --role-name "auth0-$env" --policy-name pulumi-state --policy-document file://access.json
  gh variable set AWS_ROLE_ARN --repo "$repo" --env "$env" --body "arn:aws:iam::$account:role/auth0-$env"
  gh variable set AWS_REGION --repo "$repo" --env "$env" --body "$region"
  gh variable set PULUMI_BACKEND_URL --repo "$repo" --env "$env" --body "s3://acme-pulumi-$stack"
done
