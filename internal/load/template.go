package load

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/gitvend/gitvend/internal/desired"
	"github.com/gitvend/gitvend/internal/request"
)

// Placeholders a template request is rendered with; each appears in the
// render only where the value it stands for does, so that replacing them
// gives the render of a request with real values. None is a substring of
// another, and none can occur in a blueprint's own text.
const (
	phName  = "qxname"
	phNS    = "qxns"
	phEnv   = "qxenv"
	phImage = "qximage"
)

// templates renders requests of the synthetic repository from one render
// per blueprint: kustomize is the slow part of a render, and every request
// of one blueprint differs from another only in its name, namespace,
// environment and image. TestTemplateEqualsRender shows the result is
// byte for byte what desired.Render gives.
type templates struct {
	cat  desired.Catalog
	mu   sync.Mutex
	done map[string]*templateEntry
}

type templateEntry struct {
	once  sync.Once
	files []desired.File
	err   error
}

func newTemplates(cat desired.Catalog) *templates {
	return &templates{cat: cat, done: map[string]*templateEntry{}}
}

// render gives the files desired.Render gives for r.
func (t *templates) render(ctx context.Context, r *request.Request) ([]desired.File, error) {
	image, _ := r.Spec.Parameters["image"].(string)
	key := r.Spec.Blueprint
	for _, k := range sortedParams(r.Spec.Parameters) {
		if k != "image" {
			key += fmt.Sprintf(" %s=%v", k, r.Spec.Parameters[k])
		}
	}
	t.mu.Lock()
	e := t.done[key]
	if e == nil {
		e = &templateEntry{}
		t.done[key] = e
	}
	t.mu.Unlock()
	e.once.Do(func() {
		params := map[string]any{}
		for k, v := range r.Spec.Parameters {
			params[k] = v
		}
		if image != "" {
			params["image"] = "ghcr.io/acme/" + phImage
		}
		ph := request.New(phName, request.Spec{Blueprint: r.Spec.Blueprint, Environment: phEnv, Namespace: phNS, Owner: r.Spec.Owner, Parameters: params})
		rendered, err := desired.Render(ctx, t.cat, ph)
		if err != nil {
			e.err = err
			return
		}
		e.files = rendered.Files
	})
	if e.err != nil {
		return nil, e.err
	}
	rep := strings.NewReplacer(phName, r.Metadata.Name, phNS, r.Spec.Namespace, phEnv, r.Spec.Environment, "ghcr.io/acme/"+phImage, image)
	out := make([]desired.File, len(e.files))
	for i, f := range e.files {
		out[i] = desired.File{Path: rep.Replace(f.Path), Data: []byte(rep.Replace(string(f.Data)))}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

func sortedParams(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
