// Package admission decides whether a request may be made, and what it is:
// every rule about who may ask (repository permission, the teams an
// environment admits) and about what may be asked (a known blueprint and
// environment, an owner that is a team of the repository, a namespace that
// team may use, parameters the blueprint accepts) lives here, once.
//
// Admission does no I/O. Its input is the repository's configuration, its
// blueprint catalog, the draft a request issue gives, and the people who
// shaped the draft with what GitHub said about them (their permission and
// team memberships). Next names the one fact still missing, if any, so that
// a caller asks GitHub for no more than the decision needs; Admit then
// returns the decision (the request, or a refusal) or the field errors.
package admission
