// Package admission decides whether a request may be made, and what it is:
// every rule about who may ask (repository permission, the teams an
// environment admits, the team that owns the request) and about what may
// be asked (a known blueprint and environment, an owner that is a team of
// the repository, a namespace that team may use, parameters the blueprint
// accepts) lives here, once.
//
// Everyone who shaped a draft answers for it: whoever wrote the form or a
// command, or edited one, must have the repository permission intake asks
// for (a stranger, by GitHub's author_association, has none), belong to a
// team the environment admits when it names any, and, when the repository
// defines teams, belong to the team that owns the request (config
// Team.Name is the GitHub team slug) or to a team the environment admits
// that may use the request's namespace.
//
// Admission does no I/O. Its input is the repository's configuration, its
// blueprint catalog, the draft a request issue gives, and the people who
// shaped the draft with what GitHub said about them (their association,
// permission and team memberships). Next names the one fact still missing,
// if any, so that a caller asks GitHub for no more than the decision needs;
// Admit then returns the decision (the request, or a refusal) or the field
// errors.
package admission
