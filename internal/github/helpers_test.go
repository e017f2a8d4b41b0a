package github

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gitvend/gitvend/internal/githubtest"
)

const (
	testAppID = 4242
	owner     = "acme"
	repoName  = "infra"
	fullName  = owner + "/" + repoName
)

// testKey is one RSA key for the whole test binary; generating one per test
// would dominate the run time.
var testKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })

func keyPEM(t testing.TB) ([]byte, *rsa.PrivateKey) {
	t.Helper()
	key, err := testKey()
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), key
}

// fakeClock moves forward only when slept on, so backoff and rate limit
// waits take no time; the GitHub double may share its offset.
type fakeClock struct {
	mu     sync.Mutex
	offset time.Duration
	sleeps []time.Duration
	block  bool // Sleep waits for ctx instead
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	block := c.block
	if !block {
		c.offset += d
		c.sleeps = append(c.sleeps, d)
	}
	c.mu.Unlock()
	if block {
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

func (c *fakeClock) slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// fixture is a GitHub double with one repository and the App installed on
// it, and a Client for that installation.
type fixture struct {
	gh     *githubtest.Server
	app    *App
	client *Client
	inst   int64
	clock  *fakeClock
	reg    *prometheus.Registry
	logs   *syncBuffer
}

type fixtureOptions struct {
	ghOpts  githubtest.Options
	policy  RetryPolicy
	apiPath string // "/" or "/api/v3/"
	options []Option
}

func newFixture(t testing.TB, fo fixtureOptions) *fixture {
	t.Helper()
	pemKey, key := keyPEM(t)
	clock := &fakeClock{}
	o := fo.ghOpts
	o.AppID, o.AppPublicKey = testAppID, &key.PublicKey
	o.Now = clock.Now
	gh, err := githubtest.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gh.Close)
	ctx := context.Background()
	if err := gh.CreateRepo(ctx, githubtest.RepoSpec{
		Owner: owner, Name: repoName,
		Files: map[string]string{"gitvend.yaml": "environments: [dev]\n"},
	}); err != nil {
		t.Fatal(err)
	}
	inst, err := gh.AddInstallation(owner, fullName)
	if err != nil {
		t.Fatal(err)
	}
	if fo.apiPath == "" {
		fo.apiPath = "/"
	}
	policy := fo.policy
	if policy.InitialBackoff == 0 {
		policy.InitialBackoff = time.Millisecond
	}
	if policy.MaxRateLimitWait == 0 {
		policy.MaxRateLimitWait = 2 * time.Hour
	}
	logs := &syncBuffer{}
	reg := prometheus.NewRegistry()
	opts := append([]Option{
		WithRegisterer(reg), WithClock(clock), WithRetryPolicy(policy),
		WithLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
	}, fo.options...)
	app, err := NewApp(AppConfig{APIURL: gh.URL() + fo.apiPath, AppID: testAppID, PrivateKey: pemKey}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	client, err := app.Installation(ctx, inst)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{gh: gh, app: app, client: client, inst: inst, clock: clock, reg: reg, logs: logs}
}

// openIssue opens an issue as alice from a form with the given labels,
// which the repository is given first (a form applies only labels that
// exist), and returns its number.
func (f *fixture) openIssue(t testing.TB, title string, labels ...string) int {
	t.Helper()
	have, err := f.gh.Labels(fullName)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range labels {
		if !slices.ContainsFunc(have, func(h githubtest.Label) bool { return strings.EqualFold(h.Name, l) }) {
			if err := f.gh.CreateLabel(fullName, githubtest.Label{Name: l}); err != nil {
				t.Fatal(err)
			}
		}
	}
	n, err := f.gh.OpenIssue(context.Background(), fullName, githubtest.IssueSpec{User: "alice", Title: title, Body: "please", Labels: labels})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// comments returns the bodies of an issue's comments.
func (f *fixture) comments(t testing.TB, number int) []string {
	t.Helper()
	is, err := f.gh.Issue(fullName, number)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range is.Comments {
		out = append(out, c.Body)
	}
	return out
}

// calls returns the double's count for "METHOD /route".
func (f *fixture) calls(route string) int { return f.gh.Calls().ByRoute[route] }

// counter reads one counter of the App's metrics.
func (f *fixture) counter(t testing.TB, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := f.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
						found = true
					}
				}
				if !found {
					continue metric
				}
			}
			if c := m.GetCounter(); c != nil {
				sum += c.GetValue()
			}
			if g := m.GetGauge(); g != nil {
				sum += g.GetValue()
			}
		}
	}
	return sum
}

func countLines(s, substr string) int {
	n := 0
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, substr) {
			n++
		}
	}
	return n
}
