// Package provider maps terraform-provider-auth0 onto Pulumi tokens the way pulumi-auth0 does,
// so the locked pulumi-auth0 Python SDK talks to it unchanged (auth0:index/client:Client, ...).
package provider

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-sdk/v2/diag"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	tks "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
	shimv2 "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim/sdk-v2"

	auth0shim "github.com/auth0/terraform-provider-auth0/shim"

	"example.com/auth0-org-assignment/devtools/engine/auth0-provider/pacing"
)

// Version is set at link time to the plugin version the locked SDK asks for.
var Version = "0.0.0-dev"

// paced is the upstream provider, configured only after a pacer from the deploy's environment
// (AUTH0_RATE_LIMIT_TIER, AUTH0_RATE_LIMIT_SHARE) is put in front of http.DefaultTransport,
// the innermost transport of the HTTP client the upstream configure builds
// (internal/config/config.go, customClientWithRetries). An invalid tier or share fails the
// provider's configuration, before any resource is touched.
func paced() *schema.Provider {
	upstream := auth0shim.NewProvider()
	timeout, err := pacing.OperationTimeout()
	if err != nil {
		panic(err) // the table is embedded at build time: a build that cannot read it is broken
	}
	withOperationTimeout(upstream.ResourcesMap, timeout)
	configure := upstream.ConfigureContextFunc
	upstream.ConfigureContextFunc = func(ctx context.Context, d *schema.ResourceData) (interface{}, diag.Diagnostics) {
		if err := pacing.Install(); err != nil {
			return nil, diag.FromErr(err)
		}
		return configure(ctx, d)
	}
	return upstream
}

// withOperationTimeout gives each operation of every resource at least timeout (a longer one
// a resource declares stays). Terraform's plugin SDK gives an operation 20 minutes unless its
// resource declares more, and terraform-provider-auth0 declares nothing for most of them (its
// Action's create, 6 minutes); the bridge ignores a program's customTimeouts on a resource
// that declares none. An operation's wait for its turn in the pacer counts in that time, so
// 20 minutes would bound how many operations a deploy can run at once, and so keep an
// organization's connection queued behind every organization not yet sent.
func withOperationTimeout(resources map[string]*schema.Resource, timeout time.Duration) {
	for _, resource := range resources {
		if resource.Timeouts == nil {
			resource.Timeouts = &schema.ResourceTimeout{}
		}
		t := resource.Timeouts
		for _, operation := range []**time.Duration{&t.Create, &t.Read, &t.Update, &t.Delete, &t.Default} {
			if *operation == nil || **operation < timeout {
				*operation = schema.DefaultTimeout(timeout)
			}
		}
	}
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
