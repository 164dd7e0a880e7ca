// Command pulumi-tfgen-auth0 writes the provider's Pulumi schema (schema --out DIR).
package main

import (
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfgen"

	"example.com/auth0-org-assignment/devtools/engine/auth0-provider/provider"
)

func main() {
	tfgen.Main("auth0", provider.Version, provider.Info())
}
