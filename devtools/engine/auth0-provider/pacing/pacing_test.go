package pacing

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a fake time: sleeping advances it.
type clock struct{ t time.Time }

func paced(t *testing.T, tier string, share float64, next http.RoundTripper) (*Pacer, *clock) {
	t.Helper()
	p, err := New(tier, share, next)
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{time.Unix(1_700_000_000, 0)}
	p.now = func() time.Time { return c.t }
	p.sleep = func(_ *http.Request, d time.Duration) error { c.t = c.t.Add(d); return nil }
	for _, b := range append(p.all, p.apart) {
		b.updated = c.t
	}
	return p, c
}

// pacersOnOneClock are n pacers at half of the enterprise tier, as the processes of one deploy:
// one fake clock, the pool in dir, their warnings said to warnings.
func pacersOnOneClock(t *testing.T, n int, dir string, warnings io.Writer) ([]*Pacer, *clock) {
	t.Helper()
	c := &clock{time.Unix(1_700_000_000, 0)}
	var pacers []*Pacer
	for i := 0; i < n; i++ {
		p, err := New("enterprise-production", 0.5, answer(ok))
		if err != nil {
			t.Fatal(err)
		}
		p.now = func() time.Time { return c.t }
		p.sleep = func(_ *http.Request, d time.Duration) error { c.t = c.t.Add(d); return nil }
		p.pool, p.warnings = dir, warnings
		for _, b := range append(p.all, p.apart) {
			b.updated = c.t
		}
		pacers = append(pacers, p)
	}
	return pacers, c
}

type answer func(*http.Request) *http.Response

func (a answer) RoundTrip(r *http.Request) (*http.Response, error) { return a(r), nil }

func ok(*http.Request) *http.Response {
	return &http.Response{StatusCode: 200, Header: http.Header{}}
}

func send(t *testing.T, p *Pacer, method, path string) {
	t.Helper()
	req := httptest.NewRequest(method, "https://tenant.example"+path, nil)
	if _, err := p.RoundTrip(req); err != nil {
		t.Fatal(err)
	}
}

func TestWritesOfOrganizationsGoAtTheShareOfTheirBucket(t *testing.T) {
	// Write Organizations: 5 burst, 150 a minute; half of it is 2.5 burst and 75 a minute.
	p, c := paced(t, "enterprise-production", 0.5, answer(ok))
	start := c.t
	for i := 0; i < 77; i++ {
		send(t, p, "POST", "/api/v2/organizations")
	}
	// 2 from the burst, then 75 at 1.25 a second.
	got := c.t.Sub(start).Seconds()
	if want := 75 / 1.25; got < want-0.5 || got > want+1 {
		t.Fatalf("77 creates took %.1f s, want about %.1f", got, want)
	}
}

func TestAPaceAtAnyShareIsRefusedNothingByATenantRefillingByTheSecond(t *testing.T) {
	// Write Organizations, 5 and 150 a minute, as Auth0 keeps it: 2.5 requests added at each
	// second from when its bucket was made (a moment after the pacer's). Without headers, so
	// only the pacer's own buckets hold the creates back.
	for _, share := range []float64{0.5, 0.9, 1} {
		for _, offset := range []time.Duration{0, 300 * time.Millisecond, 700 * time.Millisecond} {
			var c *clock
			var made time.Time
			tokens, refused := 5.0, 0
			tenant := answer(func(*http.Request) *http.Response {
				if made.IsZero() {
					made = c.t
				}
				seconds := math.Floor(c.t.Sub(made).Seconds())
				tokens, made = math.Min(5, tokens+2.5*seconds), made.Add(time.Duration(seconds)*time.Second)
				if tokens < 1 {
					refused++
					return &http.Response{StatusCode: 429, Header: http.Header{}}
				}
				tokens--
				return ok(nil)
			})
			var p *Pacer
			p, c = paced(t, "enterprise-production", share, tenant)
			c.t = c.t.Add(offset)
			for i := 0; i < 200; i++ {
				send(t, p, "POST", "/api/v2/organizations")
			}
			if refused > 0 {
				t.Errorf("share %v, tenant's bucket made %v after the pacer's: %d of 200 creates refused",
					share, offset, refused)
			}
		}
	}
}

func TestPacersOfOnePoolKeepToOneShareOfTheGlobalBucket(t *testing.T) {
	// The plugin and the program's dynamic resources each pace a deploy: pooled, their requests
	// to one tenant take from one global bucket at the share (25, 8 a second at half).
	dir := t.TempDir()
	var said strings.Builder
	pacers, c := pacersOnOneClock(t, PooledProcesses, dir, &said)
	start := c.t
	for i := 0; i < 25+80; i++ { // discovery domains' creates: the global bucket only
		send(t, pacers[i%2], "POST", "/api/v2/organizations/org_1/discovery-domains")
	}
	if got := c.t.Sub(start).Seconds(); got < 80/8-0.2 || got > 80/8+0.2 {
		t.Fatalf("105 requests from two pooled pacers took %.1f s, want %.1f", got, 80.0/8)
	}
	if said.Len() > 0 {
		t.Fatalf("pooled pacers warned: %q", said.String())
	}
	if _, err := os.Stat(poolFile(dir, "tenant.example", "enterprise-production", 0.5)); err != nil {
		t.Fatal(err)
	}
}

func TestPacersThatCannotPoolKeepToOneShareTogetherAndSaySo(t *testing.T) {
	// A pool that cannot be used (here a file where its directory would be) does not fail the
	// deploy's requests: each process keeps its own global bucket at its part of the share
	// (half of 25 and of 8 a second), so together they still keep to the share, as pooled
	// (the test above), and each says why, once.
	blocked := filepath.Join(t.TempDir(), "a file")
	if err := os.WriteFile(blocked, []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	var said strings.Builder
	pacers, c := pacersOnOneClock(t, PooledProcesses, blocked, &said)
	start := c.t
	for i := 0; i < 25+80; i++ {
		send(t, pacers[i%2], "POST", "/api/v2/organizations/org_1/discovery-domains")
	}
	if got := c.t.Sub(start).Seconds(); got < 80/8-0.5 || got > 80/8+0.5 {
		t.Fatalf("105 requests from two pacers that cannot pool took %.1f s, want %.1f", got, 80.0/8)
	}
	lines := strings.Split(strings.TrimSpace(said.String()), "\n")
	path := poolFile(blocked, "tenant.example", "enterprise-production", 0.5)
	for _, line := range lines {
		if !strings.Contains(line, "through "+path+" (not a directory)") || !strings.Contains(line, "paces it at 0.25 of the tier") {
			t.Errorf("warning %q does not name the pool file, why, and the part of the share", line)
		}
	}
	if len(lines) != PooledProcesses {
		t.Fatalf("%d warnings, want one from each pacer: %q", len(lines), said.String())
	}
}

func TestAPoolThatFailsForAWhileIsLeftThatWhileFromWhereItWas(t *testing.T) {
	// A pool that cannot be locked for a request (a network file system's flock, say) is not
	// given up: that request takes from the process's own bucket at its part of the share,
	// which goes on from the state it last read (here spent, so it waits a quarter second at
	// 4 a second, instead of lending a full bucket), and the next request pools again; said
	// once.
	p, c := paced(t, "enterprise-production", 0.5, answer(ok))
	var said strings.Builder
	p.pool, p.warnings = t.TempDir(), &said
	start := c.t
	for i := 0; i < 25; i++ { // the pooled bucket's share of the burst
		send(t, p, "POST", "/api/v2/organizations/org_1/discovery-domains")
	}
	locked := lock
	t.Cleanup(func() { lock = locked })
	lock = func(f *os.File) error {
		lock = locked
		return errors.New("no locks available")
	}
	send(t, p, "POST", "/api/v2/organizations/org_1/discovery-domains")
	if got := c.t.Sub(start); got != time.Second/4 {
		t.Fatalf("the request without the pool waited %v, want %v", got, time.Second/4)
	}
	// After its wait the file locked again, so that request and the next took the 2 the pool
	// refilled at 8 a second.
	send(t, p, "POST", "/api/v2/organizations/org_1/discovery-domains")
	if got := c.t.Sub(start); got != time.Second/4 {
		t.Fatalf("the request pooled again waited %v", got-time.Second/4)
	}
	written, err := os.ReadFile(poolFile(p.pool, "tenant.example", "enterprise-production", 0.5))
	if err != nil {
		t.Fatal(err)
	}
	if fields := strings.Fields(string(written)); len(fields) != 2 || fields[0] != "0.000000" {
		t.Fatalf("pool file %q, want no token left", written)
	}
	if lines := strings.Split(strings.TrimSpace(said.String()), "\n"); len(lines) != 1 || !strings.Contains(lines[0], "(no locks available)") {
		t.Fatalf("warnings %q, want one naming the lock's error", said.String())
	}
}

func TestAPoolThatFailsOnAndOffLendsNoMoreThanThePoolAndThePart(t *testing.T) {
	// The pool fails 3 tries in 4: the requests apart take from this process's own bucket at
	// its part of the share (4 a second), which pooled requests lower to what the pool holds,
	// so together they take at most the share and the part (12 a second), never what the pool
	// holds again at each pooled read.
	p, c := paced(t, "enterprise-production", 0.5, answer(ok))
	p.pool, p.warnings = t.TempDir(), io.Discard
	locked, tries := lock, 0
	t.Cleanup(func() { lock = locked })
	lock = func(f *os.File) error {
		if tries++; tries%4 != 0 {
			return errors.New("no locks available")
		}
		return locked(f)
	}
	start := c.t
	const requests = 2000
	for i := 0; i < requests; i++ {
		send(t, p, "POST", "/api/v2/organizations/org_1/discovery-domains")
	}
	if least := (requests - 25 - 12.5) / 12.0; c.t.Sub(start).Seconds() < least {
		t.Fatalf("%d requests took %.1f s, want at least %.1f (8 + 4 a second)", requests, c.t.Sub(start).Seconds(), least)
	}
}

func TestPacersWhosePoolFailsOnAndOffPayItBackAndKeepToTheShare(t *testing.T) {
	// Both processes' locks fail every other time (a flaky network file system): what each
	// takes apart is a debt its next pooled request pays the pool, so together they keep to
	// the share (8 a second), not the share and both parts (16; tests/test_rate_limits.py has
	// the same test).
	dir := t.TempDir()
	locked, tries, process := lock, [2]int{}, 0
	t.Cleanup(func() { lock = locked })
	lock = func(f *os.File) error {
		if tries[process]++; tries[process]%2 != 0 {
			return errors.New("no locks available")
		}
		return locked(f)
	}
	pacers, c := pacersOnOneClock(t, PooledProcesses, dir, io.Discard)
	start := c.t
	const requests = 4000
	for i := 0; i < requests; i++ {
		process = i % 2
		send(t, pacers[process], "POST", "/api/v2/organizations/org_1/discovery-domains")
	}
	if rate := requests / c.t.Sub(start).Seconds(); rate > 8*1.05 {
		t.Fatalf("%d requests went at %.2f a second, want at most the share's 8", requests, rate)
	}
}

func TestANaNInThePoolFileReadsAsNoToken(t *testing.T) {
	// Not a number of tokens reads as none, as in rate_limits.py: the pace holds.
	p, c := paced(t, "enterprise-production", 0.5, answer(ok))
	p.pool = t.TempDir()
	path := poolFile(p.pool, "tenant.example", "enterprise-production", 0.5)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(fmt.Sprintf("NaN %d", c.t.UnixNano())), 0o600); err != nil {
		t.Fatal(err)
	}
	start := c.t
	for i := 0; i < 125; i++ {
		send(t, p, "POST", "/api/v2/organizations/org_1/discovery-domains")
	}
	if got := c.t.Sub(start).Seconds(); got < 100/8.0 {
		t.Fatalf("125 requests after a NaN record took %.1f s, want at least %.1f", got, 100/8.0)
	}
}

func TestAPoolThatCannotBeWrittenIsLeftASecondAtATime(t *testing.T) {
	// A full disk: the file keeps its last record, which every reader would refill from its
	// time. Each process then goes apart for a second after each failed write, so two of them
	// take the share and at most a request a second each (10 a second), not an unpaced burst.
	dir := t.TempDir()
	written := writeRecord
	t.Cleanup(func() { writeRecord = written })
	writeRecord = func(*os.File, []byte) error { return errors.New("no space left on device") }
	var said strings.Builder
	pacers, c := pacersOnOneClock(t, PooledProcesses, dir, &said)
	start := c.t
	for i := 0; i < 25+80; i++ {
		send(t, pacers[i%2], "POST", "/api/v2/organizations/org_1/discovery-domains")
	}
	if got := c.t.Sub(start).Seconds(); got < 80/10.0 {
		t.Fatalf("105 requests took %.1f s, want at least %.1f", got, 80/10.0)
	}
	if !strings.Contains(said.String(), "(no space left on device)") {
		t.Fatalf("warnings %q do not say why", said.String())
	}
}

func TestAPoolFileWrittenByAnythingElseHoldsAPacerBackOneRefillAtMost(t *testing.T) {
	// Tokens below none or a time to come (a clock set back) cost at most one request's
	// refill, never a stalled deploy.
	for _, written := range []string{"-1000000 %d", "0 9000000000000000000", "NaN %d", "+Inf %d"} {
		dir := t.TempDir()
		path := poolFile(dir, "tenant.example", "enterprise-production", 0.5)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		p, c := paced(t, "enterprise-production", 0.5, answer(ok))
		if strings.Contains(written, "%d") {
			written = fmt.Sprintf(written, c.t.UnixNano())
		}
		if err := os.WriteFile(path, []byte(written), 0o600); err != nil {
			t.Fatal(err)
		}
		p.pool = dir
		sleeps := 0
		p.sleep = func(_ *http.Request, d time.Duration) error {
			if sleeps++; sleeps > 10 {
				return errors.New("still waiting after 10 waits")
			}
			c.t = c.t.Add(d)
			return nil
		}
		start := c.t
		send(t, p, "POST", "/api/v2/organizations/org_1/discovery-domains")
		if got := c.t.Sub(start); got > time.Second/8+time.Millisecond {
			t.Errorf("pool file %q: the request waited %v", written, got)
		}
	}
}

func TestThePoolIsAFileOfTheUsersOwnDirectoryNeverALink(t *testing.T) {
	// The names auth0_org_assignment/rate_limits.py's pool_file gives (tests/test_rate_limits.py).
	dir := t.TempDir()
	path := poolFile(dir, "localhost:4431", "enterprise-production", 0.5)
	want := filepath.Join(dir, fmt.Sprintf("auth0-org-assignment-pace-%d", os.Getuid()), "localhost:4431-enterprise-production-0.5")
	if path != want {
		t.Fatalf("pool file %s, want %s", path, want)
	}
	// A link in its place (another user's trap, or a mistake) is not followed: the pacer keeps
	// its own bucket and the file the link names is untouched.
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, path); err != nil {
		t.Fatal(err)
	}
	p, _ := paced(t, "enterprise-production", 0.5, answer(ok))
	p.pool = dir
	req := httptest.NewRequest("POST", "https://localhost:4431/api/v2/organizations/org_1/discovery-domains", nil)
	if _, err := p.RoundTrip(req); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(victim); string(got) != "keep" {
		t.Fatalf("the linked file was written: %q", got)
	}
	// A directory others may enter is not used either.
	open := t.TempDir()
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	shared := filepath.Dir(poolFile(open, "h", "enterprise-production", 0.5))
	if err := os.Mkdir(shared, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shared, 0o777); err != nil {
		t.Fatal(err)
	}
	if _, err := openPrivate(filepath.Join(shared, "x")); err == nil {
		t.Fatal("a pool file was opened in a directory others may write")
	}
}

func TestTheGlobalBucketPacesEveryManagementRequestButNotTheToken(t *testing.T) {
	p, c := paced(t, "free", 0.5, answer(ok)) // 2 burst, 2 a second: half is 1 and 1
	start := c.t
	for i := 0; i < 10; i++ {
		send(t, p, "POST", "/oauth/token")
	}
	if c.t != start {
		t.Fatal("the token's requests were paced")
	}
	for i := 0; i < 11; i++ {
		send(t, p, "GET", "/api/v2/clients")
	}
	if got := c.t.Sub(start).Seconds(); got < 9.9 || got > 10.1 {
		t.Fatalf("11 reads took %.2f s, want 10", got)
	}
}

func TestAnEmptyTenantBucketWaitsForItsReset(t *testing.T) {
	var p *Pacer
	var c *clock
	calls := 0
	p, c = paced(t, "enterprise-production", 0.5, answer(func(*http.Request) *http.Response {
		calls++
		h := http.Header{}
		h.Set("X-RateLimit-Remaining", "0")
		h.Set("X-RateLimit-Reset", strconv.FormatInt(c.t.Add(30*time.Second).Unix(), 10))
		return &http.Response{StatusCode: 200, Header: h}
	}))
	start := c.t
	send(t, p, "GET", "/api/v2/connections")
	send(t, p, "GET", "/api/v2/connections")
	if got := c.t.Sub(start); got != 30*time.Second {
		t.Fatalf("the second request waited %v, want the 30 s to the reset", got)
	}
}

func TestUnknownTierAndBadShareNameTheVariable(t *testing.T) {
	if _, err := New("gold", 0.5, answer(ok)); err == nil ||
		!strings.Contains(err.Error(), TierVariable) || !strings.Contains(err.Error(), "enterprise-production, free") {
		t.Fatalf("unknown tier: %v", err)
	}
	t.Setenv(ShareVariable, "2")
	if _, err := FromEnvironment(answer(ok)); err == nil || !strings.Contains(err.Error(), ShareVariable) {
		t.Fatalf("share 2: %v", err)
	}
}

// onTheClock is a Pacer on the real clock whose bucket `name` gives a token every `every`,
// emptied, so that requests in it queue (the others keep the tier's).
func onTheClock(t *testing.T, name string, every time.Duration) *Pacer {
	t.Helper()
	p, err := New("enterprise-production", 1, answer(ok))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range p.all {
		if b.name == name {
			b.capacity, b.tokens, b.perSecond, b.updated = 1, 0, float64(time.Second)/float64(every), time.Now()
			return p
		}
	}
	t.Fatalf("no bucket %q", name)
	return nil
}

// gate holds the first request of a queue before it sleeps for its token, until open is
// called: requests queue behind it however slowly the machine starts them.
func gate(p *Pacer) (open func()) {
	opened := make(chan struct{})
	p.sleep = func(req *http.Request, d time.Duration) error {
		select {
		case <-opened:
		case <-req.Context().Done():
			return req.Context().Err()
		}
		return sleepFor(req, d)
	}
	return func() { close(opened) }
}

// queued waits until n requests wait in the queue of Write Organizations' creates.
func queued(t *testing.T, p *Pacer, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		p.mu.Lock()
		got := len(p.queues["Management API|Write Organizations"])
		p.mu.Unlock()
		if got == n {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("%d requests never queued", n)
}

func TestRequestsInTheSameBucketsAreServedInTheOrderTheyArrive(t *testing.T) {
	p := onTheClock(t, "Write Organizations", 40*time.Millisecond)
	open := gate(p)
	const requests = 20
	served := make(chan int, requests)
	for i := 0; i < requests; i++ {
		go func() {
			req := httptest.NewRequest("POST", "https://tenant.example/api/v2/organizations", nil)
			if _, err := p.RoundTrip(req); err == nil {
				served <- i
			}
		}()
		queued(t, p, i+1) // each arrives while the ones before it wait
	}
	open()
	for want := 0; want < requests; want++ {
		select {
		case got := <-served:
			if got != want {
				t.Fatalf("request %d was served when request %d's turn was", got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("request %d was not served", want)
		}
	}
}

func TestAWaitingRequestGivenUpLeavesTheQueueToTheNext(t *testing.T) {
	p := onTheClock(t, "Write Organizations", 100*time.Millisecond)
	open := gate(p)
	second, cancel := context.WithCancel(context.Background())
	defer cancel()
	results := make(chan error, 3)
	for i, ctx := range []context.Context{context.Background(), second, context.Background()} {
		go func() {
			req := httptest.NewRequest("POST", "https://tenant.example/api/v2/organizations", nil)
			_, err := p.RoundTrip(req.WithContext(ctx))
			results <- err
		}()
		queued(t, p, i+1)
	}
	cancel() // the second gives up, waiting behind the first
	open()
	var failed, succeeded int
	for i := 0; i < 3; i++ {
		select {
		case err := <-results:
			if errors.Is(err, context.Canceled) {
				failed++
			} else if err == nil {
				succeeded++
			} else {
				t.Fatal(err)
			}
		case <-time.After(2 * time.Second):
			t.Fatal("a request behind one given up was never served")
		}
	}
	if failed != 1 || succeeded != 2 {
		t.Fatalf("%d given up, %d served; want 1 and 2", failed, succeeded)
	}
}

func TestRequestsInOtherBucketsAreNotHeldBehindAQueue(t *testing.T) {
	p := onTheClock(t, "Write Organizations", time.Second)
	gate(p) // never opened: the creates wait until the test ends
	for i := 0; i < 3; i++ {
		go func() {
			req := httptest.NewRequest("POST", "https://tenant.example/api/v2/organizations", nil)
			_, _ = p.RoundTrip(req.WithContext(t.Context()))
		}()
	}
	queued(t, p, 3)
	start := time.Now()
	send(t, p, "GET", "/api/v2/clients")
	if waited := time.Since(start); waited > 100*time.Millisecond {
		t.Fatalf("a read waited %v behind creates queued for their own bucket", waited)
	}
}

func TestAnEmptyBucketTheTenantNamesHoldsItsRequestsOnly(t *testing.T) {
	var c *clock
	empty := func(limit string) answer {
		return func(*http.Request) *http.Response {
			h := http.Header{}
			h.Set("X-RateLimit-Limit", limit)
			h.Set("X-RateLimit-Remaining", "0")
			h.Set("X-RateLimit-Reset", strconv.FormatInt(c.t.Add(30*time.Second).Unix(), 10))
			return &http.Response{StatusCode: 429, Header: h}
		}
	}
	// Write Organizations' size is 5: only the organizations' writes wait for the reset.
	var p *Pacer
	p, c = paced(t, "enterprise-production", 0.5, empty("5"))
	start := c.t
	send(t, p, "POST", "/api/v2/organizations")
	p.next = answer(ok)
	send(t, p, "GET", "/api/v2/clients")
	if c.t != start {
		t.Fatalf("a read waited %v for the reset of Write Organizations", c.t.Sub(start))
	}
	send(t, p, "POST", "/api/v2/organizations")
	if got := c.t.Sub(start); got != 30*time.Second {
		t.Fatalf("the next create waited %v, want the 30 s to the reset", got)
	}
	// The Management API's own bucket (50) holds every request.
	p, c = paced(t, "enterprise-production", 0.5, empty("50"))
	start = c.t
	send(t, p, "POST", "/api/v2/organizations")
	p.next = answer(ok)
	send(t, p, "GET", "/api/v2/clients")
	if got := c.t.Sub(start); got != 30*time.Second {
		t.Fatalf("a read waited %v after the API's bucket was reported empty, want 30 s", got)
	}
}

func TestAnInterruptGivesUpTheWritesWaitingAndAfterButNotTheReads(t *testing.T) {
	p := onTheClock(t, "Write Organizations", time.Second)
	var sent []string
	var mu sync.Mutex
	p.next = answer(func(r *http.Request) *http.Response {
		mu.Lock()
		defer mu.Unlock()
		sent = append(sent, r.Method+" "+r.URL.Path)
		return ok(r)
	})
	gate(p) // never opened: the first create waits for its token until the interrupt
	results := make(chan error, 3)
	for i := 0; i < 3; i++ {
		go func() {
			req := httptest.NewRequest("POST", "https://tenant.example/api/v2/organizations", nil)
			_, err := p.RoundTrip(req)
			results <- err
		}()
		queued(t, p, i+1)
	}
	p.Interrupt()
	for i := 0; i < 3; i++ {
		select {
		case err := <-results:
			if !errors.Is(err, ErrInterrupted) {
				t.Fatalf("a create waiting at the interrupt answered %v, want ErrInterrupted", err)
			}
		case <-time.After(2 * time.Second):
			t.Fatal("a create waiting at the interrupt still waits")
		}
	}
	req := httptest.NewRequest("DELETE", "https://tenant.example/api/v2/organizations/org_1", nil)
	if _, err := p.RoundTrip(req); !errors.Is(err, ErrInterrupted) {
		t.Fatalf("a write after the interrupt answered %v, want ErrInterrupted", err)
	}
	p.sleep = sleepFor
	send(t, p, "GET", "/api/v2/organizations/org_1") // a read still goes
	mu.Lock()
	defer mu.Unlock()
	if len(sent) != 1 || sent[0] != "GET /api/v2/organizations/org_1" {
		t.Fatalf("the tenant got %v, want only the read", sent)
	}
}

func TestARequestTheTenantNeverAnswersFailsAfterTheResponseTimeout(t *testing.T) {
	never := make(chan struct{})
	tenant := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-never }))
	defer tenant.Close()
	defer close(never)
	client := &http.Client{
		Transport: WithResponseTimeout(http.DefaultTransport, 200*time.Millisecond),
		Timeout:   10 * time.Second, // (so that a transport without the timeout fails, not hangs)
	}
	start := time.Now()
	resp, err := client.Get(tenant.URL + "/api/v2/organizations")
	if err == nil {
		resp.Body.Close()
		t.Fatal("a request the tenant never answered succeeded")
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Fatalf("the request failed after %v, want about the 200 ms given", waited)
	}
	if ResponseTimeout < time.Minute {
		t.Fatalf("ResponseTimeout %v would fail a slow but working tenant", ResponseTimeout)
	}
}
