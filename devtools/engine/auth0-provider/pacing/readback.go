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

// The creates whose answer is the object the upstream provider reads right after: each
// create's path, and the answer's field holding the id the read appends to that path.
var readBackCreates = []struct {
	path    *regexp.Regexp
	idField string
}{
	{regexp.MustCompile(`^/api/v2/organizations$`), "id"},
	{regexp.MustCompile(`^/api/v2/organizations/[^/]+/(enabled_connections|connections)$`), "connection_id"},
	{regexp.MustCompile(`^/api/v2/organizations/[^/]+/discovery-domains$`), "id"},
}

// The update whose answer is the object the upstream provider reads right after, at the same
// path: an organization's connection. Its read-back falls in "Read Organization Connections",
// the slowest bucket an update would otherwise wait in (rate_limits.deploy_parallelism).
var readBackUpdate = regexp.MustCompile(`^/api/v2/organizations/[^/]+/(enabled_connections|connections)/[^/]+$`)

// readBackOf says whether req's answer stands in for the read that follows it. For a create,
// idField names the answer's field holding the id the read appends to req's path; for an
// update (idField ""), the read goes to req's own path.
func readBackOf(req *http.Request) (answers bool, idField string) {
	switch req.Method {
	case http.MethodPost:
		for _, create := range readBackCreates {
			if create.path.MatchString(req.URL.Path) {
				return true, create.idField
			}
		}
	case http.MethodPatch:
		return readBackUpdate.MatchString(req.URL.Path), ""
	}
	return false, ""
}

// ReadBackWindow is how long a write's answer stands in for the read that follows it. The
// provider reads right after the write returns; a read that comes later (a refresh) goes to
// the tenant.
const ReadBackWindow = 30 * time.Second

// ReadBack answers the read-back of an organization, its connection and its discovery domain
// from their creates' answers.
//
// The upstream provider creates each of them (POST /api/v2/organizations, POST
// .../organizations/{id}/connections, POST .../organizations/{id}/discovery-domains), then
// reads it back (GET on the created object's path) to fill the resource's state. Those reads
// cost as much of the tenant's rate limit as the writes: the organization's and the discovery
// domain's fall in the Management API's own bucket, the connection's in "Read Organization
// Connections", which allows fewer requests than any bucket a deploy writes through (100 a
// minute on Enterprise, against 150 for "Write Organizations"). Auth0 answers each create with
// the object the read returns: go-auth0's recordings of a real tenant show the two bodies with
// the same fields and values (TestOrganizationManager_Read for an organization,
// TestOrganizationManager_DiscoveryDomain for a discovery domain,
// TestOrganizationManager_Connection for a connection under the older enabled_connections
// path; go-auth0's v2 types give the newer connections path's create and read the same
// fields), as the Management API's reference does
// (https://auth0.com/docs/api/management/v2/organizations/post-enabled-connections and
// .../get-enabled-connections-by-connection-id). So ReadBack keeps each create's answer and
// serves it to the first GET of the created object, once, within ReadBackWindow; a write to
// that object, or to anything it sits under, drops what was kept. An update of an
// organization's connection (PATCH) is read back the same way, and answered with the updated
// object too (TestOrganizationManager_UpdateConnection records the PATCH's and the GET's
// bodies equal), so its answer is kept for that read likewise. Nothing else is answered
// without the tenant.
type ReadBack struct {
	next http.RoundTripper
	mu   sync.Mutex
	kept map[string]keptAnswer // by the host and path of the read it stands in for
	now  func() time.Time
}

type keptAnswer struct {
	body []byte
	at   time.Time
}

// NewReadBack answers read-backs from their creates and updates, and sends every other request
// to next.
func NewReadBack(next http.RoundTripper) *ReadBack {
	return &ReadBack{next: next, kept: map[string]keptAnswer{}, now: time.Now}
}

// RoundTrip serves a read-back from its write's answer, or sends the request.
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
	answers, idField := readBackOf(req)
	if req.Method != http.MethodGet && idField == "" {
		r.forget(key) // every write but a create; an update then keeps its own answer
	}
	resp, err := r.next.RoundTrip(req)
	if err != nil || !answers || resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return resp, nil // the caller reads what came; nothing is kept
	}
	if idField == "" {
		r.keep(key, body)
		return resp, nil
	}
	var created map[string]any
	if json.Unmarshal(body, &created) == nil {
		if id, ok := created[idField].(string); ok && id != "" {
			r.keep(key+"/"+url.PathEscape(id), body)
		}
	}
	return resp, nil
}

// take removes and returns the answer kept for a read of key, if one is recent enough.
func (r *ReadBack) take(key string) (keptAnswer, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	answer, ok := r.kept[key]
	if !ok {
		return keptAnswer{}, false
	}
	delete(r.kept, key)
	return answer, r.now().Sub(answer.at) <= ReadBackWindow
}

// keep keeps a write's answer for the read of key, and drops the answers no read came for.
func (r *ReadBack) keep(key string, body []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	for other, answer := range r.kept {
		if now.Sub(answer.at) > ReadBackWindow {
			delete(r.kept, other)
		}
	}
	r.kept[key] = keptAnswer{body, now}
}

// forget drops what is kept at or under the key of a write (host and path): an object updated
// or removed, an organization updated or deleted.
func (r *ReadBack) forget(key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for other := range r.kept {
		if other == key || strings.HasPrefix(other, key+"/") {
			delete(r.kept, other)
		}
	}
}
