// Package logctx carries a request- or job-scoped *slog.Logger in a
// context.Context, so every log line of one webhook delivery or one job has
// the same attributes (delivery id, event, repository, key) without passing
// a logger through every call.
package logctx
