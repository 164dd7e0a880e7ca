// Package pacing keeps a deploy's Management API requests under a share of the tenant's
// documented rate limits.
//
// Auth0 limits a tenant's Management API with token buckets: a global one, and endpoint buckets
// a request also spends ("Rate limit algorithm" and "Tenant request limits order",
// https://auth0.com/docs/troubleshoot/customer-support/operational-policies/rate-limit-policy);
// each tier's sizes and rates are on its Rate Limit Configurations page (the table's sources).
// The limits are the tenant's, shared with every application that calls the API at that moment,
// so a deploy that spends them all starves the customer's own applications. The Pacer holds
// buckets of Share times each documented one (burst and refill; a little less burst near the
// whole rate, see capacity), and a request waits until every bucket it falls in has a token.
// It also honours what responses report of the tenant's real buckets
// (https://auth0.com/docs/troubleshoot/customer-support/operational-policies/rate-limit-policy/rate-limit-use-cases):
// after a 429, or a response whose x-ratelimit-remaining is 0, the bucket it reports (by its
// x-ratelimit-limit, else every bucket of that request) waits until x-ratelimit-reset.
//
// The table (rate_limits.json) is auth0_org_assignment/rate_limits.json, copied here by
// scripts/engine when it builds the plugin.
package pacing

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

//go:embed rate_limits.json
var tableJSON []byte

// The environment variables a deploy names its tier and share in, and their defaults.
const (
	TierVariable  = "AUTH0_RATE_LIMIT_TIER"
	ShareVariable = "AUTH0_RATE_LIMIT_SHARE"
	DefaultTier   = "enterprise-production"
	DefaultShare  = 0.5
)

type limitEntry struct {
	Name        string   `json:"name"`
	Burst       float64  `json:"burst"`
	PerSecond   float64  `json:"perSecond"`
	PerMinute   float64  `json:"perMinute"` // set for a rate per minute, which Auth0 adds by the second
	Methods     []string `json:"methods"`
	PathPattern string   `json:"pathPattern"`
	Query       string   `json:"query"`
}

type tierEntry struct {
	Management limitEntry   `json:"management"`
	Endpoints  []limitEntry `json:"endpoints"`
}

type table struct {
	Deploy struct {
		OperationTimeoutMinutes float64 `json:"operationTimeoutMinutes"`
	} `json:"deploy"`
	Tiers map[string]tierEntry `json:"tiers"`
}

func loadTable() (table, error) {
	var t table
	err := json.Unmarshal(tableJSON, &t)
	return t, err
}

// OperationTimeout is how long the plugin gives a resource operation, its wait for a turn in
// the pacer included: the table's deploy.operationTimeoutMinutes, which the deploy's
// parallelism is computed from too (auth0_org_assignment/rate_limits.py, deploy_parallelism).
func OperationTimeout() (time.Duration, error) {
	t, err := loadTable()
	if err != nil {
		return 0, fmt.Errorf("the rate-limit table embedded in the auth0 plugin is invalid: %w", err)
	}
	if t.Deploy.OperationTimeoutMinutes <= 0 {
		return 0, fmt.Errorf("the rate-limit table embedded in the auth0 plugin has no deploy.operationTimeoutMinutes")
	}
	return time.Duration(t.Deploy.OperationTimeoutMinutes * float64(time.Minute)), nil
}

// TierNames lists the table's tiers, sorted.
func TierNames() []string {
	t, _ := loadTable()
	names := make([]string, 0, len(t.Tiers))
	for name := range t.Tiers {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

type bucket struct {
	name      string
	burst     float64 // the documented size, as x-ratelimit-limit reports it
	capacity  float64
	perSecond float64
	methods   map[string]bool
	path      *regexp.Regexp
	query     string
	tokens    float64
	updated   time.Time
	heldUntil time.Time
}

func (b *bucket) counts(req *http.Request) bool {
	if b.path == nil {
		return true // the API's global bucket
	}
	if !b.methods[req.Method] || !b.path.MatchString(req.URL.Path) {
		return false
	}
	return b.query == "" || req.URL.Query().Has(b.query)
}

func (b *bucket) refill(now time.Time) {
	if now.After(b.updated) {
		b.tokens = math.Min(b.capacity, b.tokens+now.Sub(b.updated).Seconds()*b.perSecond)
		b.updated = now
	}
}

// wait is how long until the bucket may give a token (0: now).
func (b *bucket) wait(now time.Time) time.Duration {
	var d time.Duration
	if b.heldUntil.After(now) {
		d = b.heldUntil.Sub(now)
	}
	if b.tokens < 1 {
		need := time.Duration((1 - b.tokens) / b.perSecond * float64(time.Second))
		if need > d {
			d = need
		}
	}
	return d
}

// Pacer is an http.RoundTripper that paces Management API requests (paths under /api/v2/);
// other requests (the token's, /oauth/token) go through unpaced.
//
// Requests that fall in the same set of buckets are served in the order they arrive: only the
// first of them waits for the buckets, the others wait for their turn. So, while the tenant
// reports no empty bucket, a request waits about as long as its buckets take to serve the ones
// before it (a deploy keeps that under the provider's timeout by how many operations it runs at
// once, rate_limits.deploy_parallelism), instead of racing every other waiter at each token.
// Requests of other bucket sets (a read while creates wait for Write Organizations) are not
// held behind them; the first requests of the queues share the global bucket in no order.
type Pacer struct {
	Tier   string
	Share  float64
	next   http.RoundTripper
	mu     sync.Mutex
	all    []*bucket                  // the global bucket first
	queues map[string][]chan struct{} // each request's turn, first first; closed when it comes
	now    func() time.Time
	sleep  func(*http.Request, time.Duration) error

	interrupted context.Context // done once the deploy is interrupted (Interrupt)
	interrupt   context.CancelFunc

	pool       string    // where the global bucket is shared with the deploy's other processes (pool.go); "": not
	apart      *bucket   // the global bucket's requests that cannot use the pool take from this (pool.go)
	apartUntil time.Time // a write to the pool failed: apart until then
	debt       float64   // tokens taken apart, which the next pooled requests pay the pool
	warnings   io.Writer // where a pool that cannot be used is said (Warnings)
	warned     bool      // whether it was noted
	warning    string    // what to say, once p.mu is released
}

// ErrInterrupted is the answer to a write still waiting for its turn when the deploy is
// interrupted, and to every write after that: the tenant never got it.
var ErrInterrupted = errors.New("the deploy was interrupted before this request was sent, so the tenant did not get it; run the deploy again")

// capacity is how many requests a pace at share of e may send at once: its share of the burst,
// but at most the burst less one request and what the pace refills in one of Auth0's refill
// steps (a rate per second is added by the millisecond, a rate per minute by the second: Rate
// Limit Policy, "Rate limit algorithm"), and at least one. A pace refills continuously and
// Auth0 a step at once, so at (nearly) the whole rate a pace holding the whole burst is ahead
// of the tenant by up to a step's refill once both are spent. The same rule as
// auth0_org_assignment/rate_limits.py's Bucket.capacity.
func capacity(e limitEntry, share float64) float64 {
	step := 0.001
	if e.PerMinute > 0 {
		step = 1
	}
	return math.Max(1, math.Min(e.Burst*share, e.Burst-1-e.PerSecond*share*step))
}

// New paces next at share of tier's buckets.
func New(tier string, share float64, next http.RoundTripper) (*Pacer, error) {
	t, err := loadTable()
	if err != nil {
		return nil, fmt.Errorf("the rate-limit table embedded in the auth0 plugin is invalid: %w", err)
	}
	entry, ok := t.Tiers[tier]
	if !ok {
		return nil, fmt.Errorf("%s=%q is not a rate-limit tier the table lists; use one of %s",
			TierVariable, tier, strings.Join(TierNames(), ", "))
	}
	if !(share > 0 && share <= 1) {
		return nil, fmt.Errorf("%s=%v is not a share of the rate limit; use a number above 0 and at most 1 (default %v)",
			ShareVariable, share, DefaultShare)
	}
	p := &Pacer{
		Tier: tier, Share: share, next: next, queues: map[string][]chan struct{}{}, now: time.Now, sleep: sleepFor,
		warnings: Warnings,
	}
	p.interrupted, p.interrupt = context.WithCancel(context.Background())
	start := p.now()
	add := func(e limitEntry, global bool) error {
		b := &bucket{
			name:      e.Name,
			burst:     e.Burst,
			capacity:  capacity(e, share),
			perSecond: e.PerSecond * share,
			updated:   start,
		}
		if b.perSecond <= 0 {
			return fmt.Errorf("rate-limit table, tier %s: bucket %q has no refill rate", tier, e.Name)
		}
		b.tokens = b.capacity
		if !global {
			re, err := regexp.Compile(e.PathPattern)
			if err != nil {
				return fmt.Errorf("rate-limit table, tier %s: bucket %q: %w", tier, e.Name, err)
			}
			b.path, b.query, b.methods = re, e.Query, map[string]bool{}
			for _, m := range e.Methods {
				b.methods[strings.ToUpper(m)] = true
			}
		}
		p.all = append(p.all, b)
		return nil
	}
	entry.Management.Name = "Management API"
	if err := add(entry.Management, true); err != nil {
		return nil, err
	}
	p.apart = apartBucket(entry.Management, share, start)
	for _, e := range entry.Endpoints {
		if err := add(e, false); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Warnings is where a pacer says what the deploy should know but that fails nothing (a pool
// that cannot be used), a line per Write. The engine hides a provider plugin's stderr, so the
// plugin's main sets it to the engine's log, which shows each line as a warning.
var Warnings io.Writer = os.Stderr

// FromEnvironment reads the tier and share from the deploy's environment (defaults: the
// enterprise production tier, half of it).
func FromEnvironment(next http.RoundTripper) (*Pacer, error) {
	tier := os.Getenv(TierVariable)
	if tier == "" {
		tier = DefaultTier
	}
	share := DefaultShare
	if raw := os.Getenv(ShareVariable); raw != "" {
		parsed, err := strconv.ParseFloat(raw, 64)
		if err != nil || !(parsed > 0 && parsed <= 1) {
			return nil, fmt.Errorf("%s=%q is not a share of the rate limit; use a number above 0 and at most 1 (default %v)",
				ShareVariable, raw, DefaultShare)
		}
		share = parsed
	}
	p, err := New(tier, share, next)
	if err != nil {
		return nil, err
	}
	p.pool = os.TempDir() // one global bucket with the program's dynamic resources
	return p, nil
}

func sleepFor(req *http.Request, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-req.Context().Done():
		return context.Cause(req.Context())
	}
}

// Interrupt gives up the writes waiting for their turn, and every write after them, with
// ErrInterrupted; reads still go, and a request already sent finishes. The Pulumi engine asks
// its providers to cancel on the first interrupt of a deploy (Ctrl+C, a job cancelled), then
// waits for the operations under way: with thousands of them waiting in the pacer, that would
// be the rest of the deploy. Each of them now fails having written nothing.
func (p *Pacer) Interrupt() { p.interrupt() }

// waiting is req as its wait for a turn sees it: a write's wait ends at an interrupt too. done
// releases what it holds.
func (p *Pacer) waiting(req *http.Request) (_ *http.Request, done func()) {
	if req.Method == http.MethodGet || req.Method == http.MethodHead {
		return req, func() {}
	}
	ctx, cancel := context.WithCancelCause(req.Context())
	stop := context.AfterFunc(p.interrupted, func() { cancel(ErrInterrupted) })
	return req.WithContext(ctx), func() { stop(); cancel(nil) }
}

// bucketsOf is the buckets a request falls in, and the name of their queue.
func (p *Pacer) bucketsOf(req *http.Request) ([]*bucket, string) {
	var of []*bucket
	var names []string
	for _, b := range p.all {
		if b.counts(req) {
			of = append(of, b)
			names = append(names, b.name)
		}
	}
	return of, strings.Join(names, "|")
}

// take waits for the request's turn among those in the same buckets, then until every bucket
// has a token, and takes one from each.
func (p *Pacer) take(req *http.Request, buckets []*bucket, queue string) error {
	req, done := p.waiting(req)
	defer done()
	mine := make(chan struct{})
	p.mu.Lock()
	defer p.mu.Unlock()
	p.queues[queue] = append(p.queues[queue], mine)
	defer p.leave(queue, mine) // served or given up; runs before the unlock
	if len(p.queues[queue]) > 1 {
		p.mu.Unlock()
		select {
		case <-mine:
		case <-req.Context().Done():
		}
		p.mu.Lock()
	}
	for {
		if req.Context().Err() != nil { // given up: its tokens are the next one's
			return context.Cause(req.Context())
		}
		now, release, takes := p.now(), func() {}, buckets
		if len(buckets) > 0 && buckets[0] == p.all[0] { // the global bucket, first of p.all
			var global *bucket
			now, global, release = p.pooled(req.URL.Host, buckets[0])
			if global != buckets[0] { // this process's own, apart from the pool
				takes = append([]*bucket{global}, buckets[1:]...)
			}
		}
		var wait time.Duration
		for _, b := range takes {
			b.refill(now)
			if w := b.wait(now); w > wait {
				wait = w
			}
		}
		if wait == 0 {
			for _, b := range takes {
				b.tokens--
			}
			if len(takes) > 0 && takes[0] == p.apart {
				p.debt = math.Min(p.debt+1, p.all[0].capacity)
			}
			release()
			return nil
		}
		release()
		p.mu.Unlock()
		err := p.sleep(req, wait)
		p.mu.Lock()
		if req.Context().Err() != nil {
			return context.Cause(req.Context())
		}
		if err != nil {
			return err
		}
	}
}

// leave takes a request out of its queue; when it was first, the next one's turn comes. p.mu
// is held.
func (p *Pacer) leave(queue string, turn chan struct{}) {
	waiting := p.queues[queue]
	for i, w := range waiting {
		if w != turn {
			continue
		}
		waiting = append(waiting[:i], waiting[i+1:]...)
		if i == 0 && len(waiting) > 0 {
			close(waiting[0])
		}
		break
	}
	if len(waiting) == 0 {
		delete(p.queues, queue)
	} else {
		p.queues[queue] = waiting
	}
}

// hold makes a bucket wait until the tenant's reset when a response says it is empty: the
// request's bucket whose documented size x-ratelimit-limit reports, or all of the request's
// buckets when the response names none of them (a 429 or a reset without a limit).
func (p *Pacer) hold(resp *http.Response, buckets []*bucket) {
	remaining, err := strconv.Atoi(resp.Header.Get("X-RateLimit-Remaining"))
	empty := resp.StatusCode == http.StatusTooManyRequests || (err == nil && remaining <= 0)
	if !empty {
		return
	}
	reset, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64)
	until := p.now().Add(time.Second)
	if err == nil {
		until = time.Unix(reset, 0)
	}
	held := buckets
	if limit, err := strconv.ParseFloat(resp.Header.Get("X-RateLimit-Limit"), 64); err == nil {
		var named []*bucket
		for _, b := range buckets {
			if b.burst == limit {
				named = append(named, b)
			}
		}
		if len(named) > 0 {
			held = named
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, b := range held {
		if until.After(b.heldUntil) {
			b.heldUntil = until
		}
		if b == p.all[0] && until.After(p.apart.heldUntil) { // the global bucket, pooled or not
			p.apart.heldUntil = until
		}
	}
}

// RoundTrip paces a Management API request, then sends it.
func (p *Pacer) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.HasPrefix(req.URL.Path, "/api/v2/") {
		return p.next.RoundTrip(req)
	}
	buckets, queue := p.bucketsOf(req)
	err := p.take(req, buckets, queue)
	p.say()
	if err != nil {
		return nil, err
	}
	resp, err := p.next.RoundTrip(req)
	if err == nil && resp != nil {
		p.hold(resp, buckets)
	}
	return resp, err
}

var (
	installMu sync.Mutex
	original  http.RoundTripper
	installed *Pacer
)

// ResponseTimeout is the longest a request sent waits for the tenant's answer to begin. The
// upstream provider's HTTP client sets none of its own, and each operation now runs for hours
// (package timeouts), so without it a tenant that never answers would hold an operation that
// long; the provider's retries of a failed request (three, internal/config/config.go) follow.
const ResponseTimeout = 2 * time.Minute

// WithResponseTimeout is next with timeout on each answer's start (http.Transport's
// ResponseHeaderTimeout), when next is an *http.Transport that sets none; else next.
func WithResponseTimeout(next http.RoundTripper, timeout time.Duration) http.RoundTripper {
	transport, ok := next.(*http.Transport)
	if !ok || transport.ResponseHeaderTimeout != 0 {
		return next
	}
	bounded := transport.Clone()
	bounded.ResponseHeaderTimeout = timeout
	return bounded
}

// Interrupt interrupts the installed Pacer's deploy (Pacer.Interrupt), if one is installed.
func Interrupt() {
	installMu.Lock()
	defer installMu.Unlock()
	if installed != nil {
		installed.Interrupt()
	}
}

// Install puts a Pacer from the environment in front of http.DefaultTransport, which the
// upstream provider's HTTP client reads when it is configured, and a ReadBack in front of the
// Pacer (a read-back it answers spends no token). Configuring again keeps the buckets when the
// tier and share are the same.
func Install() error {
	installMu.Lock()
	defer installMu.Unlock()
	if original == nil {
		original = WithResponseTimeout(http.DefaultTransport, ResponseTimeout)
	}
	pacer, err := FromEnvironment(original)
	if err != nil {
		return err
	}
	if installed != nil && installed.Tier == pacer.Tier && installed.Share == pacer.Share {
		return nil
	}
	installed = pacer
	http.DefaultTransport = NewReadBack(pacer)
	return nil
}
