package admission

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gitvend/gitvend/internal/blueprint"
	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/field"
	"github.com/gitvend/gitvend/internal/request"
)

// Catalog is the blueprints a repository offers.
type Catalog interface {
	Get(name string) (*blueprint.Blueprint, error)
	List() []*blueprint.Blueprint
}

// Person is someone who shaped a request, with what GitHub said about them.
type Person struct {
	// Login is the GitHub login.
	Login string
	// Association is GitHub's author_association of the person's text,
	// when known ("" when not): a stranger's (see Stranger) is refused
	// without asking for the permission.
	Association string
	// Permission is the repository permission GitHub reports: read,
	// triage, write, maintain or admin ("" or "none" for none).
	Permission string
	// Teams holds GitHub's answers about team memberships by team slug:
	// true for a member, false for not; a team absent was not asked about.
	Teams map[string]bool
}

// Input is what a decision is made on.
type Input struct {
	// Config is the repository's gitvend.yaml.
	Config *config.Repo
	// Catalog is the repository's blueprints.
	Catalog Catalog
	// Draft is the request as the form and commands give it.
	Draft *request.Draft
	// People shaped the draft, in order: the form's author or the first
	// commander, then whoever changed it since.
	People []Person
}

// Refusal says who may not ask for a request, and why.
type Refusal struct {
	// User is the login refused.
	User string
	// Reason is one sentence, such as "requests in this repository need
	// write permission or more."
	Reason string
}

// Decision is the outcome of an admission that found no field errors:
// either the request is admitted or someone is refused.
type Decision struct {
	// Request is the admitted request record; nil when refused.
	Request *request.Request
	// Refusal is set when someone who shaped the draft may not ask for it.
	Refusal *Refusal
}

// Question is a fact admission needs from GitHub: whether User is a member
// of Team (a team slug of the repository's organisation).
type Question struct {
	User string
	Team string
}

// strangers are the author associations of people GitHub knows no tie of
// to a repository: no ownership, membership or collaboration.
var strangers = []string{"NONE", "FIRST_TIMER", "FIRST_TIME_CONTRIBUTOR"}

// Stranger tells whether GitHub's author_association alone shows that its
// person may not make requests, so that nothing (not even the permission)
// need be asked about them: a stranger has no permission beyond reading,
// and the repository asks for more. An unknown association ("") is no
// stranger's: the permission decides.
func Stranger(cfg *config.Repo, association string) bool {
	if association == "" || config.PermissionAtLeast("read", cfg.Intake.Permission) {
		return false // anyone may read a public repository
	}
	return slices.Contains(strangers, strings.ToUpper(association))
}

// Authorize tells whether p may make requests in the repository: p is no
// stranger and p's permission reaches the one its intake settings ask
// for. It returns nil when p may, or else the refusal.
func Authorize(cfg *config.Repo, p Person) *Refusal {
	if !Stranger(cfg, p.Association) && config.PermissionAtLeast(p.Permission, cfg.Intake.Permission) {
		return nil
	}
	return &Refusal{User: p.Login, Reason: fmt.Sprintf("requests in this repository need %s permission or more.", cfg.Intake.Permission)}
}

// Next returns the team membership a decision on in still needs, and false
// when in holds enough to decide. Each person must meet every team rule
// (rules): belong to a team the environment admits, when it names any,
// and to the team that owns the request, or to a team the environment
// admits that may use the request's namespace. A person is asked about a
// rule's teams in order until one says yes; the first person who meets a
// rule through none of them decides (a refusal), and nobody after them is
// asked about.
func Next(in Input) (Question, bool) {
	rs := rules(in)
	if len(rs) == 0 || refusedPermission(in) != nil {
		return Question{}, false
	}
	for _, p := range in.People {
		for _, r := range rs {
			if memberOfAny(p, r.teams) {
				continue
			}
			for _, t := range r.teams {
				if _, asked := p.Teams[t]; !asked {
					return Question{User: p.Login, Team: t}, true
				}
			}
			return Question{}, false // p meets rule r through no team: refused
		}
	}
	return Question{}, false
}

// rule is a team rule of a decision: a person meets it by being a member
// of any of teams, or is refused for reason.
type rule struct {
	teams  []string
	reason string
}

// rules are the team rules of in, in the order they are judged: the
// environment's teams, then the owner's. A repository that defines no
// teams has no owner rule; an owner that is no team of the repository is
// a field error (judge), not a rule.
func rules(in Input) []rule {
	if in.Draft == nil || in.Config == nil {
		return nil
	}
	var out []rule
	envTeams := environmentTeams(in)
	if len(envTeams) > 0 {
		out = append(out, rule{teams: envTeams,
			reason: fmt.Sprintf("only members of %s may request things in %s.", strings.Join(envTeams, ", "), in.Draft.Environment)})
	}
	owner, ok := in.Config.Team(in.Draft.Owner)
	if len(in.Config.Teams) == 0 || !ok {
		return out
	}
	teams := []string{owner.Name}
	var also []string
	for _, name := range envTeams {
		if t, ok := in.Config.Team(name); ok && name != owner.Name && in.Draft.Namespace != "" && t.MayUse(in.Draft.Namespace) {
			teams = append(teams, name)
			also = append(also, name)
		}
	}
	reason := fmt.Sprintf("only members of team %s may make requests it owns", owner.Name)
	if len(also) > 0 {
		reason += fmt.Sprintf(" (in %s, members of %s may too, for namespace %s)", in.Draft.Environment, strings.Join(also, ", "), in.Draft.Namespace)
	}
	return append(out, rule{teams: teams, reason: reason + "."})
}

// Answer records GitHub's answer to q in the person it asks about.
func (in *Input) Answer(q Question, member bool) {
	for i := range in.People {
		p := &in.People[i]
		if p.Login != q.User {
			continue
		}
		if p.Teams == nil {
			p.Teams = map[string]bool{}
		}
		p.Teams[q.Team] = member
	}
}

// Admit decides on in. Someone without the permission the repository asks
// for, outside every team the draft's environment admits, or outside the
// team that owns the request (unless in a team the environment admits that
// may use its namespace) is refused, whoever asked first: every person who
// shaped the draft answers for it (a membership not answered counts as
// none). Otherwise the draft is judged against its blueprint and the
// repository's environments and teams: the result is the request record,
// or every problem found, joined, each a *field.Error naming its field.
func Admit(in Input) (Decision, error) {
	if in.Draft == nil || in.Config == nil || in.Catalog == nil {
		return Decision{}, errors.New("admit: config, catalog and draft are required")
	}
	if r := refusedPermission(in); r != nil {
		return Decision{Refusal: r}, nil
	}
	rs := rules(in)
	for _, p := range in.People {
		for _, r := range rs {
			if !memberOfAny(p, r.teams) {
				return Decision{Refusal: &Refusal{User: p.Login, Reason: r.reason}}, nil
			}
		}
	}
	r, err := judge(in.Config, in.Catalog, in.Draft)
	if err != nil {
		return Decision{}, err
	}
	return Decision{Request: r}, nil
}

// Environment returns the environment called name, or a field error that
// names the environments the repository has.
func Environment(cfg *config.Repo, name string) (config.Environment, error) {
	env, ok := cfg.Environment(name)
	if !ok {
		return config.Environment{}, &field.Error{Field: "spec.environment",
			Msg: fmt.Sprintf("unknown environment %q; this repository has %s", name, strings.Join(cfg.EnvironmentNames(), ", "))}
	}
	return env, nil
}

// judge checks the draft against its blueprint and the repository's
// environments and teams, and returns the request record it gives.
func judge(cfg *config.Repo, cat Catalog, d *request.Draft) (*request.Request, error) {
	bp, err := cat.Get(d.Blueprint)
	if err != nil {
		return nil, &field.Error{Field: "spec.blueprint", Msg: fmt.Sprintf("%v; blueprints here: %s", err, strings.Join(blueprintNames(cat), ", "))}
	}
	var errs []error
	given := make(map[string]any, len(d.Parameters))
	typed := make(map[string]any, len(d.Parameters))
	for k, v := range d.Parameters {
		given[k] = v
		if p := bp.Parameter(k); p != nil {
			if t, err := p.Coerce(v); err == nil {
				typed[k] = t
			}
		}
	}
	if _, err := bp.Resolve(blueprint.Input{Name: d.Name, Namespace: d.Namespace, Environment: d.Environment, Owner: d.Owner, Parameters: given}); err != nil {
		errs = append(errs, err)
	}
	if d.Environment != "" {
		if env, err := Environment(cfg, d.Environment); err != nil {
			errs = append(errs, err)
		} else if err := TTL(env, d.TTL, "spec.ttl"); err != nil && !d.Destroy { // no ttl rule holds a removal back
			errs = append(errs, err)
		}
	}
	if err := ownerMayUse(cfg, d.Owner, d.Namespace); err != nil {
		errs = append(errs, err)
	}
	r, err := d.Request(typed)
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return r, nil
}

// ownerMayUse checks that owner is one of the repository's teams and that
// it may use namespace. A repository that defines no teams, or a draft
// without an owner, is not checked here.
func ownerMayUse(cfg *config.Repo, owner, namespace string) error {
	if len(cfg.Teams) == 0 || owner == "" {
		return nil
	}
	team, ok := cfg.Team(owner)
	if !ok {
		names := make([]string, len(cfg.Teams))
		for i, t := range cfg.Teams {
			names[i] = t.Name
		}
		return &field.Error{Field: "spec.owner", Msg: fmt.Sprintf("unknown team %q; teams here: %s", owner, strings.Join(names, ", "))}
	}
	if namespace != "" && !team.MayUse(namespace) {
		return &field.Error{Field: "spec.namespace", Msg: fmt.Sprintf("team %s may not use namespace %q; it may use %s", team.Name, namespace, strings.Join(team.Namespaces, ", "))}
	}
	return nil
}

// refusedPermission is the refusal of the first person without the
// permission requests need, or nil.
func refusedPermission(in Input) *Refusal {
	for _, p := range in.People {
		if r := Authorize(in.Config, p); r != nil {
			return r
		}
	}
	return nil
}

// environmentTeams are the teams the draft's environment admits; none when
// it admits everyone or is unknown (judge reports an unknown one).
func environmentTeams(in Input) []string {
	if in.Draft == nil || in.Config == nil {
		return nil
	}
	env, ok := in.Config.Environment(in.Draft.Environment)
	if !ok {
		return nil
	}
	return env.Teams
}

func memberOfAny(p Person, teams []string) bool {
	for _, t := range teams {
		if p.Teams[t] {
			return true
		}
	}
	return false
}

func blueprintNames(cat Catalog) []string {
	var names []string
	for _, bp := range cat.List() {
		names = append(names, bp.Name)
	}
	return names
}

// TTL judges ttl, the ttl of a request or of an extension of it, against
// the rules of environment env: a ttl it requires must be given, and none
// may exceed its maxTTL. The error is a *field.Error on name; a ttl that
// does not parse is left to the request's own checks.
func TTL(env config.Environment, ttl, name string) error {
	if ttl == "" {
		if env.RequireTTL {
			return &field.Error{Field: name, Msg: fmt.Sprintf("is required in %s; give one such as %s", env.Name, ttlExample(env))}
		}
		return nil
	}
	d, err := request.ParseTTL(ttl)
	if err != nil {
		return nil
	}
	if limit := env.MaxTTLDuration(); limit > 0 && d > limit {
		return &field.Error{Field: name, Msg: fmt.Sprintf("%s is longer than %s allows; at most %s", ttl, env.Name, env.MaxTTL)}
	}
	return nil
}

// ttlExample is a ttl env accepts.
func ttlExample(env config.Environment) string {
	if env.MaxTTL != "" {
		return "ttl=" + env.MaxTTL
	}
	return "ttl=72h"
}
