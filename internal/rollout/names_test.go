package rollout

import (
	"context"
	"strings"
	"testing"
)

// A push webhook spells the repository as GitHub does; the configuration
// may spell it in another case. The push is reconciled, under the
// configured spelling.
func TestPushedInAnotherCase(t *testing.T) {
	r, err := New(Options{Clients: noClients{}, Git: &failingGit{}, Branches: map[string]string{"acme/infra": "main"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r.Pushed(ctx, "Acme/Infra", "main", strings.Repeat("a", 40))
	select {
	case got := <-r.kick:
		if got != "acme/infra" {
			t.Errorf("kicked %q, want acme/infra", got)
		}
	default:
		t.Fatal("a push to Acme/Infra was not reconciled")
	}
	for _, push := range [][2]string{{"acme/infra2", "main"}, {"ACME/INFRA", "feature"}} {
		r.Pushed(ctx, push[0], push[1], strings.Repeat("b", 40))
		select {
		case got := <-r.kick:
			t.Errorf("push to %s %s kicked %q", push[0], push[1], got)
		default:
		}
	}
}

func TestBranchesDifferingInCase(t *testing.T) {
	_, err := New(Options{Clients: noClients{}, Git: &failingGit{}, Branches: map[string]string{"acme/infra": "", "Acme/Infra": ""}})
	if err == nil || !strings.Contains(err.Error(), "without regard to case") {
		t.Fatalf("err = %v, want a duplicate repository error", err)
	}
}
