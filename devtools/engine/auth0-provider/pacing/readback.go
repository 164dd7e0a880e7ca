package pacing

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
)

// The create of an organization's connection, under either path Auth0 serves them at.
var connectionCreate = regexp.MustCompile(`^/api/v2/organizations/[^/]+/(enabled_connections|connections)$`)

// ReadBackWindow is how long a create's answer stands in for the read that follows it. The
// provider reads right after the create returns; a read that comes later (a refresh) goes to
// the tenant.
const ReadBackWindow = 30 * time.Second

// ReadBack answers the read-back of an organization's connection from its create's answer.
//
// The upstream provider creates an organization's connection (POST
// /api/v2/organizations/{id}/connections), then reads it back (GET .../connections/{connection
// id}) to fill the resource's state. That read falls in "Read Organization Connections", which
// allows fewer requests than any bucket a deploy writes through (100 a minute on Enterprise,
// against 150 for "Write Organizations"), so the read-backs, not the writes, set how fast a deploy
// of many organizations can go. Auth0 answers the create with the object the read returns (the
// same fields in the Management API's reference,
// https://auth0.com/docs/api/management/v2/organizations/post-enabled-connections and
// .../get-enabled-connections-by-connection-id; go-auth0's recording of a real tenant,
// TestOrganizationManager_Connection, shows the two bodies equal under the older
// enabled_connections path; go-auth0's v2 types give the newer path's create and read the same
// fields), so ReadBack keeps the create's answer and serves it to the first matching GET, once,
// within ReadBackWindow; a write to that connection or its organization drops what it kept.
// Nothing else is answered without the tenant.
type ReadBack struct {
	next    http.RoundTripper
	mu      sync.Mutex
	created map[string]createdAnswer // by the host and path of the connection's read
	now     func() time.Time
}

type createdAnswer struct {
	body []byte
	at   time.Time
}

// NewReadBack answers connections' read-backs from their creates, and sends every other request
// to next.
func NewReadBack(next http.RoundTripper) *ReadBack {
	return &ReadBack{next: next, created: map[string]createdAnswer{}, now: time.Now}
}

// RoundTrip serves a connection's read-back from its create's answer, or sends the request.
func (r *ReadBack) RoundTrip(req *http.Request) (*http.Response, error) {
	// One plugin process may serve providers of several tenants: the tenant is part of the key.
	key := req.URL.Host + req.URL.Path
	if req.Method == http.MethodGet && req.URL.RawQuery == "" {
		if answer, ok := r.take(key); ok {
			return &http.Response{
				Status:        "200 OK",
				StatusCode:    http.StatusOK,
				Proto:         "HTTP/1.1",
				ProtoMajor:    1,
				ProtoMinor:    1,
				Header:        http.Header{"Content-Type": {"application/json; charset=utf-8"}},
				Body:          io.NopCloser(bytes.NewReader(answer.body)),
				ContentLength: int64(len(answer.body)),
				Request:       req,
			}, nil
		}
	}
	create := req.Method == http.MethodPost && connectionCreate.MatchString(req.URL.Path)
	if req.Method != http.MethodGet && !create {
		r.forget(key)
	}
	resp, err := r.next.RoundTrip(req)
	if err != nil || !create || resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return resp, nil // the caller reads what came; nothing is kept
	}
	var created struct {
		ConnectionID string `json:"connection_id"`
	}
	if json.Unmarshal(body, &created) == nil && created.ConnectionID != "" {
		r.keep(key+"/"+url.PathEscape(created.ConnectionID), body)
	}
	return resp, nil
}

// take removes and returns the answer kept for a read of key, if one is recent enough.
func (r *ReadBack) take(key string) (createdAnswer, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	answer, ok := r.created[key]
	if !ok {
		return createdAnswer{}, false
	}
	delete(r.created, key)
	return answer, r.now().Sub(answer.at) <= ReadBackWindow
}

// keep keeps a create's answer for the read of key, and drops the answers no read came for.
func (r *ReadBack) keep(key string, body []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	for kept, answer := range r.created {
		if now.Sub(answer.at) > ReadBackWindow {
			delete(r.created, kept)
		}
	}
	r.created[key] = createdAnswer{body, now}
}

// forget drops what is kept under the key of a write (host and path): a connection updated or
// removed, an organization deleted.
func (r *ReadBack) forget(key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for kept := range r.created {
		if kept == key || strings.HasPrefix(kept, key+"/") {
			delete(r.created, kept)
		}
	}
}
