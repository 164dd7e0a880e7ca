// Package shim is copied into the terraform-provider-auth0 module by scripts/engine: Go lets only
// packages inside that module import its internal/provider, which the bridge needs.
package shim

import (
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"

	"github.com/auth0/terraform-provider-auth0/internal/provider"
)

// NewProvider returns the upstream Terraform provider, unchanged.
func NewProvider() *schema.Provider {
	return provider.New()
}
