package config

import "strings"

// RepoKey is the form of a repository's owner/name that compares equal
// however it is spelt: GitHub resolves owner and repository names without
// regard to case (any case in a path reaches the repository, and payloads
// carry the canonical spelling), so "Acme/Infra" and "acme/infra" are one
// repository. Every comparison of repository names, and every map or lock
// keyed by one, goes through RepoKey.
func RepoKey(fullName string) string { return strings.ToLower(fullName) }

// SameRepo tells whether two owner/name spellings name one repository.
func SameRepo(a, b string) bool { return RepoKey(a) == RepoKey(b) }
