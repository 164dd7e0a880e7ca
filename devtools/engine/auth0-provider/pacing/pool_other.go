//go:build !unix

package pacing

import (
	"errors"
	"os"
)

// Without flock and file owners, no pool: each process keeps its own global bucket.
func openPrivate(string) (*os.File, error) { return nil, errors.New("no pool here") }

var (
	lock   = func(*os.File) error { return errors.New("no file locks here") }
	unlock = func(*os.File) error { return nil }
)
