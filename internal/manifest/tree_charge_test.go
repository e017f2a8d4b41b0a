package manifest

import (
	"context"
	"strings"
	"testing"
)

// TestChargeStopsAtLimits charges a tree with what another read, and
// wants it stopped, as a read would stop it, once that passes a limit,
// and every later read to fail the same way.
func TestChargeStopsAtLimits(t *testing.T) {
	for name, c := range map[string]Counts{
		"files":   {Files: 11},
		"bytes":   {Bytes: 1001},
		"objects": {Objects: 6},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			tr, err := OpenTree(context.Background(), dir, Limits{Files: 10, Bytes: 1000, Objects: 5})
			if err != nil {
				t.Fatal(err)
			}
			defer tr.Close()
			if err := tr.Charge(Counts{Files: 10, Bytes: 1000, Objects: 5}); err != nil {
				t.Fatalf("charged up to the limits: %v", err)
			}
			if got := tr.Counted(); got != (Counts{Files: 10, Bytes: 1000, Objects: 5}) {
				t.Errorf("counted %+v", got)
			}
			tr2, _ := OpenTree(context.Background(), dir, Limits{Files: 10, Bytes: 1000, Objects: 5})
			defer tr2.Close()
			err = tr2.Charge(c)
			if err == nil || !strings.Contains(err.Error(), "limit") {
				t.Fatalf("charged past the %s limit: %v", name, err)
			}
			if _, err := tr2.ReadFile("x.yaml"); err == nil || tr2.Err() == nil {
				t.Errorf("the tree reads on after a charge past its limits: %v", err)
			}
		})
	}
}
