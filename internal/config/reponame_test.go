package config

import (
	"strings"
	"testing"
)

func TestRepoKey(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"acme/infra", "Acme/Infra", true},
		{"ACME/INFRA", "acme/infra", true},
		{"acme/infra", "acme/infra2", false},
		{"acme/infra", "acm/einfra", false},
	} {
		if got := SameRepo(tc.a, tc.b); got != tc.same {
			t.Errorf("SameRepo(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.same)
		}
		if got := RepoKey(tc.a) == RepoKey(tc.b); got != tc.same {
			t.Errorf("RepoKey(%q) == RepoKey(%q) is %v, want %v", tc.a, tc.b, got, tc.same)
		}
	}
}

// Two entries that differ only in case are one repository on GitHub: the
// second is refused, naming the field and the first spelling.
func TestServerRepositoriesDifferingInCase(t *testing.T) {
	in := "apiVersion: gitvend.dev/v1alpha1\nkind: ServerConfig\ngithub: {appID: 7}\nrepositories: [{name: acme/infra}, {name: Acme/Infra}]\n"
	_, err := ParseServer([]byte(in), secretEnv())
	want := `repositories[1].name: repository "Acme/Infra" is listed twice (also as "acme/infra": GitHub compares names without regard to case)`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want it to contain %q", err, want)
	}
}

// A target may name its repository in another case than the repositories
// list; Repository finds it either way.
func TestServerTargetRepositoryInOtherCase(t *testing.T) {
	s, err := ParseServer([]byte(minimal+"targets: [{name: dev, repository: ACME/Infra, environments: [dev], namespaces: ['*']}]\n"), secretEnv())
	if err != nil {
		t.Fatal(err)
	}
	tg, _ := s.Target("dev")
	r, ok := s.Repository(tg.Repository)
	if !ok || r.Name != "acme/infra" {
		t.Errorf("Repository(%q) = %+v, %v; want acme/infra", tg.Repository, r, ok)
	}
}
