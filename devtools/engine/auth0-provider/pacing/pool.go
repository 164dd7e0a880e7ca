package pacing

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// PoolDirectory is where, under the temporary directory, the processes of a deploy keep the
// Management API's global bucket they share: this plugin and the program's dynamic resources
// (auth0_org_assignment/rate_limits.py, POOL_DIRECTORY and pool_file, which name the same
// files), so that together they keep to the share instead of each taking it.
const PoolDirectory = "auth0-org-assignment-pace"

// poolFile names the file holding the global bucket of the deploys pacing host at share of
// tier on this machine.
func poolFile(dir, host, tier string, share float64) string {
	return filepath.Join(dir, PoolDirectory, fmt.Sprintf("%s-%s-%.17g", host, tier, share))
}

// pooled loads the global bucket b from its pool file, locked against the other processes
// until the returned function writes it back and unlocks it. The file holds "tokens
// nanoseconds"; one missing or unreadable starts full. Without a pool (none configured, or a
// file that cannot be opened or locked) b is this process's own and the function does nothing.
func (p *Pacer) pooled(host string, b *bucket, now time.Time) func() {
	if p.pool == "" || host == "" {
		return func() {}
	}
	path := poolFile(p.pool, host, p.Tier, p.Share)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return func() {}
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return func() {}
	}
	if err := lock(f); err != nil {
		f.Close()
		return func() {}
	}
	b.tokens, b.updated = b.capacity, now
	var raw [64]byte
	n, _ := f.ReadAt(raw[:], 0)
	if fields := strings.Fields(string(raw[:n])); len(fields) == 2 {
		tokens, err1 := strconv.ParseFloat(fields[0], 64)
		nanos, err2 := strconv.ParseInt(fields[1], 10, 64)
		if err1 == nil && err2 == nil {
			// Within what a pacer can leave: a file written by anything else neither lends
			// requests nor holds the deploy back past a full refill.
			b.tokens, b.updated = math.Min(b.capacity, math.Max(0, tokens)), time.Unix(0, nanos)
			if b.updated.After(now) {
				b.updated = now
			}
		}
	}
	return func() {
		line := fmt.Sprintf("%.6f %d\n", b.tokens, b.updated.UnixNano())
		if err := f.Truncate(0); err == nil {
			f.WriteAt([]byte(line), 0)
		}
		unlock(f)
		f.Close()
	}
}
