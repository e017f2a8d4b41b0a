package policy

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/gitvend/gitvend/internal/config"
)

func TestTmpPerPolicy(t *testing.T) {
	ctx := context.Background()
	base, _ := New(ctx, Options{})
	in := Input{Subjects: subjectsOf(typicalObjects(t, 1000))}
	for _, inf := range base.Policies() {
		pols := map[string]config.PolicySetting{}
		for _, o := range base.Policies() {
			if o.ID != inf.ID {
				pols[o.ID] = config.PolicySetting{Severity: "off"}
			}
		}
		e, err := New(ctx, Options{Settings: config.Policy{Policies: pols}})
		if err != nil {
			t.Fatal(err)
		}
		e.Evaluate(ctx, in)
		start := cpu()
		for range 5 {
			e.Evaluate(ctx, in)
		}
		t.Logf("%-28s %v", inf.ID, (cpu()-start)/5)
	}
	start := cpu()
	for range 5 {
		inputValue(in, base.params)
	}
	t.Logf("%-28s %v", "inputValue", (cpu()-start)/5)
	start = cpu()
	for range 5 {
		base.Evaluate(ctx, in)
	}
	t.Logf("%-28s %v", "all", (cpu()-start)/5)
}

func cpu() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
