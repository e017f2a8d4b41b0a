package policy

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
)

// TestBuiltinPoliciesReach pins what each built-in policy reads: every
// policy about single objects is subject-local, budget and quota read
// only aggregates.
func TestBuiltinPoliciesReach(t *testing.T) {
	e := engine(t)
	got := map[string]reach{}
	for g, grp := range e.groups {
		for _, id := range grp.ids {
			got[id] = reach(g)
		}
	}
	for id, r := range got {
		want := reachLocal
		switch id {
		case "budget", "quota":
			want = reachAggregates
		}
		if r != want {
			t.Errorf("policy %s: reach %d, want %d", id, r, want)
		}
	}
	if len(got) < 15 {
		t.Errorf("%d policies classified, want every built-in one", len(got))
	}
}

// comparing are repository policies that read more than one subject, or
// leak a subject's position: none may be remembered per subject.
var comparing = map[string]string{
	"same-selector": `violation contains {"subject": i, "message": "selector shared", "path": ["spec", "selector"]} if {
	some i, s in input.subjects
	some j, t in input.subjects
	i != j
	s.groupKind == "Service"
	t.groupKind == "Service"
	s.object.spec.selector == t.object.spec.selector
}`,
	"unique-hostname": `hosts[h] contains i if {
	some i, s in input.subjects
	some r in s.object.spec.rules
	h := r.host
}
violation contains {"subject": i, "message": sprintf("host %s used twice", [h]), "path": ["spec"]} if {
	some h, is in hosts
	count(is) > 1
	some i in is
}`,
	"count-subjects": `violation contains {"subject": i, "message": "too many objects", "path": []} if {
	some i, s in input.subjects
	count(input.subjects) > 1
}`,
	"index-in-message": `violation contains {"subject": i, "message": sprintf("object #%d", [i]), "path": []} if {
	some i, s in input.subjects
	s.groupKind == "Service"
}`,
	"fixed-subject": `violation contains {"subject": 0, "message": "the first", "path": []} if {
	some i, s in input.subjects
	s.groupKind == "Service"
}`,
	"walk-input": `violation contains {"subject": i, "message": "walked", "path": []} if {
	some i, s in input.subjects
	walk(input, [p, v])
	v == "twin"
}`,
	"helper-comprehension": `services := [s | some s in input.subjects; s.groupKind == "Service"]
violation contains {"subject": i, "message": "two services", "path": []} if {
	some i, s in input.subjects
	count(services) > 1
}`,
	"position-in-collection": `violation contains {"subject": c.subject, "message": sprintf("container #%d", [j]), "path": []} if {
	some j, c in data.gitvend.lib.containers
}`,
	"element-to-builtin": `violation contains {"subject": c.subject, "message": sprintf("%v", [c]), "path": []} if {
	some c in data.gitvend.lib.containers
}`,
	"position-as-subject": `violation contains {"subject": j, "message": "container", "path": []} if {
	some j, c in data.gitvend.lib.containers
}`,
	"element-to-own-function": `who(c) := c.subject
violation contains {"subject": c.subject, "message": sprintf("%d", [who(c)]), "path": []} if {
	some c in data.gitvend.lib.containers
}`,
	"input-alias-helper": `many if {
	y := input
	object.get(y, ["params", "x"], 1) == 1
	count(object.get(y, ["subjects"], [])) > 1
}
violation contains {"subject": i, "message": "many", "path": []} if {
	some i, s in input.subjects
	many
}`,
	"no-subject": `violation contains {"message": "there is a service"} if {
	some i, s in input.subjects
	s.groupKind == "Service"
}`,
}

// TestComparingPoliciesAreNotLocal classifies every policy of comparing
// as not local, and finds the conflict when the second object comes in a
// pull request whose base was checked before.
func TestComparingPoliciesAreNotLocal(t *testing.T) {
	ctx := context.Background()
	one := `apiVersion: v1
kind: Service
metadata: {name: a, namespace: team-a}
spec: {selector: {app: web}, rules: [{host: twin}]}
`
	two := one + `---
apiVersion: v1
kind: Service
metadata: {name: b, namespace: team-a}
spec: {selector: {app: web}, rules: [{host: twin}]}
`
	for name, rules := range comparing {
		t.Run(name, func(t *testing.T) {
			id := "x-" + name
			md := fmt.Sprintf(`{"id": %q, "severity": "deny", "title": "t", "description": "d", "fix": "f", "params": {}}`, id)
			fsys := policyFile("x_"+snake(name), md, rules)
			e, err := New(ctx, Options{Extra: fsys})
			if err != nil {
				t.Fatal(err)
			}
			for _, lid := range e.groups[reachLocal].ids {
				if lid == id {
					t.Fatalf("policy %s is classified subject-local", id)
				}
			}
			full, err := New(ctx, Options{Extra: fsys, wholeOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			base := subjects(decode(t, one), requestContext)
			if _, err := e.Evaluate(ctx, Input{Subjects: base}); err != nil {
				t.Fatal(err)
			}
			head := subjects(decode(t, two), requestContext)
			got, err := e.Evaluate(ctx, Input{Subjects: head})
			if err != nil {
				t.Fatal(err)
			}
			want, err := full.Evaluate(ctx, Input{Subjects: head})
			if err != nil {
				t.Fatal(err)
			}
			if a, b := resultJSON(t, got), resultJSON(t, want); a != b {
				t.Errorf("incremental %s\nfull        %s", a, b)
			}
			if !strings.HasPrefix(name, "position") && !strings.HasPrefix(name, "element") && len(only(got.Violations, id)) == 0 {
				t.Errorf("no finding of %s on two objects: %+v", id, got.Violations)
			}
		})
	}
}

func snake(s string) string {
	out := []byte(s)
	for i, c := range out {
		if c == '-' {
			out[i] = '_'
		}
	}
	return string(out)
}

func resultJSON(t *testing.T, r Result) string {
	t.Helper()
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestLocalMemoEqualsFull evaluates changing sets of subjects with one
// engine (memo cold, then warm, then partly changed) and with the whole
// evaluation, and wants the same result every time, with the memo
// answering the subjects seen before, and none of another engine's.
func TestLocalMemoEqualsFull(t *testing.T) {
	ctx := context.Background()
	memo := NewMemo()
	e, err := New(ctx, Options{Memo: memo})
	if err != nil {
		t.Fatal(err)
	}
	full, err := New(ctx, Options{wholeOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	bad := `apiVersion: apps/v1
kind: Deployment
metadata: {name: bad, namespace: team-a}
spec:
  replicas: 50
  template:
    spec:
      hostNetwork: true
      containers:
      - {name: app, image: "nginx:latest", securityContext: {privileged: true}}
`
	good := `apiVersion: v1
kind: ConfigMap
metadata: {name: good, namespace: team-a, labels: {gitvend.dev/owner: payments}}
---
apiVersion: v1
kind: Service
metadata: {name: lb, namespace: team-b}
spec: {type: LoadBalancer}
`
	outside := requestContext
	outside.AllowedNamespaces = []string{"team-z"}
	steps := []struct {
		name   string
		in     []Subject
		hits   int
		misses int
	}{
		{"cold", subjects(decode(t, bad+"---\n"+good), requestContext), 0, 3},
		{"warm", subjects(decode(t, good+"---\n"+bad), requestContext), 3, 0},
		{"context changed", subjects(decode(t, good), outside), 0, 2},
		{"same object twice", subjects(decode(t, good+"---\n"+bad+"---\n"+bad), requestContext), 4, 0},
	}
	for _, s := range steps {
		h0, m0 := memo.Stats()
		got, err := e.Evaluate(ctx, Input{Subjects: s.in})
		if err != nil {
			t.Fatal(err)
		}
		want, err := full.Evaluate(ctx, Input{Subjects: s.in})
		if err != nil {
			t.Fatal(err)
		}
		if a, b := resultJSON(t, got), resultJSON(t, want); a != b {
			t.Errorf("%s: incremental %s\nfull        %s", s.name, a, b)
		}
		if len(want.Violations) == 0 && s.name != "context changed" {
			t.Errorf("%s: no finding; the step tests nothing", s.name)
		}
		h, m := memo.Stats()
		if h-h0 != s.hits || m-m0 != s.misses {
			t.Errorf("%s: %d hits, %d misses, want %d and %d", s.name, h-h0, m-m0, s.hits, s.misses)
		}
	}
	// Other params, other policies: the same subjects are evaluated again.
	others := []Options{
		{Memo: memo, Extra: policyFile("team_label", goodMetadata, goodRules)},
		{Memo: memo, Extra: fstest.MapFS{"replica_limits.rego": {Data: []byte(replicaLimitsOf(3))}}},
	}
	for i, opts := range others {
		o, err := New(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		_, m0 := memo.Stats()
		if _, err := o.Evaluate(ctx, Input{Subjects: steps[0].in}); err != nil {
			t.Fatal(err)
		}
		if _, m := memo.Stats(); m-m0 != len(steps[0].in) {
			t.Errorf("engine %d: %d subjects evaluated, want all %d", i, m-m0, len(steps[0].in))
		}
	}
}

// replicaLimitsOf is a replica-limits policy of the repository with
// another default.
func replicaLimitsOf(max int) string {
	return fmt.Sprintf(`package gitvend.policies.replica_limits

metadata := {"id": "replica-limits", "severity": "deny", "title": "t", "description": "d", "fix": "f", "params": {"max": {"type": "integer", "default": %d, "description": "d"}}}

violation contains {"subject": i, "message": "too many", "path": ["spec", "replicas"]} if {
	some i, s in input.subjects
	s.object.spec.replicas > object.get(input.params, ["replica-limits", "max"], %d)
}
`, max, max)
}
