package schema_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/gitvend/gitvend/internal/field"
	"github.com/gitvend/gitvend/internal/schema"
)

const goodRequest = `apiVersion: gitvend.dev/v1alpha1
kind: Request
metadata:
  name: payments-api
spec:
  blueprint: web-service
  environment: dev
  namespace: team-payments
  owner: payments
  parameters:
    image: ghcr.io/acme/payments:1.4.2
  ttl: 7d
`

// goodRepo sets every setting of gitvend.yaml.
const goodRepo = `apiVersion: gitvend.dev/v1alpha1
kind: Config
environments:
- name: dev
  root: clusters/dev/apps/
  requireTTL: true
  maxTTL: 14d
  expiryWarning: 36h
  autoMerge: true
- name: prod
  teams: [payments]
  rollbackOnFailure: true
  prices: {currency: EUR, cpu: 0.04, ramGiB: 0.005, gpu: 2, storageGB: 0.0001, loadBalancer: 0.025, spotCPU: 0.01, spotRAMGiB: 0.001}
  windows:
  - name: weekend-freeze
    kind: deny
    schedule: "0 18 * * FRI"
    duration: 60h
    timezone: Europe/Berlin
  - name: payments-nights
    kind: allow
    schedule: "@daily"
    duration: 8h
    namespaces: [team-payments, "payments-*"]
    owners: [payments]
    selfHeal: true
    sleep: hold
    expiry: allow
  approvals: {teams: [payments, platform], count: 2}
teams:
- name: payments
  namespaces: [team-payments, "payments-*"]
- name: platform
  namespaces: ["*"]
budgets:
- owner: payments
  monthly: 400
- namespace: team-search
  environment: dev
  monthly: 150.5
policy:
  policies:
    allowed-registries:
      severity: warn
      params: {registries: [ghcr.io/acme/]}
    image-latest-tag: {severity: "off"}
  exceptions:
  - policy: loadbalancer-service
    kind: Service
    namespace: team-payments
    name: payments-edge
    reason: Partner traffic needs a static address.
  clusterScopedKinds: [ClusterRole.rbac.authorization.k8s.io, PriorityClass]
intake: {permission: triage, label: provision}
forks: neutral
sleep:
- environments: [dev]
  namespaces: ["team-*"]
  sleep: "0 19 * * MON-FRI"
  wake: "0 8 * * MON-FRI"
  timezone: Europe/Berlin
fanout: {maxRequests: 50}
`

func TestGoodFilesPass(t *testing.T) {
	for name, doc := range map[string]string{schema.Request: goodRequest, schema.Repo: goodRepo} {
		if err := validate(t, name, []byte(doc)); err != nil {
			t.Errorf("%s schema: %v", name, err)
		}
		if err := loaders[name]([]byte(doc)); err != nil {
			t.Errorf("%s loader: %v", name, err)
		}
	}
}

// TestBadFilesFail changes one field of a good file at a time: the schema
// refuses the result with a message whose location is the field, and
// gitvend's loader refuses it naming the same field.
func TestBadFilesFail(t *testing.T) {
	tests := []struct {
		schema, name, old, new string
		field                  string // as the loader names it
	}{
		{schema.Request, "wrong kind", "kind: Request", "kind: Requests", "kind"},
		{schema.Request, "unknown field", "  ttl: 7d", "  ttl: 7d\n  expires: tomorrow", "spec.expires"},
		{schema.Request, "name not a label", "name: payments-api", "name: Payments_API", "metadata.name"},
		{schema.Request, "no owner", "  owner: payments\n", "", "spec.owner"},
		{schema.Request, "ttl without unit", "ttl: 7d", "ttl: \"7\"", "spec.ttl"},
		{schema.Request, "zero ttl", "ttl: 7d", "ttl: 0h", "spec.ttl"},
		{schema.Request, "pinned to version zero", "blueprint: web-service", "blueprint: web-service@0", "spec.blueprint"},
		{schema.Request, "parameters a list", "  parameters:\n    image: ghcr.io/acme/payments:1.4.2", "  parameters: [image]", "spec.parameters"},
		{schema.Repo, "misspelt environment field", "  autoMerge: true", "  automerge: true", "environments[0].automerge"},
		{schema.Repo, "environment name not a label", "- name: dev", "- name: Dev", "environments[0].name"},
		{schema.Repo, "root escaping the repository", "root: clusters/dev/apps/", "root: ../dev", "environments[0].root"},
		{schema.Repo, "maxTTL in weeks", "maxTTL: 14d", "maxTTL: 2w", "environments[0].maxTTL"},
		{schema.Repo, "negative price", "cpu: 0.04", "cpu: -1", "environments[1].prices.cpu"},
		{schema.Repo, "window kind", "kind: deny", "kind: block", "environments[1].windows[0].kind"},
		{schema.Repo, "window without duration", "    duration: 60h\n", "", "environments[1].windows[0].duration"},
		{schema.Repo, "window sleep setting", "sleep: hold", "sleep: pause", "environments[1].windows[1].sleep"},
		{schema.Repo, "window expiry setting", "expiry: allow", "expiry: never", "environments[1].windows[1].expiry"},
		{schema.Repo, "time zone in the schedule", `schedule: "0 18 * * FRI"`, `schedule: "CRON_TZ=Europe/Berlin 0 18 * * FRI"`, "environments[1].windows[0].schedule"},
		{schema.Repo, "local time zone", "    timezone: Europe/Berlin\n  - name: payments-nights", "    timezone: Local\n  - name: payments-nights", "environments[1].windows[0].timezone"},
		{schema.Repo, "approvals without count", "count: 2", "count: 0", "environments[1].approvals.count"},
		{schema.Repo, "approvals without teams", "teams: [payments, platform]", "teams: []", "environments[1].approvals.teams"},
		{schema.Repo, "team namespace pattern", `namespaces: ["*"]`, `namespaces: ["*-x"]`, "teams[1].namespaces[0]"},
		{schema.Repo, "budget for owner and namespace", "- owner: payments\n  monthly: 400", "- owner: payments\n  namespace: team-payments\n  monthly: 400", "budgets[0]"},
		{schema.Repo, "budget of nothing", "monthly: 400", "monthly: 0", "budgets[0].monthly"},
		{schema.Repo, "severity", "severity: warn", "severity: error", "policy.policies.allowed-registries.severity"},
		{schema.Repo, "exception without reason", "reason: Partner traffic needs a static address.", "reason: because", "policy.exceptions[0].reason"},
		{schema.Repo, "intake permission", "permission: triage", "permission: owner", "intake.permission"},
		{schema.Repo, "forks", "forks: neutral", "forks: skip", "forks"},
		{schema.Repo, "sleep without wake", "  wake: \"0 8 * * MON-FRI\"\n", "", "sleep[0].wake"},
		{schema.Repo, "fanout too big", "maxRequests: 50", "maxRequests: 500", "fanout.maxRequests"},
		{schema.Repo, "environment without name", "- name: dev\n  root:", "- root:", "environments[0].name"},
	}
	for _, tt := range tests {
		t.Run(tt.schema+"/"+tt.name, func(t *testing.T) {
			good := map[string]string{schema.Request: goodRequest, schema.Repo: goodRepo}[tt.schema]
			if !strings.Contains(good, tt.old) {
				t.Fatalf("the good file has no %q", tt.old)
			}
			bad := []byte(strings.Replace(good, tt.old, tt.new, 1))
			err := validate(t, tt.schema, bad)
			var verr *jsonschema.ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("schema accepts it (error %v)", err)
			}
			if !namesField(err.Error(), tt.field) {
				t.Errorf("schema error does not name %s:\n%v", tt.field, err)
			}
			lerr := loaders[tt.schema](bad)
			if lerr == nil {
				t.Fatal("loader accepts it")
			}
			var named bool
			for _, e := range field.All(lerr) {
				named = named || e.Field == tt.field || strings.HasPrefix(e.Field, tt.field+".")
			}
			if !named {
				t.Errorf("loader error does not name %s: %v", tt.field, lerr)
			}
		})
	}
}

// namesField tells whether a validation message names the field at path:
// at its location, or (for a property missing or not allowed) at the
// location of the object holding it, naming the property.
func namesField(msg, path string) bool {
	p := pointer(path)
	parent, leaf := p[:strings.LastIndex(p, "/")], p[strings.LastIndex(p, "/")+1:]
	return strings.Contains(msg, "at '"+p+"'") ||
		(strings.Contains(msg, "at '"+parent+"'") && strings.Contains(msg, "'"+leaf+"'"))
}

// pointer turns a field path such as environments[1].windows[0].kind into
// the JSON pointer the validator reports, /environments/1/windows/0/kind.
func pointer(path string) string {
	r := strings.NewReplacer("[", "/", "]", "", ".", "/")
	return "/" + r.Replace(path)
}
