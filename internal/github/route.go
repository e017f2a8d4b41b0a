package github

import (
	"strings"
)

// routeTemplates are the REST paths this package calls, as templates. A
// parameter ending in "*" may span several segments (refs); parameters
// named "number" or ending in "_id" match digits only.
var routeTemplates = compileRoutes(
	"/app",
	"/app/installations/:installation_id",
	"/app/installations/:installation_id/access_tokens",
	"/rate_limit",
	"/orgs/:org/teams/:team/memberships/:user",
	"/repos/:owner/:repo",
	"/repos/:owner/:repo/installation",
	"/repos/:owner/:repo/branches/:branch*",
	"/repos/:owner/:repo/collaborators/:user/permission",
	"/repos/:owner/:repo/issues",
	"/repos/:owner/:repo/issues/comments/:comment_id",
	"/repos/:owner/:repo/issues/comments/:comment_id/reactions",
	"/repos/:owner/:repo/issues/:number",
	"/repos/:owner/:repo/issues/:number/comments",
	"/repos/:owner/:repo/issues/:number/labels",
	"/repos/:owner/:repo/issues/:number/reactions",
	"/repos/:owner/:repo/pulls",
	"/repos/:owner/:repo/pulls/:number",
	"/repos/:owner/:repo/pulls/:number/files",
	"/repos/:owner/:repo/check-runs",
	"/repos/:owner/:repo/check-runs/:check_run_id",
	"/repos/:owner/:repo/commits/:ref*/check-runs",
	"/repos/:owner/:repo/commits/:ref*/status",
	"/repos/:owner/:repo/statuses/:sha",
	"/repos/:owner/:repo/git/ref/:ref*",
	"/repos/:owner/:repo/git/refs/:ref*",
)

// otherRoute labels calls to paths outside routeTemplates, which keeps the
// metric's cardinality bounded.
const otherRoute = "other"

// routeTemplate is one compiled template.
type routeTemplate struct {
	text string
	segs []string
}

func compileRoutes(templates ...string) []routeTemplate {
	out := make([]routeTemplate, 0, len(templates))
	for _, t := range templates {
		out = append(out, routeTemplate{text: t, segs: strings.Split(strings.TrimPrefix(t, "/"), "/")})
	}
	return out
}

// routeOf returns the template of an API path (without the API base path),
// or otherRoute.
func routeOf(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	for i := range routeTemplates {
		if matchRoute(routeTemplates[i].segs, parts) {
			return routeTemplates[i].text
		}
	}
	return otherRoute
}

func matchRoute(tmpl, parts []string) bool {
	if len(tmpl) == 0 {
		return len(parts) == 0
	}
	t := tmpl[0]
	if !strings.HasPrefix(t, ":") {
		return len(parts) > 0 && parts[0] == t && matchRoute(tmpl[1:], parts[1:])
	}
	if strings.HasSuffix(t, "*") {
		for n := len(parts) - len(tmpl) + 1; n >= 1; n-- {
			if matchRoute(tmpl[1:], parts[n:]) {
				return true
			}
		}
		return false
	}
	if len(parts) == 0 || parts[0] == "" {
		return false
	}
	if (t == ":number" || strings.HasSuffix(t, "_id")) && !isDigits(parts[0]) {
		return false
	}
	return matchRoute(tmpl[1:], parts[1:])
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}
