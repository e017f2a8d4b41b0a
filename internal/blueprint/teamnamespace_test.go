package blueprint

import (
	"context"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// groupParams are the team-namespace parameters that name a group.
var groupParams = []string{"viewersGroup", "editorsGroup", "adminsGroup"}

// TestTeamNamespaceRefusesSystemGroups renders team-namespace with each
// group parameter set to a group Kubernetes manages, which would hand the
// namespace to every user, every anonymous request or every
// ServiceAccount: each must be refused with an error naming the field.
func TestTeamNamespaceRefusesSystemGroups(t *testing.T) {
	bp, err := builtin(t).Get("team-namespace")
	if err != nil {
		t.Fatal(err)
	}
	for _, param := range groupParams {
		for _, group := range []string{
			"system:authenticated", "system:unauthenticated", "system:serviceaccounts",
			"system:serviceaccounts:team-payments", "system:masters", "system:nodes",
		} {
			t.Run(param+"/"+group, func(t *testing.T) {
				in := examples["team-namespace"]
				in.Parameters = map[string]any{param: group}
				_, err := bp.Render(context.Background(), in)
				if err == nil {
					t.Fatalf("%s=%s rendered", param, group)
				}
				if want := "parameters." + param + ": "; !strings.HasPrefix(err.Error(), want) {
					t.Errorf("error %q does not start with %q", err, want)
				}
			})
		}
	}
	for _, group := range []string{"payments-admins", "system", "systems-team", "sys-admins", "system.admins", "acme:system:admins", "s", "S:x", "oidc:payments"} {
		t.Run("allowed/"+group, func(t *testing.T) {
			in := examples["team-namespace"]
			in.Parameters = map[string]any{"adminsGroup": group}
			if _, err := bp.Render(context.Background(), in); err != nil {
				t.Errorf("adminsGroup=%s refused: %v", group, err)
			}
		})
	}
}

// TestTeamNamespaceGroupPattern holds the group pattern, which spells out
// "does not start with system:" for want of look-ahead in RE2, against
// that rule on random names built around the prefix.
func TestTeamNamespaceGroupPattern(t *testing.T) {
	bp, err := builtin(t).Get("team-namespace")
	if err != nil {
		t.Fatal(err)
	}
	name := regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9._:@/-]*[A-Za-z0-9])?$`)
	want := func(s string) bool { return name.MatchString(s) && !strings.HasPrefix(s, "system:") }
	for _, param := range groupParams {
		p := bp.Parameter(param)
		if p == nil || p.pattern == nil {
			t.Fatalf("%s has no pattern", param)
		}
		if p.Pattern != bp.Parameter(groupParams[0]).Pattern {
			t.Errorf("%s has another pattern than %s", param, groupParams[0])
		}
	}
	re := bp.Parameter(groupParams[0]).pattern
	chars := []string{"s", "y", "t", "e", "m", ":", "a", "Z", "0", ".", "-", "/", "@", "_", " ", "S"}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		var b strings.Builder
		if r.IntN(2) == 0 {
			b.WriteString("system:"[:r.IntN(8)])
		}
		for range r.IntN(10) {
			b.WriteString(chars[r.IntN(len(chars))])
		}
		s := b.String()
		if got := re.MatchString(s); got != want(s) {
			t.Fatalf("pattern matches %q: %v, want %v", s, got, want(s))
		}
	}
}
