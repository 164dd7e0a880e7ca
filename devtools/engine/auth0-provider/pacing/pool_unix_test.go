//go:build unix

package pacing

import (
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestALockHeldByAStoppedProcessHoldsNoRequestForEver(t *testing.T) {
	// Another deploy suspended while it holds the pool's lock (Ctrl-Z): a request waits LockWait
	// for it, then goes apart at the process's part of the share; the process stays apart
	// HeldApart, then waits for the lock again. Said once, naming why.
	waited := LockWait
	t.Cleanup(func() { LockWait = waited })
	LockWait = 200 * time.Millisecond
	dir := t.TempDir()
	var said strings.Builder
	pacers, c := pacersOnOneClock(t, 1, dir, &said)
	p := pacers[0]
	path := "/api/v2/organizations/org_1/discovery-domains"
	send(t, p, "POST", path)
	holder, err := os.OpenFile(poolFile(dir, "tenant.example", p.Tier, p.Share), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	if err := syscall.Flock(int(holder.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	elapsed := func(f func()) time.Duration { started := time.Now(); f(); return time.Since(started) }
	if d := elapsed(func() { send(t, p, "POST", path) }); d < LockWait || d > time.Second {
		t.Fatalf("a request behind a held lock took %v, want %v to 1 s", d, LockWait)
	}
	if d := elapsed(func() {
		for i := 0; i < 5; i++ {
			send(t, p, "POST", path)
		}
	}); d > 100*time.Millisecond {
		t.Fatalf("5 requests apart from the pool took %v: they waited for its lock again", d)
	}
	c.t = c.t.Add(HeldApart)
	if d := elapsed(func() { send(t, p, "POST", path) }); d < LockWait {
		t.Fatalf("after HeldApart a request took %v: it did not wait for the lock", d)
	}
	if n := strings.Count(said.String(), "cannot share"); n != 1 {
		t.Fatalf("said %d times, want once: %q", n, said.String())
	}
	if !strings.Contains(said.String(), "(its lock was held for over 0.2 s, by a process stopped while holding it maybe)") {
		t.Fatalf("warnings %q do not say why", said.String())
	}
}
