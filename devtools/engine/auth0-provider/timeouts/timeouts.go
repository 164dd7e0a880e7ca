// Package timeouts gives every operation of a Terraform provider's resources at least a
// deploy's time.
//
// Terraform's plugin SDK runs a resource's create, read, update or delete under a deadline:
// the time the resource declares for it (a Terraform configuration's timeouts block may raise
// it), else 20 minutes. terraform-provider-auth0 declares a time for few of its operations
// (an Action's create: 6 minutes, which also bounds its wait for the Action's build), and what
// pulumi-terraform-bridge passes on of a program's customTimeouts depends on the operation and
// on the state (a read takes the times recorded when the resource was last written). The paced
// plugin needs more than 20 minutes whatever the resource and its state: an operation's wait
// for its turn in the pacer counts in that time, and a deploy runs as many operations at once
// as the tenant's slowest bucket serves in most of it (auth0_org_assignment/rate_limits.py,
// deploy_parallelism), so that an organization's connection does not queue behind every
// organization not yet sent.
package timeouts

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-sdk/v2/diag"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
)

type operation = func(context.Context, *schema.ResourceData, interface{}) diag.Diagnostics

// AtLeast runs each operation of every resource under the longer of its own deadline and
// least. The operation still reads its own time (ResourceData.Timeout): an Action's create
// still gives its build 6 minutes. The other variants of an operation (the SDK's deprecated
// ones without a context, the *WithoutTimeout ones) run under no deadline of the SDK's.
func AtLeast(resources map[string]*schema.Resource, least time.Duration) {
	for _, r := range resources {
		if r.CreateContext != nil {
			r.CreateWithoutTimeout, r.CreateContext = atLeast(r.CreateContext, schema.TimeoutCreate, least), nil
		}
		if r.ReadContext != nil {
			r.ReadWithoutTimeout, r.ReadContext = atLeast(r.ReadContext, schema.TimeoutRead, least), nil
		}
		if r.UpdateContext != nil {
			r.UpdateWithoutTimeout, r.UpdateContext = atLeast(r.UpdateContext, schema.TimeoutUpdate, least), nil
		}
		if r.DeleteContext != nil {
			r.DeleteWithoutTimeout, r.DeleteContext = atLeast(r.DeleteContext, schema.TimeoutDelete, least), nil
		}
	}
}

func atLeast(run operation, key string, least time.Duration) operation {
	return func(ctx context.Context, d *schema.ResourceData, meta interface{}) diag.Diagnostics {
		ctx, cancel := context.WithTimeout(ctx, max(d.Timeout(key), least))
		defer cancel()
		return run(ctx, d, meta)
	}
}
