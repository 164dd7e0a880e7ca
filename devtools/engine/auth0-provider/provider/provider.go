// Package provider maps terraform-provider-auth0 onto Pulumi tokens the way pulumi-auth0 does,
// so the locked pulumi-auth0 Python SDK talks to it unchanged (auth0:index/client:Client, ...).
package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-sdk/v2/diag"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	tks "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
	shimv2 "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim/sdk-v2"

	auth0shim "github.com/auth0/terraform-provider-auth0/shim"

	"example.com/auth0-org-assignment/devtools/engine/auth0-provider/pacing"
	"example.com/auth0-org-assignment/devtools/engine/auth0-provider/timeouts"
)

// Version is set at link time to the plugin version the locked SDK asks for.
var Version = "0.0.0-dev"

// paced is the upstream provider, configured only after a pacer from the deploy's environment
// (AUTH0_RATE_LIMIT_TIER, AUTH0_RATE_LIMIT_SHARE) is put in front of http.DefaultTransport,
// the innermost transport of the HTTP client the upstream configure builds
// (internal/config/config.go, customClientWithRetries). An invalid tier or share fails the
// provider's configuration, before any resource is touched. Each of its operations runs for at
// least the table's time (timeouts.AtLeast): a deploy's wait in the pacer counts in it.
func paced() *schema.Provider {
	upstream := auth0shim.NewProvider()
	timeout, err := pacing.OperationTimeout()
	if err != nil {
		panic(err) // the table is embedded at build time: a build that cannot read it is broken
	}
	timeouts.AtLeast(upstream.ResourcesMap, timeout)
	configure := upstream.ConfigureContextFunc
	upstream.ConfigureContextFunc = func(ctx context.Context, d *schema.ResourceData) (interface{}, diag.Diagnostics) {
		if err := pacing.Install(); err != nil {
			return nil, diag.FromErr(err)
		}
		return configure(ctx, d)
	}
	return upstream
}

// Info is the bridge's description of the provider.
func Info() tfbridge.ProviderInfo {
	managedByPulumi := &tfbridge.DefaultInfo{Value: "Managed by Pulumi"}
	info := tfbridge.ProviderInfo{
		P:           shimv2.NewProvider(paced()),
		Name:        "auth0",
		DisplayName: "Auth0",
		Description: "Auth0 provider built from terraform-provider-auth0 for offline runs.",
		License:     "Apache-2.0",
		GitHubOrg:   "auth0",
		Version:     Version,
		Config: map[string]*tfbridge.SchemaInfo{
			"debug": {Default: &tfbridge.DefaultInfo{EnvVars: []string{"AUTH0_DEBUG"}}},
		},
		Resources: map[string]*tfbridge.ResourceInfo{
			"auth0_client": {Fields: map[string]*tfbridge.SchemaInfo{
				"description": {Default: managedByPulumi},
			}},
			"auth0_role": {Fields: map[string]*tfbridge.SchemaInfo{
				"description": {Default: managedByPulumi},
			}},
		},
		EnableZeroDefaultSchemaVersion: true,
		EnableAccurateBridgePreview:    true,
		EnableRawStateDelta:            true,
	}
	info.MustComputeTokens(tks.SingleModule("auth0_", "index", tks.MakeStandard("auth0")))
	info.SetAutonaming(255, "-")
	return info
}
