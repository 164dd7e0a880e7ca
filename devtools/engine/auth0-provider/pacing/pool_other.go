//go:build !unix

package pacing

import (
	"errors"
	"os"
)

// Without flock, no pool: each process keeps its own global bucket.
func lock(*os.File) error   { return errors.New("no file locks here") }
func unlock(*os.File) error { return nil }
