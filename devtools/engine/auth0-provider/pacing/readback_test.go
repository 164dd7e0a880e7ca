package pacing

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// tenant answers a create with the created object and counts what reaches it.
type tenant struct {
	sent   []string
	status int
}

func (t *tenant) RoundTrip(req *http.Request) (*http.Response, error) {
	t.sent = append(t.sent, req.Method+" "+req.URL.RequestURI())
	status, body := http.StatusOK, `{"from":"tenant"}`
	if req.Method == http.MethodPatch {
		status, body = t.status, `{"from":"the update"}`
	}
	if req.Method == http.MethodPost {
		status = t.status
		id := "con_A"
		if strings.Contains(req.URL.Path, "org_2") {
			id = "con_B"
		}
		body = `{"connection_id":"` + id + `","show_as_button":true,"connection":{"name":"db","strategy":"auth0"}}`
		switch {
		case req.URL.Path == "/api/v2/organizations":
			body = `{"name":"acme","display_name":"Acme","id":"org_new"}`
		case strings.HasSuffix(req.URL.Path, "/discovery-domains"):
			body = `{"id":"ord_A","domain":"acme.com","status":"pending","verification_txt":"x"}`
		case strings.HasSuffix(req.URL.Path, "/members"):
			body = `{"id":"mem_1"}`
		}
	}
	return &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body))}, nil
}

func roundTrip(t *testing.T, rt http.RoundTripper, method, path string) (int, string) {
	t.Helper()
	resp, err := rt.RoundTrip(httptest.NewRequest(method, "https://tenant.example"+path, strings.NewReader("{}")))
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func readBack(status int) (*ReadBack, *tenant, *time.Time) {
	upstream := &tenant{status: status}
	r := NewReadBack(upstream)
	now := time.Unix(1_700_000_000, 0)
	r.now = func() time.Time { return now }
	return r, upstream, &now
}

const (
	create = "/api/v2/organizations/org_1/connections"
	read   = "/api/v2/organizations/org_1/connections/con_A"
)

func TestAConnectionsReadBackIsItsCreatesAnswerOnce(t *testing.T) {
	for _, kind := range []string{"connections", "enabled_connections"} {
		r, upstream, _ := readBack(http.StatusCreated)
		_, created := roundTrip(t, r, "POST", "/api/v2/organizations/org_1/"+kind)
		status, body := roundTrip(t, r, "GET", "/api/v2/organizations/org_1/"+kind+"/con_A")
		if status != http.StatusOK || body != created {
			t.Fatalf("%s: the read-back answered %d %s, want 200 and the create's %s", kind, status, body, created)
		}
		if len(upstream.sent) != 1 {
			t.Fatalf("%s: the tenant got %v, want the create alone", kind, upstream.sent)
		}
		if _, body := roundTrip(t, r, "GET", "/api/v2/organizations/org_1/"+kind+"/con_A"); body != `{"from":"tenant"}` {
			t.Fatalf("%s: a second read was answered %s, not by the tenant", kind, body)
		}
	}
}

func TestAnOrganizationsAndADiscoveryDomainsReadBackIsTheirCreatesAnswer(t *testing.T) {
	for create, read := range map[string]string{
		"/api/v2/organizations":                         "/api/v2/organizations/org_new",
		"/api/v2/organizations/org_1/discovery-domains": "/api/v2/organizations/org_1/discovery-domains/ord_A",
	} {
		r, upstream, _ := readBack(http.StatusCreated)
		_, created := roundTrip(t, r, "POST", create)
		if status, body := roundTrip(t, r, "GET", read); status != http.StatusOK || body != created {
			t.Fatalf("GET %s answered %d %s, want 200 and the create's %s", read, status, body, created)
		}
		if len(upstream.sent) != 1 {
			t.Fatalf("the tenant got %v, want the create alone", upstream.sent)
		}
	}
}

func TestOtherCreatesKeepNothing(t *testing.T) {
	r, upstream, _ := readBack(http.StatusCreated)
	// A create of another kind under an organization, whose answer has an id: its object's
	// read goes to the tenant.
	roundTrip(t, r, "POST", "/api/v2/organizations/org_1/members")
	roundTrip(t, r, "GET", "/api/v2/organizations/org_1/members/mem_1")
	if len(upstream.sent) != 2 {
		t.Fatalf("a members read was answered without the tenant: %v", upstream.sent)
	}
}

func TestOnlyTheCreatedConnectionsOwnReadIsAnswered(t *testing.T) {
	r, upstream, _ := readBack(http.StatusCreated)
	roundTrip(t, r, "POST", create)
	roundTrip(t, r, "POST", "/api/v2/organizations/org_2/connections") // another organization's
	for _, path := range []string{
		"/api/v2/organizations/org_1/connections/con_B",          // another connection
		"/api/v2/organizations/org_2/connections/con_A",          // another organization
		"/api/v2/organizations/org_1/enabled_connections/con_A",  // the other path
		"/api/v2/organizations/org_1/connections/con_A?fields=x", // a query
		"/api/v2/organizations/org_1",
	} {
		if _, body := roundTrip(t, r, "GET", path); body != `{"from":"tenant"}` {
			t.Fatalf("GET %s was answered %s without the tenant", path, body)
		}
	}
	// Each create's answer is still kept for its own read.
	if _, body := roundTrip(t, r, "GET", read); !strings.Contains(body, "con_A") {
		t.Fatalf("org_1's read-back went to the tenant after the others: %s", body)
	}
	if _, body := roundTrip(t, r, "GET", "/api/v2/organizations/org_2/connections/con_B"); !strings.Contains(body, "con_B") {
		t.Fatalf("org_2's read-back went to the tenant: %s", body)
	}
	if len(upstream.sent) != 7 {
		t.Fatalf("the tenant got %d requests, want 7: %v", len(upstream.sent), upstream.sent)
	}
}

func TestAnotherTenantsReadIsNotAnswered(t *testing.T) {
	r, upstream, _ := readBack(http.StatusCreated)
	roundTrip(t, r, "POST", create)
	req := httptest.NewRequest("GET", "https://other-tenant.example"+read, nil)
	if _, err := r.RoundTrip(req); err != nil {
		t.Fatal(err)
	}
	if len(upstream.sent) != 2 {
		t.Fatalf("another tenant's read was answered from this one's create: %v", upstream.sent)
	}
}

func TestAFailedCreateKeepsNothing(t *testing.T) {
	for _, status := range []int{http.StatusConflict, http.StatusTooManyRequests, http.StatusInternalServerError} {
		r, upstream, _ := readBack(status)
		roundTrip(t, r, "POST", create)
		roundTrip(t, r, "GET", read)
		if len(upstream.sent) != 2 {
			t.Fatalf("after a %d create the read did not reach the tenant: %v", status, upstream.sent)
		}
	}
}

func TestAWriteOrALateReadGoesToTheTenant(t *testing.T) {
	for _, write := range []string{
		"DELETE " + read, "DELETE /api/v2/organizations/org_1", "PATCH /api/v2/organizations/org_1",
	} {
		r, upstream, _ := readBack(http.StatusCreated)
		roundTrip(t, r, "POST", create)
		method, path, _ := strings.Cut(write, " ")
		roundTrip(t, r, method, path)
		if _, body := roundTrip(t, r, "GET", read); body != `{"from":"tenant"}` {
			t.Fatalf("after %s the read was answered from the create: %s (%v)", write, body, upstream.sent)
		}
	}
	r, _, now := readBack(http.StatusCreated)
	roundTrip(t, r, "POST", create)
	*now = now.Add(ReadBackWindow + time.Second)
	if _, body := roundTrip(t, r, "GET", read); body != `{"from":"tenant"}` {
		t.Fatalf("a read after the window was answered from the create: %s", body)
	}
}

func TestAConnectionsUpdateIsReadBackFromItsAnswer(t *testing.T) {
	r, upstream, _ := readBack(http.StatusCreated)
	roundTrip(t, r, "POST", create)
	roundTrip(t, r, "PATCH", read)
	if _, body := roundTrip(t, r, "GET", read); body != `{"from":"the update"}` {
		t.Fatalf("the read after an update answered %s, want the update's answer", body)
	}
	if len(upstream.sent) != 2 {
		t.Fatalf("the tenant got %v, want the create and the update alone", upstream.sent)
	}
	if _, body := roundTrip(t, r, "GET", read); body != `{"from":"tenant"}` {
		t.Fatalf("a second read was answered %s, not by the tenant", body)
	}
	// An organization's update is not kept: only the connection's read falls in a bucket
	// slower than its write's.
	roundTrip(t, r, "PATCH", "/api/v2/organizations/org_1")
	if _, body := roundTrip(t, r, "GET", "/api/v2/organizations/org_1"); body != `{"from":"tenant"}` {
		t.Fatalf("an organization's read after its update answered %s, not by the tenant", body)
	}
	// A failed update keeps nothing.
	failed, upstream, _ := readBack(http.StatusCreated)
	upstream.status = http.StatusConflict
	roundTrip(t, failed, "PATCH", read)
	roundTrip(t, failed, "GET", read)
	if len(upstream.sent) != 2 {
		t.Fatalf("after a failed update the read did not reach the tenant: %v", upstream.sent)
	}
}

func TestInstallPutsTheReadBackInFrontOfThePacer(t *testing.T) {
	saved := http.DefaultTransport
	defer func() { http.DefaultTransport, original, installed = saved, nil, nil }()
	original, installed = nil, nil
	t.Setenv(TierVariable, "free")
	t.Setenv(ShareVariable, "0.5")
	if err := Install(); err != nil {
		t.Fatal(err)
	}
	r, ok := http.DefaultTransport.(*ReadBack)
	if !ok || r.next != installed {
		t.Fatalf("http.DefaultTransport is %T, want a ReadBack in front of the installed Pacer", http.DefaultTransport)
	}
}
