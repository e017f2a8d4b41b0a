package check

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitvend/gitvend/internal/manifest"
	"github.com/gitvend/gitvend/internal/policy"
)

// synthEnvironments are the environments of a synthetic repository.
var synthEnvironments = []string{"dev", "prod"}

// writeRepo writes a desired-state repository of n requests spread over
// synthEnvironments and ten namespaces, each request a rendered folder of
// a Deployment and a Service referenced from its environment's root, as
// gitvend proposes them.
func writeRepo(tb testing.TB, dir string, n int) {
	tb.Helper()
	write := func(rel, data string) {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	write("gitvend.yaml", "apiVersion: gitvend.dev/v1alpha1\nkind: Config\nenvironments:\n- name: dev\n- name: prod\n"+
		"teams:\n- name: platform\n  namespaces: [\"*\"]\n")
	refs := map[string][]string{}
	for i := range n {
		env := synthEnvironments[i%len(synthEnvironments)]
		ns := fmt.Sprintf("team-%d", i%10)
		name := fmt.Sprintf("app-%d", i)
		folder := fmt.Sprintf("requests/%s/%s/%s", env, ns, name)
		refs[env] = append(refs[env], "../../"+folder)
		write(folder+".yaml", fmt.Sprintf("apiVersion: gitvend.dev/v1alpha1\nkind: Request\nmetadata:\n  name: %s\n"+
			"spec:\n  blueprint: web-service\n  environment: %s\n  namespace: %s\n  owner: platform\n", name, env, ns))
		write(folder+"/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"+
			"resources:\n- deployment.yaml\n- service.yaml\n")
		write(folder+"/deployment.yaml", synthDeployment(name, ns, "1.0"))
		write(folder+"/service.yaml", fmt.Sprintf("apiVersion: v1\nkind: Service\nmetadata:\n  name: %s\n  namespace: %s\n"+
			"  labels: {app.kubernetes.io/name: %s, gitvend.dev/owner: platform}\nspec:\n  ports: [{port: 80, targetPort: 8080}]\n", name, ns, name))
	}
	for _, env := range synthEnvironments {
		write("environments/"+env+"/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"+
			"resources:\n- "+strings.Join(refs[env], "\n- ")+"\n")
	}
}

// synthDeployment is a typical Deployment of a synthetic request.
func synthDeployment(name, ns, version string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
  namespace: %[2]s
  labels: {app.kubernetes.io/name: %[1]s, gitvend.dev/owner: platform}
spec:
  replicas: 2
  selector: {matchLabels: {app.kubernetes.io/name: %[1]s}}
  template:
    metadata: {labels: {app.kubernetes.io/name: %[1]s}}
    spec:
      securityContext: {runAsNonRoot: true}
      containers:
      - name: app
        image: ghcr.io/acme/%[1]s:%[3]s
        securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
        resources: {requests: {cpu: 250m, memory: 256Mi}, limits: {memory: 256Mi}}
        readinessProbe: {httpGet: {path: /healthz, port: 8080}}
        livenessProbe: {httpGet: {path: /healthz, port: 8080}}
`, name, ns, version)
}

// copyRepo copies the repository in src to a new folder.
func copyRepoForBench(tb testing.TB, src string) string {
	tb.Helper()
	dst := tb.TempDir()
	if err := copyTree(src, dst); err != nil {
		tb.Fatal(err)
	}
	return dst
}

// BenchmarkPRCheck measures the check of a pull request that changes one
// request's Deployment in repositories of growing size, against a base
// the checker has seen before (as the App checks every pull request of a
// base), so the growth with the repository's size is visible.
func BenchmarkPRCheck(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		if 5*n > manifest.MaxFiles {
			// Each request is a folder of three files and a record:
			// the repository is more than one check may open.
			b.Run(fmt.Sprintf("requests=%d", n), func(b *testing.B) {
				b.Skipf("%d requests are %d files and folders, above manifest.MaxFiles (%d)", n, 5*n, manifest.MaxFiles)
			})
			continue
		}
		ctx := context.Background()
		baseDir := b.TempDir()
		writeRepo(b, baseDir, n)
		headDir := copyRepoForBench(b, baseDir)
		if err := os.WriteFile(filepath.Join(headDir, "requests/dev/team-0/app-0/deployment.yaml"),
			[]byte(synthDeployment("app-0", "team-0", "1.1")), 0o644); err != nil {
			b.Fatal(err)
		}
		fresh, err := New(ctx, baseDir, nil)
		if err != nil {
			b.Fatal(err)
		}
		check := func(b *testing.B, c *Checker) {
			rep, err := c.For(headDir).Check(ctx, []string{headDir}, baseDir)
			if err != nil {
				b.Fatal(err)
			}
			if rep.Change == nil || rep.Change.Changed != 1 || rep.Change.Total != 2*n || !rep.Passed {
				b.Fatalf("change %+v, passed %v: %+v %+v", rep.Change, rep.Passed, rep.Errors, rep.Violations[:min(3, len(rep.Violations))])
			}
		}
		// full: every check builds the base and the head as a checker
		// new to the base does.
		b.Run(fmt.Sprintf("requests=%d/full", n), func(b *testing.B) {
			for b.Loop() {
				check(b, fresh)
			}
		})
		// incremental: the base was checked before, as the App's
		// checker of a base commit remembers it.
		b.Run(fmt.Sprintf("requests=%d/incremental", n), func(b *testing.B) {
			c := fresh.For(baseDir).CachingBases()
			check(b, c)
			b.ResetTimer()
			for b.Loop() {
				check(b, c)
			}
		})
	}
}

// synthObjects decodes the objects the environments of writeRepo(n)
// build, in memory, with the Deployment of app-0 at version.
func synthObjects(tb testing.TB, n int, version string) []manifest.Object {
	tb.Helper()
	var out []manifest.Object
	for i := range n {
		env := synthEnvironments[i%len(synthEnvironments)]
		ns := fmt.Sprintf("team-%d", i%10)
		name := fmt.Sprintf("app-%d", i)
		folder := fmt.Sprintf("requests/%s/%s/%s", env, ns, name)
		v := "1.0"
		if i == 0 {
			v = version
		}
		for file, src := range map[string]string{
			folder + "/deployment.yaml": synthDeployment(name, ns, v),
			folder + "/service.yaml": fmt.Sprintf("apiVersion: v1\nkind: Service\nmetadata:\n  name: %s\n  namespace: %s\n"+
				"  labels: {app.kubernetes.io/name: %s, gitvend.dev/owner: platform}\nspec:\n  ports: [{port: 80, targetPort: 8080}]\n", name, ns, name),
		} {
			objs, err := manifest.Decode(file, []byte(src))
			if err != nil {
				tb.Fatal(err)
			}
			out = append(out, objs...)
		}
	}
	return out
}

// BenchmarkPRJudge measures what a pull request check does after the
// environments are built: per-object context, fingerprints, cost,
// budgets, quotas, the change against the base and the policies, on
// objects decoded in memory (so that the build, measured by
// BenchmarkPRCheck, is left out). incremental judges a head that differs
// from the base in one Deployment, with the policies' memo warm from the
// base (a caching checker, as the App's); cold judges it with an empty
// memo and no cache, as a checker new to the repository does.
func BenchmarkPRJudge(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		for _, mode := range []string{"cold", "incremental"} {
			b.Run(fmt.Sprintf("requests=%d/%s", n, mode), func(b *testing.B) {
				ctx := context.Background()
				dir := b.TempDir()
				writeRepo(b, dir, n)
				fresh, err := New(ctx, dir, nil)
				if err != nil {
					b.Fatal(err)
				}
				c := fresh.CachingBases()
				baseObjs := synthObjects(b, n, "1.0")
				bs := c.baseOf(baseObjs)
				if _, _, err := c.judgeObjects(ctx, toJudge(baseObjs), &Report{Violations: []policy.Violation{}}, &bs, nil, nil); err != nil {
					b.Fatal(err)
				}
				i := 0
				for b.Loop() {
					b.StopTimer()
					i++
					version := fmt.Sprintf("1.%d", i) // a Deployment the memo has not seen
					subjects := toJudge(synthObjects(b, n, version))
					judgeWith := c
					if mode == "cold" {
						e, err := policy.New(ctx, policy.Options{Settings: c.cfg.Policy})
						if err != nil {
							b.Fatal(err)
						}
						judgeWith = NewWith(dir, c.cfg, e)
					}
					b.StartTimer()
					rep, _, err := judgeWith.judgeObjects(ctx, subjects, &Report{Violations: []policy.Violation{}}, &bs, nil, nil)
					if err != nil {
						b.Fatal(err)
					}
					if rep.Change.Changed != 1 || rep.Change.Total != 2*n {
						b.Fatalf("change %+v", rep.Change)
					}
				}
			})
		}
	}
}
