package pacing

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// PoolDirectory is where, under the temporary directory, a user's deploys keep the Management
// API's global bucket their processes share: this plugin and the program's dynamic resources
// (auth0_org_assignment/rate_limits.py, POOL_DIRECTORY and pool_file, which name the same
// files), so that together they keep to the share instead of each taking it. The directory is
// the user's own (0700, checked), so no other user can read, lock or replace what is in it.
const PoolDirectory = "auth0-org-assignment-pace-%d"

// PooledProcesses is how many processes of a deploy pace the global bucket: this plugin and
// the program's dynamic resources' provider. Where they cannot pool it, each keeps its own at
// this part of the share (POOLED_PROCESSES in rate_limits.py), so that together they still
// keep to it.
const PooledProcesses = 2

// poolFile names the file holding the global bucket of the deploys pacing host at share of
// tier on the machine they run on.
func poolFile(dir, host, tier string, share float64) string {
	return filepath.Join(dir, fmt.Sprintf(PoolDirectory, os.Getuid()), fmt.Sprintf("%s-%s-%.17g", host, tier, share))
}

// pooled loads the global bucket b from its pool file, locked against the other processes
// until the returned function writes it back and unlocks it, and reads the time once the lock
// is held. The file holds "tokens nanoseconds"; one missing or unreadable starts full. Without
// a pool configured b is this process's own and the function does nothing; with one that
// cannot be used (not a Unix, a directory not the user's own) it becomes so from then on, at
// this process's part of the share (alone).
func (p *Pacer) pooled(host string, b *bucket) (time.Time, func()) {
	if p.pool == "" || host == "" {
		return p.now(), func() {}
	}
	path := poolFile(p.pool, host, p.Tier, p.Share)
	f, err := openPrivate(path)
	if err != nil {
		p.alone(path, err)
		return p.now(), func() {}
	}
	if err := lock(f); err != nil {
		f.Close()
		p.alone(path, err)
		return p.now(), func() {}
	}
	now := p.now()
	b.tokens, b.updated = b.capacity, now
	var raw [64]byte
	n, _ := f.ReadAt(raw[:], 0)
	if fields := strings.Fields(string(raw[:n])); len(fields) == 2 {
		tokens, err1 := strconv.ParseFloat(fields[0], 64)
		nanos, err2 := strconv.ParseInt(fields[1], 10, 64)
		if err1 == nil && err2 == nil {
			// Within what a pacer can leave: a file gone wrong lends no more than a full
			// bucket and holds the deploy back no more than one refill.
			b.tokens, b.updated = math.Min(b.capacity, math.Max(0, tokens)), time.Unix(0, nanos)
			if b.updated.After(now) {
				b.updated = now
			}
		}
	}
	return now, func() {
		line := fmt.Sprintf("%.6f %d\n", b.tokens, b.updated.UnixNano())
		if err := f.Truncate(0); err == nil {
			f.WriteAt([]byte(line), 0)
		}
		unlock(f)
		f.Close()
	}
}

// alone makes the global bucket this process's own from now on, at its part of the share, and
// says so (once: the pool is not tried again). p.mu is held.
func (p *Pacer) alone(path string, err error) {
	p.pool = ""
	part := p.Share / PooledProcesses
	g := p.all[0]
	g.capacity = capacity(p.management, part)
	g.perSecond = p.management.PerSecond * part
	g.tokens = math.Min(g.tokens, g.capacity)
	var pathErr *os.PathError
	if errors.As(err, &pathErr) {
		err = pathErr.Err
	}
	fmt.Fprintf(p.warnings, "the deploy's processes cannot share the Management API's rate limit "+
		"through %s (%v); this one paces it at %g of the tier, its part of the share %g, so the deploy is slower. "+
		"Give the deploy a temporary directory of its own (TMPDIR) where %s can be the user's own (mode 0700).\n",
		path, err, part, p.Share, filepath.Base(filepath.Dir(path)))
}
