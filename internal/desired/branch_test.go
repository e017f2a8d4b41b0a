package desired

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// defaultBranches answers DefaultBranch from a map and counts the calls.
type defaultBranches struct {
	branches map[string]string
	calls    []string
}

func (d *defaultBranches) DefaultBranch(_ context.Context, owner, repo string) (string, error) {
	d.calls = append(d.calls, owner+"/"+repo)
	br, ok := d.branches[owner+"/"+repo]
	if !ok {
		return "", errors.New("not found")
	}
	return br, nil
}

func TestBranchesResolve(t *testing.T) {
	gh := &defaultBranches{branches: map[string]string{"acme/infra": "trunk", "acme/apps": "main"}}
	b := NewBranches(map[string]string{"acme/infra": "", "acme/apps": "release", "acme/gone": ""})
	for _, tc := range []struct {
		name, full, want, wantErr string
		wantCalls                 []string
	}{
		{name: "default branch asked", full: "acme/infra", want: "trunk", wantCalls: []string{"acme/infra"}},
		{name: "default branch remembered", full: "acme/infra", want: "trunk"},
		{name: "configured branch", full: "acme/apps", want: "release"},
		{name: "failure is not remembered", full: "acme/gone", wantErr: "default branch of acme/gone: not found", wantCalls: []string{"acme/gone"}},
		{name: "failure asked again", full: "acme/gone", wantErr: "default branch of acme/gone: not found", wantCalls: []string{"acme/gone"}},
		{name: "not owner/name", full: "infra", wantErr: `repository "infra": must be owner/name`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gh.calls = nil
			got, err := b.Resolve(t.Context(), gh, tc.full)
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if got != tc.want || gotErr != tc.wantErr {
				t.Errorf("Resolve(%s) = %q, %q; want %q, %q", tc.full, got, gotErr, tc.want, tc.wantErr)
			}
			if diff := cmp.Diff(tc.wantCalls, gh.calls); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
		})
	}
}
