package reconcile

import "testing"

// TestWroteNothing: an apply wrote nothing when every object is unchanged
// (or was refused, failed or skipped) and nothing was deleted; then
// ApplyOptions.SkipHealthWhenUnchanged skips the health wait.
func TestWroteNothing(t *testing.T) {
	items := func(actions ...Action) []*item {
		var out []*item
		for _, a := range actions {
			out = append(out, &item{res: ObjectResult{Action: a}})
		}
		return out
	}
	for _, tt := range []struct {
		name   string
		items  []*item
		pruned []ObjectResult
		want   bool
	}{
		{"all unchanged", items(Unchanged, Unchanged), nil, true},
		{"unchanged, refused and failed", items(Unchanged, Refused, Failed), []ObjectResult{{Action: Skipped}, {Action: LeftInPlace}}, true},
		{"one created", items(Unchanged, Created), nil, false},
		{"one configured", items(Configured), nil, false},
		{"one recreated", items(Recreated), nil, false},
		{"one pruned", items(Unchanged), []ObjectResult{{Action: Deleted}}, false},
	} {
		if got := wroteNothing(tt.items, tt.pruned); got != tt.want {
			t.Errorf("%s: wroteNothing = %v, want %v", tt.name, got, tt.want)
		}
	}
}
