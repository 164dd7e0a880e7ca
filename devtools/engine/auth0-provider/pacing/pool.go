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

// LockWait is how long a request waits for the pool file's lock (LOCK_WAIT_S in rate_limits.py).
// A process holds it for a read and a write, microseconds, so a longer wait means one stopped
// while holding it (a deploy suspended with Ctrl-Z, say): rather than wait as long as that one
// is stopped, the request goes apart from the pool, and so does its process for HeldApart. A
// variable, so that a test can shorten it.
var LockWait = 2 * time.Second

// HeldApart is how long a process stays apart from the pool after its lock was held past
// LockWait, before it waits for the lock again (HELD_APART_S in rate_limits.py).
const HeldApart = 10 * time.Second

// lockHeld is the error of a lock held past LockWait.
type lockHeld struct{ wait time.Duration }

func (e lockHeld) Error() string {
	return fmt.Sprintf("its lock was held for over %g s, by a process stopped while holding it maybe", e.wait.Seconds())
}

// poolFile names the file holding the global bucket of the deploys pacing host at share of
// tier on the machine they run on.
func poolFile(dir, host, tier string, share float64) string {
	return filepath.Join(dir, fmt.Sprintf(PoolDirectory, os.Getuid()), fmt.Sprintf("%s-%s-%.17g", host, tier, share))
}

// pooled loads the global bucket b from its pool file, locked against the other processes
// until the returned function writes it back and unlocks it, and reads the time once the lock
// is held; it returns the bucket the request takes from. The file holds record's line; one
// empty or unreadable starts full. Without a pool configured b is this process's own and the
// function does nothing. While the pool cannot be used (not a Unix, a directory not the user's
// own, a file system without locks, for a second after a write to it failed, and for HeldApart
// after its lock was held past LockWait) the request
// takes from p.apart, this process's own at its part of the share, which a pooled request
// lowers to what the pool holds, so going apart never lends more than the pool had; the next
// request tries the pool again. p.mu is held.
func (p *Pacer) pooled(host string, b *bucket) (time.Time, *bucket, func()) {
	if p.pool == "" || host == "" {
		return p.now(), b, func() {}
	}
	path := poolFile(p.pool, host, p.Tier, p.Share)
	if p.now().Before(p.apartUntil) {
		return p.now(), p.apart, func() {}
	}
	f, err := openPrivate(path)
	if err != nil {
		p.failed(path, err)
		return p.now(), p.apart, func() {}
	}
	if err := lock(f); err != nil {
		f.Close()
		if errors.As(err, new(lockHeld)) {
			p.apartUntil = p.now().Add(HeldApart)
		}
		p.failed(path, err)
		return p.now(), p.apart, func() {}
	}
	now := p.now()
	b.tokens, b.updated = b.capacity, now
	var raw [64]byte
	n, _ := f.ReadAt(raw[:], 0)
	if fields := strings.Fields(string(raw[:n])); len(fields) == 2 {
		tokens, err1 := strconv.ParseFloat(fields[0], 64)
		nanos, err2 := strconv.ParseInt(fields[1], 10, 64)
		if err1 == nil && err2 == nil {
			if math.IsNaN(tokens) { // none, as rate_limits.py reads it
				tokens = 0
			}
			// Within what a pacer can leave: a file gone wrong lends no more than a full
			// bucket and holds the deploy back no more than one refill.
			b.tokens, b.updated = math.Min(b.capacity, math.Max(0, tokens)), time.Unix(0, nanos)
			if b.updated.After(now) {
				b.updated = now
			}
		}
	}
	// Pay the pool what requests apart from it took, as far as it holds tokens: so a pool that
	// fails on and off still gives out no more than the share (the debt is at most the pool's
	// burst: one apart for long pays no more than that when it comes back).
	b.refill(now)
	paid := math.Min(p.debt, math.Max(0, b.tokens))
	b.tokens -= paid
	p.debt -= paid
	return now, b, func() {
		p.apart.refill(now)
		p.apart.tokens = math.Min(p.apart.tokens, b.tokens)
		if err := writeRecord(f, record(b.tokens, b.updated)); err != nil {
			// The file still holds the last record, which the next reader would refill
			// from its time: apart for a second, then a write is tried again.
			p.apartUntil = p.now().Add(time.Second)
			p.failed(path, err)
		}
		unlock(f)
		f.Close()
	}
}

// record is the pool file's line, "tokens nanoseconds", at a fixed width, so that writing it
// over the last one needs no more room than that took (rate_limits.py's _record).
func record(tokens float64, updated time.Time) []byte {
	return []byte(fmt.Sprintf("%17.6f %20d\n", tokens, updated.UnixNano()))
}

// writeRecord writes line over the pool file's last record, then cuts the file to it (a
// variable, so that a test can fail it as a full disk does).
var writeRecord = func(f *os.File, line []byte) error {
	if _, err := f.WriteAt(line, 0); err != nil {
		return err
	}
	return f.Truncate(int64(len(line)))
}

// apartBucket is this process's own global bucket for the requests that cannot use the pool:
// its part of the share's rate and of the share's burst (at least one request).
func apartBucket(management limitEntry, share float64, now time.Time) *bucket {
	size := math.Max(1, capacity(management, share)/PooledProcesses)
	return &bucket{
		name: management.Name, burst: management.Burst, capacity: size,
		perSecond: management.PerSecond * share / PooledProcesses, tokens: size, updated: now,
	}
}

// failed notes, the first time, what to say: that the pool cannot be used and what the process
// does instead (said by say, once p.mu is released). p.mu is held.
func (p *Pacer) failed(path string, err error) {
	if p.warned {
		return
	}
	p.warned = true
	var pathErr *os.PathError
	if errors.As(err, &pathErr) {
		err = pathErr.Err
	}
	p.warning = fmt.Sprintf("the deploy's processes cannot share the Management API's rate limit "+
		"through %s (%v); while they cannot, this one paces it at %g of the tier, its part of the share %g, "+
		"so the deploy is slower. To share it, give the deploy a temporary directory of its own (TMPDIR) "+
		"on a Unix file system with flock.\n", path, err, p.Share/PooledProcesses, p.Share)
}

// say writes the warning failed noted, if any, outside p.mu: the engine's log is an RPC.
func (p *Pacer) say() {
	p.mu.Lock()
	warning := p.warning
	p.warning = ""
	p.mu.Unlock()
	if warning != "" {
		fmt.Fprint(p.warnings, warning)
	}
}
