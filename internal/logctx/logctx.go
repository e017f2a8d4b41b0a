package logctx

import (
	"context"
	"log/slog"
)

type loggerKey struct{}

// WithLogger returns a copy of ctx that carries l.
func WithLogger(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, l)
}

// LoggerFrom returns the logger ctx carries, or slog.Default() when it
// carries none.
func LoggerFrom(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok && l != nil {
		return l
	}
	return slog.Default()
}

// With adds attributes to the logger ctx carries and returns the new
// context and logger.
func With(ctx context.Context, args ...any) (context.Context, *slog.Logger) {
	l := LoggerFrom(ctx).With(args...)
	return WithLogger(ctx, l), l
}
