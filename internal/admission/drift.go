package admission

import (
	"fmt"
	"strings"

	"github.com/gitvend/gitvend/internal/config"
)

// Drift decides whether p may revert or adopt the drift of a target that
// applies the repository's environments envs: p may, as for a request,
// when p may make requests in the repository and belongs to a team that
// each of those environments admits (an environment that names no teams
// admits everyone). A target serves every environment it applies, so a
// change to it is a change to each of them.
//
// It returns p's refusal, or a team membership still to ask about (ask
// is true) before it can decide, or neither when p may. A team already
// answered (p.Teams) is not asked about again.
func Drift(cfg *config.Repo, target string, envs []string, p Person) (q Question, ask bool, r *Refusal) {
	if r := Authorize(cfg, p); r != nil {
		return Question{}, false, r
	}
	for _, name := range envs {
		env, ok := cfg.Environment(name)
		if !ok || len(env.Teams) == 0 || memberOfAny(p, env.Teams) {
			continue
		}
		for _, team := range env.Teams {
			if _, asked := p.Teams[team]; !asked {
				return Question{User: p.Login, Team: team}, true, nil
			}
		}
		return Question{}, false, &Refusal{User: p.Login, Reason: fmt.Sprintf(
			"target %s applies environment %s, where only members of %s may request; reverting or adopting its drift needs the same.",
			target, name, strings.Join(env.Teams, ", "))}
	}
	return Question{}, false, nil
}
