package blueprint

import (
	"context"
	"testing"
)

func BenchmarkRenderWebService(b *testing.B) {
	bp, err := builtin(b).Get("web-service")
	if err != nil {
		b.Fatal(err)
	}
	in := examples["web-service"]
	b.ReportAllocs()
	for b.Loop() {
		if _, err := bp.Render(context.Background(), in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoadBuiltin(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(context.Background(), Builtin()); err != nil {
			b.Fatal(err)
		}
	}
}
