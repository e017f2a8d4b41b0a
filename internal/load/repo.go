package load

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/gitvend/gitvend/internal/blueprint"
	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/desired"
	"github.com/gitvend/gitvend/internal/request"
)

// The synthetic repository's fixed shape: one team owns every namespace;
// each namespace holds at most perNamespace web services and one
// team-namespace request that creates it.
const (
	Owner        = "payments"
	perNamespace = 50
	// Namespace is where the run's request issues ask for their web
	// services: the first namespace of dev.
	Namespace = "team-payments-0"
	// maxDevServices bounds the web services of dev, the environment the
	// cluster target applies: the test API server's Service IP range
	// holds 254 addresses, and the run's own issues add more. Dev's
	// further requests are scheduled jobs (a CronJob each).
	maxDevServices = 150
)

// EnvNames are the environments of a repository of n environments: dev,
// staging, prod, then env-4, env-5 and so on.
func EnvNames(n int) []string {
	names := []string{"dev", "staging", "prod"}
	for i := 4; i <= n; i++ {
		names = append(names, fmt.Sprintf("env-%d", i))
	}
	return names[:n]
}

// repoConfig is the synthetic repository's gitvend.yaml.
func repoConfig(envs []string) string {
	var b strings.Builder
	b.WriteString("# A synthetic desired-state repository made by gitvend-load.\napiVersion: gitvend.dev/v1alpha1\nkind: Config\nenvironments:\n")
	for _, e := range envs {
		fmt.Fprintf(&b, "- name: %s\n", e)
	}
	fmt.Fprintf(&b, "teams:\n- name: %s\n  namespaces: [team-payments-*]\n- name: platform\n  namespaces: [\"*\"]\n", Owner)
	b.WriteString("policy:\n  policies:\n    allowed-registries:\n      params:\n        registries: [ghcr.io/acme/]\nintake:\n  permission: write\n")
	return b.String()
}

// Requests are the synthetic repository's requests: n web services (in
// dev past maxDevServices, scheduled jobs) spread evenly over the
// environments (dev gets the remainder) and over namespaces of at most
// perNamespace each, and one team-namespace request for each namespace
// used. Each environment has at least the namespace the
// run's issues ask in.
func Requests(n int, envs []string) []*request.Request {
	var out []*request.Request
	for ei, env := range envs {
		count := n / len(envs)
		if ei == 0 {
			count += n % len(envs)
		}
		namespaces := max((count+perNamespace-1)/perNamespace, 1)
		for k := range namespaces {
			ns := fmt.Sprintf("team-payments-%d", k)
			out = append(out, request.New(ns, request.Spec{Blueprint: "team-namespace", Environment: env, Namespace: ns, Owner: Owner,
				Parameters: map[string]any{"quotaCpu": "64", "quotaMemory": "256Gi", "quotaPods": 1000}}))
		}
		for i := range count {
			ns := fmt.Sprintf("team-payments-%d", i/perNamespace)
			bp, name := "web-service", fmt.Sprintf("svc-%d", i)
			if ei == 0 && i >= maxDevServices {
				bp, name = "scheduled-job", fmt.Sprintf("job-%d", i)
			}
			out = append(out, request.New(name, request.Spec{Blueprint: bp, Environment: env, Namespace: ns, Owner: Owner,
				Parameters: map[string]any{"image": fmt.Sprintf("ghcr.io/acme/%s:1.0.%d", name, i%7)}}))
		}
	}
	return out
}

// Generate writes into dir a desired-state repository of cfg.Requests
// requests over cfg.Envs environments as gitvend writes them: each
// request's record, its folder rendered from the built-in blueprint, and
// each environment's root naming every request folder of that
// environment. Each blueprint is rendered once and the rest are written
// from that render with their names changed (see templates), on every
// core.
func Generate(ctx context.Context, dir string, requests, envs int) error {
	names := EnvNames(envs)
	cfgText := repoConfig(names)
	cfg, err := config.ParseRepo([]byte(cfgText))
	if err != nil {
		return fmt.Errorf("synthetic gitvend.yaml: %w", err)
	}
	cat, err := blueprint.Load(ctx, blueprint.Builtin())
	if err != nil {
		return err
	}
	if err := writeFile(dir, "gitvend.yaml", []byte(cfgText)); err != nil {
		return err
	}
	reqs := Requests(requests, names)
	tpl := newTemplates(cat)
	jobs := make(chan *request.Request)
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for r := range jobs {
				if err := writeRequest(ctx, dir, tpl, r); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		})
	}
	for _, r := range reqs {
		jobs <- r
	}
	close(jobs)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
	}
	byEnv := map[string][]string{}
	for _, r := range reqs {
		byEnv[r.Spec.Environment] = append(byEnv[r.Spec.Environment], r.RenderDir())
	}
	for _, env := range cfg.Environments {
		dirs := byEnv[env.Name]
		sort.Strings(dirs)
		root, err := desired.EnvironmentRoot(env, nil, dirs)
		if err != nil {
			return fmt.Errorf("root of %s: %w", env.Name, err)
		}
		if err := writeFile(dir, path.Join(env.Root, "kustomization.yaml"), root); err != nil {
			return err
		}
	}
	return nil
}

// writeRequest renders r and writes its record and rendered files.
func writeRequest(ctx context.Context, dir string, tpl *templates, r *request.Request) error {
	rendered, err := tpl.render(ctx, r)
	if err != nil {
		return fmt.Errorf("render %s: %w", r.Path(), err)
	}
	record, err := r.Encode()
	if err != nil {
		return err
	}
	if err := writeFile(dir, r.Path(), record); err != nil {
		return err
	}
	for _, f := range rendered {
		if err := writeFile(dir, f.Path, f.Data); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(dir, rel string, data []byte) error {
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, data, 0o644)
}
