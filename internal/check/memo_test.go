package check

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gitvend/gitvend/internal/cost"
)

func TestBaseMemoKeepsRecentlyUsed(t *testing.T) {
	m := newBaseMemo(3)
	var made []string
	get := func(key string) {
		t.Helper()
		b, err := m.get(key, func() (base, error) {
			made = append(made, key)
			return base{est: cost.Estimate{Currency: key}}, nil
		})
		if est := b.est; err != nil || est.Currency != key {
			t.Fatalf("get(%s) = %+v, %v", key, b.est, err)
		}
	}
	tests := []struct {
		name string
		keys []string
		made []string // estimates made, in order
	}{
		{"fill", []string{"a", "b", "c"}, []string{"a", "b", "c"}},
		{"remembered", []string{"a", "b", "c", "a"}, nil},
		{"least recently used goes", []string{"d"}, []string{"d"}}, // b, unused since a was asked again
		{"recent ones stay", []string{"a", "c", "d"}, nil},
		{"forgotten one is made again", []string{"b"}, []string{"b"}}, // evicts a, now the oldest
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			made = nil
			for _, k := range tt.keys {
				get(k)
			}
			if d := cmp.Diff(tt.made, made); d != "" {
				t.Errorf("estimates made (-want +got):\n%s", d)
			}
		})
	}
	if m.lru.Len() != 3 {
		t.Errorf("remembers %d estimates, want 3", m.lru.Len())
	}
}

func TestBaseMemoForgetsFailures(t *testing.T) {
	m := newBaseMemo(2)
	calls := 0
	fail := func() (base, error) { calls++; return base{}, errors.New("boom") }
	for i := range 2 {
		if _, err := m.get("k", fail); err == nil {
			t.Fatalf("call %d: want the error", i)
		}
	}
	if calls != 2 {
		t.Errorf("failed estimate made %d times, want it tried again (2)", calls)
	}
	if got := fmt.Sprint(m.lru.Keys()); got != "[]" {
		t.Errorf("remembered keys %s after failures", got)
	}
}
