repo=OWNER/REPO
envs="dev staging prod prod-plan dev-preview staging-preview prod-preview dev-drift staging-drift prod-drift"
