package check

import (
	"slices"
	"testing"

	"github.com/gitvend/gitvend/internal/manifest"
)

// TestCompareObjectsCounts counts a head against a base, where objects
// are added, changed, removed, or read twice at one place (the last one
// counts, in base and in head), and wants the counts of the indexed
// comparison, and the figures worked out by hand.
func TestCompareObjectsCounts(t *testing.T) {
	at := func(env, name, digest string) placed {
		return placedAt(env, manifest.ID{APIVersion: "v1", Kind: "ConfigMap", Namespace: "ns", Name: name}, digest)
	}
	base := []placed{at("dev", "a", "1"), at("dev", "b", "1"), at("prod", "a", "1"), at("dev", "c", "1"), at("dev", "c", "2")}
	for name, c := range map[string]struct {
		head                           []placed
		total, added, changed, removed int
	}{
		"same":              {head: []placed{at("dev", "a", "1"), at("dev", "b", "1"), at("prod", "a", "1"), at("dev", "c", "2")}, total: 4},
		"added and removed": {head: []placed{at("dev", "a", "1"), at("dev", "d", "1")}, total: 2, added: 1, removed: 3},
		"changed":           {head: []placed{at("dev", "a", "2"), at("dev", "b", "1"), at("prod", "a", "1"), at("dev", "c", "1")}, total: 4, changed: 2},
		"twice in head":     {head: []placed{at("dev", "a", "2"), at("dev", "a", "1"), at("dev", "b", "1")}, total: 2, removed: 2},
		"added twice":       {head: []placed{at("dev", "d", "1"), at("dev", "d", "2")}, total: 1, added: 1, removed: 4},
		"empty head":        {total: 0, removed: 4},
	} {
		t.Run(name, func(t *testing.T) {
			b := indexPlaces(base)
			got, hint, places := compareObjects(b, c.head, 1, nil)
			for i, at := range hint {
				if at >= 0 && *base[at].at != *c.head[i].at {
					t.Errorf("head object %d hinted at base object %d, at another place", i, at)
				}
			}
			// Told the places found, the comparison finds the same.
			if places != nil {
				again, hintAgain, _ := compareObjects(b, c.head, 1, places)
				if *again != *got || !slices.Equal(hint, hintAgain) {
					t.Errorf("told the places: %+v %v, want %+v %v", *again, hintAgain, *got, hint)
				}
			}
			want := compareIndexed(b, indexPlaces(c.head), 1)
			if *got != *want {
				t.Errorf("compareObjects %+v, compareIndexed %+v", *got, *want)
			}
			if got.Total != c.total || got.Added != c.added || got.Changed != c.changed || got.Removed != c.removed {
				t.Errorf("got %+v, want total %d, added %d, changed %d, removed %d", *got, c.total, c.added, c.changed, c.removed)
			}
		})
	}
}

// TestDisjoint: builds whose objects may be added without comparison
// read no folder in common, and each has its list.
func TestDisjoint(t *testing.T) {
	for _, c := range []struct {
		builds [][]string
		want   bool
	}{
		{nil, true},
		{[][]string{{"envs/dev", "requests/dev/a"}, {"envs/prod", "requests/prod/a"}}, true},
		{[][]string{{"envs/dev", "bases/web"}, {"envs/prod", "bases/web"}}, false},
		{[][]string{{"envs/dev"}, nil}, false},
	} {
		if got := disjoint(c.builds); got != c.want {
			t.Errorf("disjoint(%v) = %v, want %v", c.builds, got, c.want)
		}
	}
}
