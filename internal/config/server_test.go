package config

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/gitvend/gitvend/internal/cluster"
)

// testKey is a syntactically valid PEM private key block.
const testKey = "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n-----END RSA PRIVATE KEY-----\n"

const testWebhookSecret = "s3cr3t-hook-value"

// minimal is the smallest valid server configuration (with secretEnv).
const minimal = `apiVersion: gitvend.dev/v1alpha1
kind: ServerConfig
github: {appID: 7}
repositories: [{name: acme/infra}]
`

// envOf turns a map into an env func.
func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// secretEnv provides both secrets, plus extra variables.
func secretEnv(extra ...string) func(string) string {
	m := map[string]string{EnvPrivateKey: testKey, EnvWebhookSecret: testWebhookSecret}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i]] = extra[i+1]
	}
	return envOf(m)
}

func TestLoadServerExample(t *testing.T) {
	s, err := LoadServer(filepath.Join("..", "..", "examples", "server", "gitvend.yaml"), secretEnv())
	if err != nil {
		t.Fatal(err)
	}
	want := &Server{
		APIVersion: APIVersion, Kind: ServerKind, Listen: ":8080", OpsListen: "127.0.0.1:9090", WorkDir: "/var/lib/gitvend",
		Log: Log{Level: "info", Format: "json"},
		GitHub: GitHub{APIURL: "https://api.github.com/", AppID: 12345,
			PrivateKeyFile: "/etc/gitvend/github/private-key.pem", WebhookSecretFile: "/etc/gitvend/github/webhook-secret",
			MaxWebhookBytes: 26214400, MaxWebhookBytesInFlight: 104857600, PrivateKey: Secret(testKey), WebhookSecret: Secret(testWebhookSecret)},
		Repositories: []Repository{{Name: "acme/infra"}},
		Queue:        Queue{Workers: 4, Capacity: 1000, JobTimeout: 10 * time.Minute},
		Resync:       Resync{Interval: 5 * time.Minute},
		LeaderElection: LeaderElection{Enabled: true, Namespace: "gitvend-system", Name: "gitvend",
			LeaseDuration: 15 * time.Second, RenewDeadline: 10 * time.Second, RetryPeriod: 2 * time.Second},
		Targets: []cluster.Target{{Name: "dev", Repository: "acme/infra", Kubeconfig: "/etc/gitvend/kube/dev.kubeconfig",
			Environments: []string{"dev"}, Namespaces: []string{"team-*", "preview-*"},
			ClusterScopedKinds: []string{"Namespace"}, Prune: true,
			DriftInterval: 5 * time.Minute, HealthTimeout: 2 * time.Minute, InventoryNamespace: "gitvend-system",
			MaxPrune: 20, MaxPrunePercent: 50,
			Windows: []cluster.Window{{Name: "year-end-freeze", Kind: "deny", Schedule: "0 0 20 12 *", Duration: "14d",
				TimeZone: "Europe/Berlin", Namespaces: []string{"team-*"}, Owners: []string{}, Sleep: "allow", Expiry: "hold"}}}},
	}
	if d := cmp.Diff(want, s); d != "" {
		t.Errorf("example (-want +got):\n%s", d)
	}
	tg, ok := s.Target("dev")
	if !ok || !tg.AllowsNamespace("team-a") || tg.AllowsNamespace("kube-system") ||
		!tg.AllowsClusterScopedKind(schema.GroupKind{Kind: "Namespace"}) || tg.AllowsClusterScopedKind(schema.GroupKind{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole"}) || !tg.ServesEnvironment("dev") {
		t.Errorf("target dev = %+v", tg)
	}
	if _, ok := s.Repository("ACME/Infra"); !ok {
		t.Error("Repository does not match names without regard to case")
	}
}

func TestParseServerDefaults(t *testing.T) {
	s, err := ParseServer([]byte(minimal+"targets: [{name: dev, repository: acme/infra, environments: [dev], namespaces: ['*']}]\n"), secretEnv())
	if err != nil {
		t.Fatal(err)
	}
	want := &Server{
		APIVersion: APIVersion, Kind: ServerKind, Listen: ":8080", OpsListen: "127.0.0.1:9090", WorkDir: "/var/lib/gitvend",
		Log: Log{Level: "info", Format: "json"},
		GitHub: GitHub{APIURL: "https://api.github.com/", AppID: 7, MaxWebhookBytes: MaxWebhookBytes, MaxWebhookBytesInFlight: 4 * MaxWebhookBytes,
			PrivateKey: Secret(testKey), WebhookSecret: Secret(testWebhookSecret)},
		Repositories: []Repository{{Name: "acme/infra"}},
		Queue:        Queue{Workers: 4, Capacity: 1000, JobTimeout: 10 * time.Minute},
		Resync:       Resync{Interval: 5 * time.Minute},
		LeaderElection: LeaderElection{Namespace: "gitvend-system", Name: "gitvend",
			LeaseDuration: 15 * time.Second, RenewDeadline: 10 * time.Second, RetryPeriod: 2 * time.Second},
		Targets: []cluster.Target{{Name: "dev", Repository: "acme/infra", Environments: []string{"dev"}, Namespaces: []string{"*"},
			DriftInterval: 5 * time.Minute, HealthTimeout: 2 * time.Minute, InventoryNamespace: "gitvend-system"}},
	}
	if d := cmp.Diff(want, s); d != "" {
		t.Errorf("defaults (-want +got):\n%s", d)
	}
}

func TestParseServerErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		env  func(string) string
		want []string // the error's lines, exactly
	}{
		{name: "empty", in: "", want: []string{"file is empty"}},
		{name: "two documents", in: minimal + "---\nkind: x\n", want: []string{"line 5: must hold exactly one YAML document"}},
		{name: "not a mapping", in: "- a\n", want: []string{"line 1: must be a mapping with the fields apiVersion, kind, listen, opsListen, publicURL, workDir, log, github, repositories, queue, resync, leaderElection, targets"}},
		{name: "unknown fields with paths", in: minimal + "queue: {workers: 2, threads: 3}\ntargets:\n- name: a\n  repository: acme/infra\n  environments: [dev]\n  namespaces: [x]\n- name: b\n  namespace: [x]\n", want: []string{
			"line 5: queue.threads: unknown field; allowed: workers, capacity, jobTimeout",
			"line 12: targets[1].namespace: unknown field; allowed: name, repository, kubeconfig, context, environments, namespaces, clusterScopedKinds, prune, selfHeal, reportOnly, driftInterval, healthTimeout, inventoryNamespace, maxPrune, maxPrunePercent, windows",
		}},
		{name: "wrong types", in: minimal + "queue: {workers: many}\nresync: {interval: 300}\nleaderElection: {enabled: maybe}\ntargets: [{name: a, environments: dev}]\n", want: []string{
			`line 5: queue.workers: must be a whole number, got "many"`,
			`line 6: resync.interval: must be a duration such as 30s, 5m or 1h, got "300"`,
			`line 7: leaderElection.enabled: must be true or false, got "maybe"`,
			"line 8: targets[0].environments: must be a list",
		}},
		{name: "duplicate key", in: minimal + "listen: ':1'\nlisten: ':2'\n", want: []string{"line 6: listen: is set twice (first on line 5)"}},
		{name: "validation with lines", in: `apiVersion: v1
kind: Server
listen: "8080"
publicURL: ftp://x
workDir: ""
log: {level: loud, format: xml}
github:
  apiURL: https://api.example.com
  appID: 0
  maxWebhookBytes: 10
repositories: [{name: acme}, {name: a/b, branch: "bad..branch"}, {name: A/B}]
queue: {workers: 0, capacity: 2000000}
resync: {interval: -1s}
leaderElection: {namespace: Sys, name: "", leaseDuration: 10s, renewDeadline: 10s, retryPeriod: 1s}
targets:
- name: Dev
  repository: other/repo
  environments: [dev, dev, Prod]
  namespaces: ["team-*", "*-x"]
  clusterScopedKinds: [namespace]
  selfHeal: true
  reportOnly: true
  driftInterval: 0s
  inventoryNamespace: ""
- name: ok
  repository: acme/infra2
  environments: []
  namespaces: []
  healthTimeout: -2m
- {name: ok, repository: a/b, environments: [x], namespaces: [x]}
`, want: []string{
			`line 1: apiVersion: must be "gitvend.dev/v1alpha1", got "v1"`,
			`line 2: kind: must be "ServerConfig", got "Server"`,
			`line 3: listen: must be host:port or :port (for example ":8080"), got "8080"`,
			`line 4: publicURL: must be an absolute http or https URL, got "ftp://x"`,
			"line 5: workDir: is required: a directory for the git clone cache",
			`line 6: log.level: must be one of debug, info, warn, error, got "loud"`,
			`line 6: log.format: must be one of json, text, got "xml"`,
			"line 8: github.apiURL: must end in '/'",
			"line 9: github.appID: must be the GitHub App's id, a positive number, got 0",
			"line 10: github.maxWebhookBytes: must be from 1024 to 26214400 (GitHub's 25 MiB cap), got 10",
			"line 12: queue.workers: must be from 1 to 256, got 0",
			"line 12: queue.capacity: must be from 1 to 1000000, got 2000000",
			"line 13: resync.interval: must be a positive duration such as 30s, 5m or 1h, got -1s",
			`line 14: leaderElection.namespace: must be a namespace name (DNS-1123 label), got "Sys"`,
			`line 14: leaderElection.name: must be a Lease name (DNS-1123 label), got ""`,
			"line 14: leaderElection.renewDeadline: must be shorter than leaseDuration (10s), got 10s",
			`line 11: repositories[0].name: must be owner/name of a GitHub repository, got "acme"`,
			`line 11: repositories[1].branch: must be a valid git branch name or empty for the default branch, got "bad..branch"`,
			`line 11: repositories[2].name: repository "A/B" is listed twice (also as "a/b": GitHub compares names without regard to case)`,
			`line 16: targets[0].name: must be a DNS-1123 label (lower case letters, digits and '-', at most 63), got "Dev"`,
			`line 18: targets[0].environments[1]: environment "dev" is listed twice`,
			`line 18: targets[0].environments[2]: must be an environment name (DNS-1123 label), got "Prod"`,
			`line 19: targets[0].namespaces[1]: must be a namespace name or a prefix ending in '*', got "*-x"`,
			`line 20: targets[0].clusterScopedKinds[0]: must be a Kubernetes kind such as Namespace, got "namespace"`,
			"line 21: targets[0].selfHeal: cannot be true when reportOnly is: a report-only target is never written to",
			"line 23: targets[0].driftInterval: must be a positive duration such as 30s, 5m or 1h, got 0s",
			`line 24: targets[0].inventoryNamespace: must be a namespace name (DNS-1123 label), got ""`,
			`line 17: targets[0].repository: must be one of repositories (acme, a/b, A/B), got "other/repo"`,
			"line 27: targets[1].environments: must name at least one environment of the repository",
			`line 28: targets[1].namespaces: must name at least one namespace or prefix ("*" allows all)`,
			"line 29: targets[1].healthTimeout: must be 0 (do not wait for objects to become ready) or a positive duration, got -2m0s",
			`line 26: targets[1].repository: must be one of repositories (acme, a/b, A/B), got "acme/infra2"`,
			`line 30: targets[2].name: target "ok" is defined twice`,
		}, env: secretEnv()},
		{name: "ops listener on the public port", in: minimal + "listen: ':8080'\nopsListen: '127.0.0.1:8080'\n", env: secretEnv(), want: []string{
			`line 6: opsListen: must use another port than listen (:8080), got "127.0.0.1:8080"`,
		}},
		{name: "ops listener without port", in: minimal + "opsListen: localhost\n", env: secretEnv(), want: []string{
			`line 5: opsListen: must be host:port or :port (for example ":8080"), got "localhost"`,
		}},
		{name: "bytes in flight below one body", in: strings.Replace(minimal, "appID: 7", "appID: 7, maxWebhookBytes: 4096, maxWebhookBytesInFlight: 2048", 1), env: secretEnv(), want: []string{
			"line 3: github.maxWebhookBytesInFlight: must be from maxWebhookBytes (4096) to 1073741824, got 2048",
		}},
		{name: "target without repository", in: minimal + "targets: [{name: dev, environments: [dev], namespaces: ['*'], driftInterval: 0s}]\n", env: secretEnv(), want: []string{
			"line 5: targets[0].driftInterval: must be a positive duration such as 30s, 5m or 1h, got 0s",
			"line 5: targets[0].repository: is required: one of repositories (owner/name)",
		}},
		{name: "retry period ordering", in: minimal + "leaderElection: {retryPeriod: 10s}\n", env: secretEnv(), want: []string{
			"line 5: leaderElection.retryPeriod: must be shorter than renewDeadline (10s), got 10s",
		}},
		{name: "URL credentials stay hidden", in: minimal + "publicURL: https://user:hunter2@example.com/\n", env: secretEnv(), want: []string{
			`line 5: publicURL: must not hold credentials, got "https://user:xxxxx@example.com/"`,
		}},
		{name: "secrets missing", in: minimal, want: []string{
			"line 3: github.privateKeyFile: the App's private key is required: name a PEM file or set GITVEND_GITHUB_PRIVATE_KEY",
			"line 3: github.webhookSecretFile: the webhook secret is required: name a file or set GITVEND_GITHUB_WEBHOOK_SECRET",
		}},
		{name: "private key not PEM", in: minimal, env: envOf(map[string]string{EnvPrivateKey: "not a key", EnvWebhookSecret: "x"}), want: []string{
			"line 3: github.privateKeyFile: the App's private key must be a PEM block of type PRIVATE KEY or RSA PRIVATE KEY",
		}},
		{name: "bad env value", in: minimal, env: secretEnv("GITVEND_QUEUE_WORKERS", "lots", "GITVEND_RESYNC_INTERVAL", "often"), want: []string{
			`GITVEND_QUEUE_WORKERS: overrides queue.workers: must be a whole number, got "lots"`,
			`GITVEND_RESYNC_INTERVAL: overrides resync.interval: must be a duration such as 30s, 5m or 1h, got "often"`,
		}},
		{name: "env value out of bounds", in: minimal + "queue: {workers: 2}\n", env: secretEnv("GITVEND_QUEUE_WORKERS", "1000"), want: []string{
			"queue.workers: must be from 1 to 256, got 1000 (set by GITVEND_QUEUE_WORKERS)",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseServer([]byte(tt.in), tt.env)
			if err == nil {
				t.Fatalf("want an error, got %+v", s)
			}
			if d := cmp.Diff(tt.want, strings.Split(err.Error(), "\n")); d != "" {
				t.Errorf("error lines (-want +got):\n%s", d)
			}
		})
	}
}

func TestParseServerMergeKeys(t *testing.T) {
	in := minimal + `defaults: &defaults
  repository: acme/infra
  namespaces: ["*"]
`
	if _, err := ParseServer([]byte(in), secretEnv()); err == nil || !strings.Contains(err.Error(), "defaults: unknown field") {
		t.Fatalf("unknown top-level anchor holder: %v", err)
	}
	in = minimal + `targets:
- &base {name: a, repository: acme/infra, environments: [dev], namespaces: ["*"], prune: true}
- <<: *base
  name: b
- <<: [*base]
  name: c
  colour: red
`
	_, err := ParseServer([]byte(in), secretEnv())
	if err == nil || err.Error() != "line 11: targets[2].colour: unknown field; allowed: name, repository, kubeconfig, context, environments, namespaces, clusterScopedKinds, prune, selfHeal, reportOnly, driftInterval, healthTimeout, inventoryNamespace, maxPrune, maxPrunePercent, windows" {
		t.Fatalf("merge keys: %v", err)
	}
	s, err := ParseServer([]byte(strings.TrimSuffix(in, "  colour: red\n")), secretEnv())
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Targets) != 3 || s.Targets[1].Name != "b" || !s.Targets[2].Prune || s.Targets[2].DriftInterval != 5*time.Minute {
		t.Errorf("merged targets = %+v", s.Targets)
	}
}

func TestServerEnvOverrides(t *testing.T) {
	env := secretEnv(
		"GITVEND_LISTEN", "127.0.0.1:9000",
		"GITVEND_OPS_LISTEN", ":9001",
		"GITVEND_GITHUB_MAX_WEBHOOK_BYTES_IN_FLIGHT", "4096",
		"GITVEND_PUBLIC_URL", "https://gitvend.example.com/",
		"GITVEND_WORK_DIR", "/tmp/gv",
		"GITVEND_LOG_LEVEL", "debug",
		"GITVEND_GITHUB_APP_ID", "99",
		"GITVEND_GITHUB_API_URL", "https://ghe.example.com/api/v3/",
		"GITVEND_GITHUB_MAX_WEBHOOK_BYTES", "2048",
		"GITVEND_QUEUE_WORKERS", "8",
		"GITVEND_RESYNC_INTERVAL", "90s",
		"GITVEND_LEADER_ELECTION_ENABLED", "true",
		"GITVEND_LEADER_ELECTION_LEASE_DURATION", "30s",
	)
	s, err := ParseServer([]byte(minimal+"log: {level: warn}\n"), env)
	if err != nil {
		t.Fatal(err)
	}
	got := []any{s.Listen, s.OpsListen, s.GitHub.MaxWebhookBytesInFlight, s.PublicURL, s.WorkDir, s.Log.Level, s.GitHub.AppID, s.GitHub.APIURL, s.GitHub.MaxWebhookBytes,
		s.Queue.Workers, s.Resync.Interval, s.LeaderElection.Enabled, s.LeaderElection.LeaseDuration}
	want := []any{"127.0.0.1:9000", ":9001", int64(4096), "https://gitvend.example.com/", "/tmp/gv", "debug", int64(99), "https://ghe.example.com/api/v3/", int64(2048),
		8, 90 * time.Second, true, 30 * time.Second}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("overrides (-want +got):\n%s", d)
	}
}

func TestServerEnvVars(t *testing.T) {
	want := []string{
		"GITVEND_API_VERSION", "GITVEND_KIND", "GITVEND_LISTEN", "GITVEND_OPS_LISTEN", "GITVEND_PUBLIC_URL", "GITVEND_WORK_DIR",
		"GITVEND_LOG_LEVEL", "GITVEND_LOG_FORMAT",
		"GITVEND_GITHUB_API_URL", "GITVEND_GITHUB_APP_ID", "GITVEND_GITHUB_PRIVATE_KEY_FILE",
		"GITVEND_GITHUB_WEBHOOK_SECRET_FILE", "GITVEND_GITHUB_MAX_WEBHOOK_BYTES",
		"GITVEND_GITHUB_MAX_WEBHOOK_BYTES_IN_FLIGHT",
		"GITVEND_QUEUE_WORKERS", "GITVEND_QUEUE_CAPACITY", "GITVEND_QUEUE_JOB_TIMEOUT", "GITVEND_RESYNC_INTERVAL",
		"GITVEND_LEADER_ELECTION_ENABLED", "GITVEND_LEADER_ELECTION_KUBECONFIG", "GITVEND_LEADER_ELECTION_NAMESPACE", "GITVEND_LEADER_ELECTION_NAME",
		"GITVEND_LEADER_ELECTION_LEASE_DURATION", "GITVEND_LEADER_ELECTION_RENEW_DEADLINE", "GITVEND_LEADER_ELECTION_RETRY_PERIOD",
		"GITVEND_LEADER_ELECTION_SHARD_TARGETS",
		"GITVEND_GITHUB_PRIVATE_KEY", "GITVEND_GITHUB_WEBHOOK_SECRET",
	}
	if d := cmp.Diff(want, ServerEnvVars()); d != "" {
		t.Errorf("ServerEnvVars (-want +got):\n%s", d)
	}
}

func TestCamelWords(t *testing.T) {
	for in, want := range map[string][]string{
		"listen": {"listen"}, "publicURL": {"public", "URL"}, "apiURL": {"api", "URL"}, "appID": {"app", "ID"},
		"maxWebhookBytes": {"max", "Webhook", "Bytes"}, "URLPath": {"URL", "Path"}, "ramGiB": {"ram", "Gi", "B"},
	} {
		if d := cmp.Diff(want, camelWords(in)); d != "" {
			t.Errorf("camelWords(%q) (-want +got):\n%s", in, d)
		}
	}
}

func TestLoadServerSecretFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("key.pem", testKey)
	write("hook", testWebhookSecret+"\n")
	if err := os.Mkdir(filepath.Join(dir, "adir"), 0o700); err != nil {
		t.Fatal(err)
	}
	config := func(key, hook string) string {
		p := filepath.Join(dir, "gitvend.yaml")
		write("gitvend.yaml", minimal+"workDir: cache\ngithub: {appID: 7, privateKeyFile: "+key+", webhookSecretFile: "+hook+"}\n")
		return p
	}
	t.Run("relative paths, trailing newline", func(t *testing.T) {
		// github is set twice above; use a file with one github section.
		p := filepath.Join(dir, "one.yaml")
		write("one.yaml", "apiVersion: gitvend.dev/v1alpha1\nkind: ServerConfig\nworkDir: cache\nrepositories: [{name: acme/infra}]\ngithub: {appID: 7, privateKeyFile: key.pem, webhookSecretFile: hook}\n")
		s, err := LoadServer(p, nil)
		if err != nil {
			t.Fatal(err)
		}
		if string(s.GitHub.PrivateKey) != testKey || string(s.GitHub.WebhookSecret) != testWebhookSecret {
			t.Errorf("secrets not read as expected")
		}
		if s.WorkDir != filepath.Join(dir, "cache") || s.GitHub.PrivateKeyFile != filepath.Join(dir, "key.pem") {
			t.Errorf("paths not resolved against the file's directory: %q, %q", s.WorkDir, s.GitHub.PrivateKeyFile)
		}
		// The environment wins over the files.
		s, err = LoadServer(p, envOf(map[string]string{EnvWebhookSecret: "from-env"}))
		if err != nil || string(s.GitHub.WebhookSecret) != "from-env" {
			t.Errorf("env secret: %v", err)
		}
	})
	t.Run("unreadable files name field and file", func(t *testing.T) {
		p := filepath.Join(dir, "bad.yaml")
		write("bad.yaml", "apiVersion: gitvend.dev/v1alpha1\nkind: ServerConfig\nrepositories: [{name: acme/infra}]\ngithub: {appID: 7, privateKeyFile: missing.pem, webhookSecretFile: adir}\n")
		_, err := LoadServer(p, nil)
		want := []string{
			p + ": line 4: github.privateKeyFile: cannot read the App's private key: stat " + filepath.Join(dir, "missing.pem") + ": no such file or directory",
			"line 4: github.webhookSecretFile: cannot read the webhook secret: " + filepath.Join(dir, "adir") + " is not a regular file",
		}
		if err == nil {
			t.Fatal("want an error")
		}
		if d := cmp.Diff(want, strings.Split(err.Error(), "\n")); d != "" {
			t.Errorf("error (-want +got):\n%s", d)
		}
	})
	t.Run("duplicate section", func(t *testing.T) {
		_, err := LoadServer(config("key.pem", "hook"), nil)
		if err == nil || !strings.Contains(err.Error(), "github: is set twice (first on line 3)") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("no file", func(t *testing.T) {
		_, err := LoadServer(filepath.Join(dir, "nope.yaml"), nil)
		if err == nil || !strings.Contains(err.Error(), "read server config: open ") {
			t.Errorf("got %v", err)
		}
	})
}

func FuzzLoadServer(f *testing.F) {
	if example, err := os.ReadFile(filepath.Join("..", "..", "examples", "server", "gitvend.yaml")); err == nil {
		f.Add(example)
	}
	f.Add([]byte(minimal))
	f.Add([]byte(minimal + "targets: [{name: a, <<: {repository: acme/infra}, environments: [x], namespaces: ['*']}]\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("queue: {workers: 1e9}\nresync: {interval: 1h1h}\n"))
	env := secretEnv()
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseServer(data, env)
		if err == nil {
			if s == nil || s.Validate() != nil {
				t.Fatalf("accepted an invalid config: %+v", s)
			}
			return
		}
		if strings.Contains(err.Error(), testWebhookSecret) || strings.Contains(err.Error(), "MIIB") {
			t.Fatalf("error shows a secret: %v", err)
		}
	})
}

func TestLogSlogLevel(t *testing.T) {
	for in, want := range map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError, "loud": slog.LevelInfo} {
		if got := (Log{Level: in}).SlogLevel(); got != want {
			t.Errorf("SlogLevel(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestLoadTargetsNeedsNoSecrets(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "gitvend.yaml")
	cfg := "apiVersion: gitvend.dev/v1alpha1\nkind: ServerConfig\ngithub:\n  appID: 1\n  privateKeyFile: missing.pem\n  webhookSecretFile: missing\n" +
		"repositories:\n- name: acme/infra\ntargets:\n- name: dev\n  repository: acme/infra\n  kubeconfig: kube.yaml\n  environments: [dev]\n  namespaces: [\"team-*\"]\n"
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadServer(path, nil); err == nil || !strings.Contains(err.Error(), "privateKeyFile") {
		t.Fatalf("LoadServer without secrets: %v", err)
	}
	s, err := LoadTargets(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tg, ok := s.Target("dev"); !ok || tg.Kubeconfig != filepath.Join(dir, "kube.yaml") {
		t.Fatalf("target: %+v", tg)
	}
	bad := strings.Replace(cfg, "name: dev", "name: Dev", 1)
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadTargets(path, nil); err == nil || !strings.Contains(err.Error(), "targets[0].name") {
		t.Fatalf("LoadTargets with a bad target: %v", err)
	}
}
