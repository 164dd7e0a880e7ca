package timeouts

import (
	"context"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-sdk/v2/diag"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/hashicorp/terraform-plugin-sdk/v2/terraform"
)

// seen is what an operation found when the SDK ran it: the time to its deadline, and the time
// it reads for itself.
type seen struct {
	deadline time.Duration
	own      time.Duration
}

// resource is an Action-like resource: its create declares 6 minutes, the rest nothing.
func resource(seenBy map[string]seen) *schema.Resource {
	record := func(key string) operation {
		return func(ctx context.Context, d *schema.ResourceData, _ interface{}) diag.Diagnostics {
			deadline, ok := ctx.Deadline()
			if !ok {
				return diag.Errorf("%s ran with no deadline", key)
			}
			seenBy[key] = seen{time.Until(deadline), d.Timeout(key)}
			if key == schema.TimeoutCreate {
				d.SetId("created")
			}
			return nil
		}
	}
	return &schema.Resource{
		Schema:        map[string]*schema.Schema{"name": {Type: schema.TypeString, Optional: true}},
		CreateContext: record(schema.TimeoutCreate),
		ReadContext:   record(schema.TimeoutRead),
		UpdateContext: record(schema.TimeoutUpdate),
		DeleteContext: record(schema.TimeoutDelete),
		Timeouts:      &schema.ResourceTimeout{Create: schema.DefaultTimeout(6 * time.Minute)},
	}
}

func TestEachOperationRunsUnderTheLongerOfItsOwnTimeAndTheDeploys(t *testing.T) {
	const least = 4 * time.Hour
	seenBy := map[string]seen{}
	r := resource(seenBy)
	AtLeast(map[string]*schema.Resource{"auth0_thing": r}, least)
	provider := &schema.Provider{ResourcesMap: map[string]*schema.Resource{"auth0_thing": r}}
	if err := provider.InternalValidate(); err != nil {
		t.Fatalf("the wrapped resource is not a valid resource: %v", err)
	}

	// As the bridge runs them: a create and an update with the times the plan recorded (the
	// resource's declared ones), a read of a resource whose state recorded none, and a delete
	// given none (the bridge gives it the resource's declared ones and the program's
	// customTimeouts, here none for a delete).
	ctx := context.Background()
	planned := func(diff *terraform.InstanceDiff) *terraform.InstanceDiff {
		if err := r.Timeouts.DiffEncode(diff); err != nil {
			t.Fatal(err)
		}
		return diff
	}
	created, diags := r.Apply(ctx, nil, planned(&terraform.InstanceDiff{
		Attributes: map[string]*terraform.ResourceAttrDiff{"name": {New: "a"}},
	}), nil)
	if diags.HasError() {
		t.Fatalf("create: %v", diags)
	}
	if _, diags := r.Apply(ctx, created, planned(&terraform.InstanceDiff{
		Attributes: map[string]*terraform.ResourceAttrDiff{"name": {Old: "a", New: "b"}},
	}), nil); diags.HasError() {
		t.Fatalf("update: %v", diags)
	}
	recordedNone := &terraform.InstanceState{ID: "created", Attributes: map[string]string{"id": "created", "name": "b"}}
	if _, diags := r.RefreshWithoutUpgrade(ctx, recordedNone, nil); diags.HasError() {
		t.Fatalf("read: %v", diags)
	}
	if _, diags := r.Apply(ctx, recordedNone, &terraform.InstanceDiff{Destroy: true}, nil); diags.HasError() {
		t.Fatalf("delete: %v", diags)
	}

	for _, key := range []string{schema.TimeoutCreate, schema.TimeoutRead, schema.TimeoutUpdate, schema.TimeoutDelete} {
		got, ok := seenBy[key]
		if !ok {
			t.Fatalf("%s never ran", key)
		}
		if got.deadline < least-time.Minute || got.deadline > least {
			t.Errorf("%s ran with %v to its deadline, want %v", key, got.deadline, least)
		}
	}
	if own := seenBy[schema.TimeoutCreate].own; own != 6*time.Minute {
		t.Errorf("the create read %v as its own time, want the 6 minutes it declares", own)
	}
	if own := seenBy[schema.TimeoutDelete].own; own != 20*time.Minute {
		t.Errorf("the delete read %v as its own time, want the SDK's 20 minutes", own)
	}
}

func TestALongerTimeOfTheResourcesOwnStays(t *testing.T) {
	seenBy := map[string]seen{}
	r := resource(seenBy)
	r.Timeouts.Create = schema.DefaultTimeout(10 * time.Hour)
	AtLeast(map[string]*schema.Resource{"auth0_thing": r}, 4*time.Hour)
	diff := &terraform.InstanceDiff{Attributes: map[string]*terraform.ResourceAttrDiff{"name": {New: "a"}}}
	if err := r.Timeouts.DiffEncode(diff); err != nil {
		t.Fatal(err)
	}
	if _, diags := r.Apply(context.Background(), nil, diff, nil); diags.HasError() {
		t.Fatalf("create: %v", diags)
	}
	if got := seenBy[schema.TimeoutCreate].deadline; got < 10*time.Hour-time.Minute {
		t.Errorf("the create ran with %v to its deadline, want its own 10 hours", got)
	}
}
