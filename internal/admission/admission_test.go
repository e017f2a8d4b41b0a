package admission

import (
	"context"
	"errors"
	"maps"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gitvend/gitvend/internal/blueprint"
	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/field"
	"github.com/gitvend/gitvend/internal/request"
)

const repoYAML = `apiVersion: gitvend.dev/v1alpha1
kind: Config
environments:
- name: dev
- name: prod
  teams: [payments, platform]
teams:
- name: payments
  namespaces: [team-payments, payments-*]
- name: search
  namespaces: [team-search]
- name: platform
  namespaces: ["*"]
intake:
  permission: write
`

func fixtures(t *testing.T) (*config.Repo, *blueprint.Catalog) {
	t.Helper()
	cfg, err := config.ParseRepo([]byte(repoYAML))
	if err != nil {
		t.Fatal(err)
	}
	cat, err := blueprint.Load(context.Background(), blueprint.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	return cfg, cat
}

// draft is a valid web-service request in dev; change edits it.
func draft(change func(*request.Draft)) *request.Draft {
	d := &request.Draft{Blueprint: "web-service", Name: "orders", Environment: "dev", Namespace: "team-payments",
		Owner: "payments", Parameters: map[string]string{"image": "ghcr.io/acme/orders:2.1.0"}}
	if change != nil {
		change(d)
	}
	return d
}

func writer(login string, teams map[string]bool) Person {
	return Person{Login: login, Permission: "write", Teams: teams}
}

// messages are the problems in a joined error, one a line, sorted.
func messages(err error) []string {
	if err == nil {
		return nil
	}
	out := strings.Split(err.Error(), "\n")
	sort.Strings(out)
	return out
}

func TestAdmit(t *testing.T) {
	cfg, cat := fixtures(t)
	noTeams := *cfg
	noTeams.Teams = nil
	member := map[string]bool{"payments": true}
	alice := writer("alice", member)
	tests := []struct {
		name    string
		cfg     *config.Repo
		draft   *request.Draft
		people  []Person
		refusal *Refusal
		errs    []string
	}{
		{name: "admitted", draft: draft(nil), people: []Person{alice}},
		{name: "admin reaches write", draft: draft(nil), people: []Person{{Login: "alice", Permission: "admin", Teams: member}}},
		{name: "read permission refused", draft: draft(nil), people: []Person{{Login: "bob", Permission: "read"}},
			refusal: &Refusal{User: "bob", Reason: "requests in this repository need write permission or more."}},
		{name: "no permission refused", draft: draft(nil), people: []Person{alice, {Login: "eve", Permission: "none"}},
			refusal: &Refusal{User: "eve", Reason: "requests in this repository need write permission or more."}},
		{name: "a stranger is refused whatever the permission says", draft: draft(nil), people: []Person{{Login: "eve", Association: "FIRST_TIMER", Permission: "write", Teams: member}},
			refusal: &Refusal{User: "eve", Reason: "requests in this repository need write permission or more."}},
		{name: "environment team member", draft: draft(func(d *request.Draft) { d.Environment = "prod" }),
			people: []Person{alice}},
		{name: "member of the second team", draft: draft(func(d *request.Draft) { d.Environment = "prod" }),
			people: []Person{writer("alice", map[string]bool{"payments": false, "platform": true})}},
		{name: "outside the environment's teams", draft: draft(func(d *request.Draft) { d.Environment = "prod" }),
			people:  []Person{alice, writer("carol", map[string]bool{"payments": false, "platform": false})},
			refusal: &Refusal{User: "carol", Reason: "only members of payments, platform may request things in prod."}},
		{name: "membership not asked counts as none", draft: draft(func(d *request.Draft) { d.Environment = "prod" }),
			people:  []Person{writer("alice", nil)},
			refusal: &Refusal{User: "alice", Reason: "only members of payments, platform may request things in prod."}},
		{name: "refusal before field errors", draft: draft(func(d *request.Draft) { d.Environment = "prod"; d.Owner = "nobody" }),
			people:  []Person{writer("carol", nil)},
			refusal: &Refusal{User: "carol", Reason: "only members of payments, platform may request things in prod."}},
		{name: "outside the owning team", draft: draft(nil), people: []Person{writer("dave", map[string]bool{"payments": false})},
			refusal: &Refusal{User: "dave", Reason: "only members of team payments may make requests it owns."}},
		{name: "owner's membership not asked counts as none", draft: draft(nil), people: []Person{writer("alice", nil)},
			refusal: &Refusal{User: "alice", Reason: "only members of team payments may make requests it owns."}},
		{name: "everyone who shaped it answers for it", draft: draft(nil), people: []Person{alice, writer("carol", map[string]bool{"payments": false})},
			refusal: &Refusal{User: "carol", Reason: "only members of team payments may make requests it owns."}},
		{name: "another team's namespace in prod, owned by platform", draft: draft(func(d *request.Draft) {
			d.Environment, d.Owner, d.Namespace = "prod", "platform", "team-search"
		}), people: []Person{writer("alice", map[string]bool{"payments": true, "platform": false})},
			refusal: &Refusal{User: "alice", Reason: "only members of team platform may make requests it owns."}},
		{name: "an admitting team that may use the namespace", draft: draft(func(d *request.Draft) {
			d.Environment, d.Owner, d.Namespace = "prod", "search", "team-search"
		}), people: []Person{writer("pat", map[string]bool{"payments": false, "platform": true, "search": false})}},
		{name: "outside the owning team and the admitting teams that may use the namespace", draft: draft(func(d *request.Draft) {
			d.Environment, d.Owner, d.Namespace = "prod", "search", "team-search"
		}), people: []Person{writer("alice", map[string]bool{"payments": true, "platform": false, "search": false})},
			refusal: &Refusal{User: "alice", Reason: "only members of team search may make requests it owns (in prod, members of platform may too, for namespace team-search)."}},
		{name: "unknown blueprint", draft: draft(func(d *request.Draft) { d.Blueprint = "mainframe" }), people: []Person{alice},
			errs: []string{`spec.blueprint: unknown blueprint "mainframe"; available: postgres, preview, scheduled-job, team-namespace, web-service; blueprints here: postgres, preview, scheduled-job, team-namespace, web-service`}},
		{name: "unknown environment", draft: draft(func(d *request.Draft) { d.Environment = "staging" }), people: []Person{alice},
			errs: []string{`spec.environment: unknown environment "staging"; this repository has dev, prod`}},
		{name: "unknown owner", draft: draft(func(d *request.Draft) { d.Owner = "billing" }), people: []Person{writer("alice", nil)},
			errs: []string{`spec.owner: unknown team "billing"; teams here: payments, search, platform`}},
		{name: "namespace of another team", draft: draft(func(d *request.Draft) { d.Namespace = "team-search" }), people: []Person{alice},
			errs: []string{`spec.namespace: team payments may not use namespace "team-search"; it may use team-payments, payments-*`}},
		{name: "namespace by prefix", draft: draft(func(d *request.Draft) { d.Namespace = "payments-batch" }), people: []Person{alice}},
		{name: "owner unchecked without teams", cfg: &noTeams, draft: draft(func(d *request.Draft) { d.Owner = "billing"; d.Namespace = "anything" }),
			people: []Person{writer("alice", nil)}},
		{name: "no owner rule without teams", cfg: &noTeams, draft: draft(nil), people: []Person{writer("carol", nil)}},
		{name: "every problem at once", draft: draft(func(d *request.Draft) {
			d.Environment, d.Owner, d.Parameters["port"] = "qa", "billing", "80"
		}), people: []Person{writer("alice", nil)},
			errs: []string{
				`parameters.port: must be an integer from 1024 to 65535, got "80"`,
				`spec.environment: unknown environment "qa"; this repository has dev, prod`,
				`spec.owner: unknown team "billing"; teams here: payments, search, platform`,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cfg
			if tt.cfg != nil {
				c = tt.cfg
			}
			got, err := Admit(Input{Config: c, Catalog: cat, Draft: tt.draft, People: tt.people})
			if diff := cmp.Diff(tt.errs, messages(err)); diff != "" {
				t.Fatalf("field errors (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.refusal, got.Refusal); diff != "" {
				t.Errorf("refusal (-want +got):\n%s", diff)
			}
			admitted := err == nil && tt.refusal == nil
			if admitted != (got.Request != nil) {
				t.Fatalf("request = %v, want admitted %v", got.Request, admitted)
			}
			if admitted && (got.Request.Metadata.Name != tt.draft.Name || got.Request.Spec.Environment != tt.draft.Environment) {
				t.Errorf("request = %+v", got.Request)
			}
		})
	}
}

func TestAdmitFieldErrorsNameTheirField(t *testing.T) {
	cfg, cat := fixtures(t)
	_, err := Admit(Input{Config: cfg, Catalog: cat, Draft: draft(func(d *request.Draft) { d.Namespace = "team-search" }), People: []Person{writer("alice", map[string]bool{"payments": true})}})
	var fe *field.Error
	if !errors.As(err, &fe) || fe.Field != "spec.namespace" {
		t.Fatalf("error %v: want a *field.Error on spec.namespace", err)
	}
}

func TestAdmitNeedsItsInput(t *testing.T) {
	cfg, cat := fixtures(t)
	for name, in := range map[string]Input{
		"no draft":   {Config: cfg, Catalog: cat},
		"no config":  {Catalog: cat, Draft: draft(nil)},
		"no catalog": {Config: cfg, Draft: draft(nil)},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Admit(in); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

func TestNext(t *testing.T) {
	cfg, cat := fixtures(t)
	noTeams := *cfg
	noTeams.Teams = nil
	prod := draft(func(d *request.Draft) { d.Environment = "prod" })
	tests := []struct {
		name   string
		cfg    *config.Repo
		draft  *request.Draft
		people []Person
		// answers are GitHub's answers, by "user/team"; unlisted ones are no.
		answers map[string]bool
		want    []Question
	}{
		{name: "the owner in an environment without teams", draft: draft(nil), people: []Person{writer("alice", nil)},
			answers: map[string]bool{"alice/payments": true}, want: []Question{{"alice", "payments"}}},
		{name: "a repository without teams asks nothing", cfg: &noTeams, draft: prod, people: []Person{writer("alice", nil)},
			want: []Question{{"alice", "payments"}, {"alice", "platform"}}},
		{name: "a repository without teams or environment teams asks nothing", cfg: &noTeams, draft: draft(nil), people: []Person{writer("alice", nil)}},
		{name: "unknown environment asks about the owner only", draft: draft(func(d *request.Draft) { d.Environment = "qa" }), people: []Person{writer("alice", nil)},
			answers: map[string]bool{"alice/payments": true}, want: []Question{{"alice", "payments"}}},
		{name: "unknown owner asks nothing", draft: draft(func(d *request.Draft) { d.Owner = "billing" }), people: []Person{writer("alice", nil)}},
		{name: "stops at the first team that says yes", draft: prod, people: []Person{writer("alice", nil)},
			answers: map[string]bool{"alice/payments": true}, want: []Question{{"alice", "payments"}}},
		{name: "every team in order", draft: prod, people: []Person{writer("alice", nil)},
			answers: map[string]bool{"alice/platform": true}, want: []Question{{"alice", "payments"}, {"alice", "platform"}}},
		{name: "each person in order", draft: prod, people: []Person{writer("alice", nil), writer("dave", nil)},
			answers: map[string]bool{"alice/payments": true, "dave/payments": true},
			want:    []Question{{"alice", "payments"}, {"dave", "payments"}}},
		{name: "nobody asked after a non-member", draft: prod, people: []Person{writer("carol", nil), writer("alice", nil)},
			want: []Question{{"carol", "payments"}, {"carol", "platform"}}},
		{name: "nobody asked after someone outside the owning team", draft: draft(nil), people: []Person{writer("carol", nil), writer("alice", nil)},
			want: []Question{{"carol", "payments"}}},
		{name: "answers already known are not asked again", draft: prod, people: []Person{writer("alice", map[string]bool{"payments": false})},
			answers: map[string]bool{"alice/platform": true}, want: []Question{{"alice", "platform"}}},
		{name: "the owner after the environment's teams", draft: draft(func(d *request.Draft) {
			d.Environment, d.Owner, d.Namespace = "prod", "search", "team-search"
		}), people: []Person{writer("pat", nil)}, answers: map[string]bool{"pat/payments": true, "pat/search": true},
			want: []Question{{"pat", "payments"}, {"pat", "search"}}},
		{name: "an admitting team that may use the namespace stands for the owner", draft: draft(func(d *request.Draft) {
			d.Environment, d.Owner, d.Namespace = "prod", "search", "team-search"
		}), people: []Person{writer("pat", nil)}, answers: map[string]bool{"pat/platform": true},
			want: []Question{{"pat", "payments"}, {"pat", "platform"}}},
		{name: "a permission refusal needs no teams", draft: prod, people: []Person{{Login: "bob", Permission: "read"}}},
		{name: "a stranger needs no teams", draft: prod, people: []Person{{Login: "eve", Association: "NONE", Permission: "write"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cfg
			if tt.cfg != nil {
				c = tt.cfg
			}
			in := Input{Config: c, Catalog: cat, Draft: tt.draft, People: tt.people}
			var asked []Question
			for q, ok := Next(in); ok; q, ok = Next(in) {
				if len(asked) > 10 {
					t.Fatalf("still asking after %v", asked)
				}
				asked = append(asked, q)
				in.Answer(q, tt.answers[q.User+"/"+q.Team])
			}
			if diff := cmp.Diff(tt.want, asked); diff != "" {
				t.Errorf("questions (-want +got):\n%s", diff)
			}
			// What Next asked is enough: no answer it did not ask for
			// changes Admit's decision.
			got, _ := Admit(in)
			all := in
			all.People = make([]Person, len(in.People))
			for i, p := range in.People {
				p.Teams = maps.Clone(p.Teams)
				if p.Teams == nil {
					p.Teams = map[string]bool{}
				}
				for _, team := range c.Teams {
					if _, asked := p.Teams[team.Name]; !asked {
						p.Teams[team.Name] = true
					}
				}
				all.People[i] = p
			}
			if again, _ := Admit(all); !cmp.Equal(got.Refusal, again.Refusal) {
				t.Errorf("a membership Next did not ask about changes the refusal: %+v, then %+v", got.Refusal, again.Refusal)
			}
		})
	}
}

func TestStranger(t *testing.T) {
	cfg, _ := fixtures(t)
	readable := *cfg
	readable.Intake.Permission = "read"
	tests := []struct {
		cfg         *config.Repo
		association string
		want        bool
	}{
		{cfg, "NONE", true}, {cfg, "FIRST_TIMER", true}, {cfg, "FIRST_TIME_CONTRIBUTOR", true}, {cfg, "none", true},
		{cfg, "OWNER", false}, {cfg, "MEMBER", false}, {cfg, "COLLABORATOR", false}, {cfg, "", false},
		// Anyone may read a public repository: the association tells nothing.
		{&readable, "NONE", false},
	}
	for _, tt := range tests {
		t.Run(tt.cfg.Intake.Permission+"/"+tt.association, func(t *testing.T) {
			if got := Stranger(tt.cfg, tt.association); got != tt.want {
				t.Errorf("Stranger(%q) = %v, want %v", tt.association, got, tt.want)
			}
		})
	}
}

func TestAuthorize(t *testing.T) {
	cfg, _ := fixtures(t)
	tests := []struct {
		want, have string
		ok         bool
	}{
		{"write", "read", false}, {"write", "triage", false}, {"write", "write", true},
		{"write", "maintain", true}, {"write", "admin", true}, {"write", "", false}, {"write", "none", false},
		{"read", "read", true}, {"admin", "maintain", false},
	}
	for _, tt := range tests {
		t.Run(tt.want+"/"+tt.have, func(t *testing.T) {
			c := *cfg
			c.Intake.Permission = tt.want
			r := Authorize(&c, Person{Login: "u", Permission: tt.have})
			if (r == nil) != tt.ok {
				t.Fatalf("Authorize = %+v, want ok %v", r, tt.ok)
			}
			if r != nil && r.Reason != "requests in this repository need "+tt.want+" permission or more." {
				t.Errorf("reason %q", r.Reason)
			}
		})
	}
}

func TestEnvironment(t *testing.T) {
	cfg, _ := fixtures(t)
	tests := []struct {
		name, env, root, err string
	}{
		{name: "known", env: "prod", root: "environments/prod"},
		{name: "unknown", env: "staging", err: `spec.environment: unknown environment "staging"; this repository has dev, prod`},
		{name: "empty", env: "", err: `spec.environment: unknown environment ""; this repository has dev, prod`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, err := Environment(cfg, tt.env)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.err || env.Root != tt.root {
				t.Errorf("Environment(%q) = %+v, %q; want root %q, error %q", tt.env, env, got, tt.root, tt.err)
			}
		})
	}
}

func TestAdmitTTLRules(t *testing.T) {
	cfg, err := config.ParseRepo([]byte(strings.Replace(repoYAML, "- name: dev\n", "- name: dev\n  requireTTL: true\n  maxTTL: 7d\n", 1)))
	if err != nil {
		t.Fatal(err)
	}
	_, cat := fixtures(t)
	alice := []Person{writer("alice", map[string]bool{"payments": true})}
	tests := []struct {
		name, ttl, env, want string
	}{
		{"required", "", "dev", "spec.ttl: is required in dev; give one such as ttl=7d"},
		{"bounded", "8d", "dev", "spec.ttl: 8d is longer than dev allows; at most 7d"},
		{"within", "168h", "dev", ""},
		{"another environment's rules", "", "prod", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := draft(func(d *request.Draft) { d.TTL, d.Environment = tt.ttl, tt.env })
			dec, err := Admit(Input{Config: cfg, Catalog: cat, Draft: d, People: alice})
			if tt.want == "" {
				if err != nil || dec.Request == nil {
					t.Fatalf("refused: %v %+v", err, dec)
				}
				return
			}
			var fe *field.Error
			if !errors.As(err, &fe) || fe.Field != "spec.ttl" || err.Error() != tt.want {
				t.Fatalf("error %v: want %q", err, tt.want)
			}
		})
	}
	// Removing a request that predates the rules is never refused by them.
	if dec, err := Admit(Input{Config: cfg, Catalog: cat, Draft: draft(func(d *request.Draft) { d.TTL, d.Destroy = "30d", true }), People: alice}); err != nil || dec.Request == nil {
		t.Errorf("removal refused: %v", err)
	}
	dev, _ := cfg.Environment("dev")
	if err := TTL(dev, "30d", "ttl"); err == nil || err.Error() != "ttl: 30d is longer than dev allows; at most 7d" {
		t.Errorf("an extension past maxTTL: %v", err)
	}
}
