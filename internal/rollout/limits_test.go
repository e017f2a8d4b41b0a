package rollout

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gitvend/gitvend/internal/github"
	"github.com/gitvend/gitvend/internal/githubtest"
	"github.com/gitvend/gitvend/internal/gitrepo"
	"github.com/gitvend/gitvend/internal/manifest"
	"github.com/gitvend/gitvend/internal/reconcile"
)

var notShown = regexp.MustCompile(`…and (\d+)( more)? (\w+) not shown here`)

// withinLimits checks a posted text against GitHub's limit in characters
// and that no <details> is left open.
func withinLimits(t *testing.T, what, text string, limit int) {
	t.Helper()
	if n := utf8.RuneCountInString(text); n > limit {
		t.Errorf("%s: %d characters, GitHub allows %d", what, n, limit)
	}
	if !utf8.ValidString(text) {
		t.Errorf("%s: cut mid-character", what)
	}
	if o, c := strings.Count(text, "<details>"), strings.Count(text, "</details>"); o != c {
		t.Errorf("%s: %d <details> but %d </details>", what, o, c)
	}
}

// TestFiveHundredDriftedObjects: a drift issue of 500 drifted objects,
// each with many changed fields, is opened on the double within GitHub's
// limits, whole objects shown, and says how many more there are.
func TestFiveHundredDriftedObjects(t *testing.T) {
	ctx := context.Background()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	gh, err := githubtest.Start(githubtest.Options{AppID: 7, AppPublicKey: &key.PublicKey})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gh.Close)
	if err := gh.CreateRepo(ctx, githubtest.RepoSpec{Owner: "acme", Name: "infra", Files: map[string]string{"README.md": "hi\n"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := gh.AddInstallation("acme", "acme/infra"); err != nil {
		t.Fatal(err)
	}
	app, err := github.NewApp(github.AppConfig{APIURL: gh.URL() + "/", AppID: 7,
		PrivateKey: pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})})
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(Options{Clients: app, Git: gitrepo.Clones{Cache: gitrepo.New(t.TempDir(), nil), Remote: app},
		Branches: map[string]string{"acme/infra": "main"}})
	if err != nil {
		t.Fatal(err)
	}
	rep := &reconcile.DriftReport{Target: strings.Repeat("ü", 300), Revision: strings.Repeat("a", 40), Checked: 600}
	for i := range 500 {
		o := reconcile.ObjectDrift{ID: manifest.ID{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "team-ö", Name: fmt.Sprintf("app-%03d", i)}}
		for j := range 30 {
			o.Changes = append(o.Changes, reconcile.FieldChange{Path: fmt.Sprintf("spec.template.metadata.labels[k-%02d]", j),
				Git: fmt.Sprintf(`"wert-%d-ä"`, j), Live: fmt.Sprintf(`"wert-%d-ß"`, j+1)})
		}
		rep.Objects = append(rep.Objects, o)
	}
	issue := newDriftIssue(&tracker{r: r, owner: "acme", name: "infra"}, nil)
	if err := issue.Report(ctx, rep); err != nil {
		t.Fatalf("report drift: %v", err)
	}
	issues, err := gh.Issues("acme/infra")
	if err != nil || len(issues) != 1 {
		t.Fatalf("issues: %d, %v", len(issues), err)
	}
	is := issues[0]
	withinLimits(t, "drift issue body", is.Body, github.MaxBody)
	withinLimits(t, "drift issue title", is.Title, github.MaxTitle)
	shown := strings.Count(is.Body, "\n### Deployment ")
	m := notShown.FindStringSubmatch(is.Body)
	if m == nil || m[3] != "objects" {
		t.Fatalf("the body does not count the objects not shown:\n%.2000s", is.Body)
	}
	if n, _ := strconv.Atoi(m[1]); shown == 0 || shown+n != 500 {
		t.Errorf("%d objects shown and %s said not shown, of 500", shown, m[1])
	}
	if !strings.Contains(is.Body, "closes it once the cluster matches Git") {
		t.Error("the body lost its footer")
	}
	// Each object shows its first fields and collapses the rest.
	if !strings.Contains(is.Body, "<details><summary>5 more fields</summary>") {
		t.Errorf("fields of an object not collapsed:\n%.3000s", is.Body)
	}
}

// TestApplyCommentWithinLimits: the merged pull request's comment of an
// apply that changed 3,000 objects fits, counting what it leaves out.
func TestApplyCommentWithinLimits(t *testing.T) {
	res := &reconcile.Result{}
	for i := range 3000 {
		res.Objects = append(res.Objects, reconcile.ObjectResult{ID: manifest.ID{APIVersion: "v1", Kind: "ConfigMap", Namespace: "team-ü", Name: fmt.Sprintf("c-%04d", i)},
			Action: reconcile.Created, Status: "Current"})
	}
	r := &Rollout{}
	body := r.fitComment(applyComment(strings.Repeat("b", 40), []Applied{{Target: "dev", Result: res}}, 0), []Applied{{Target: "dev"}})
	withinLimits(t, "apply comment", body, github.MaxBody)
	shown := strings.Count(body, "| created |")
	m := notShown.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no count of what is not shown:\n%.1500s", body)
	}
	if n, _ := strconv.Atoi(m[1]); shown+n != 3000 {
		t.Errorf("%d shown + %d not shown, of 3000", shown, n)
	}
}
