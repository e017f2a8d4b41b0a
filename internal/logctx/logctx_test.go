package logctx

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

func TestLoggerTravelsWithContext(t *testing.T) {
	if LoggerFrom(context.Background()) != slog.Default() {
		t.Error("a context without a logger must give slog.Default()")
	}
	var buf bytes.Buffer
	ctx := WithLogger(context.Background(), slog.New(slog.NewTextHandler(&buf, nil)))
	ctx, _ = With(ctx, "delivery", "d-1")
	_, log := With(ctx, "repo", "acme/infra")
	log.Info("hello")
	LoggerFrom(ctx).Info("outer")
	got := buf.String()
	for _, want := range []string{"msg=hello delivery=d-1 repo=acme/infra", "msg=outer delivery=d-1\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("log lacks %q:\n%s", want, got)
		}
	}
}
