package desired

import (
	"bytes"
	"context"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/gitvend/gitvend/internal/blueprint"
	"github.com/gitvend/gitvend/internal/manifest"
	"github.com/gitvend/gitvend/internal/request"
)

// File is one file of the repository, by slash-separated path from the
// repository root.
type File struct {
	Path string
	Data []byte
}

// Rendered is a request rendered into the files that are committed for it.
type Rendered struct {
	Request *request.Request
	// Objects are the rendered objects, File and Line set to the committed file.
	Objects []manifest.Object
	// Files are the kustomization and one file per object, under Request.RenderDir().
	Files []File
	// Parameters are the effective values, defaults included.
	Parameters map[string]any
}

// Catalog finds blueprints by name.
type Catalog interface {
	Get(name string) (*blueprint.Blueprint, error)
}

// Render renders r with its blueprint from cat.
func Render(ctx context.Context, cat Catalog, r *request.Request) (*Rendered, error) {
	bp, err := cat.Get(r.Spec.Blueprint)
	if err != nil {
		return nil, fmt.Errorf("spec.blueprint: %w", err)
	}
	params := r.Spec.Parameters
	if _, set := params["ttl"]; r.Spec.TTL != "" && !set && bp.Parameter("ttl") != nil {
		// A blueprint that records the expiry takes it from spec.ttl.
		params = make(map[string]any, len(r.Spec.Parameters)+1)
		for k, v := range r.Spec.Parameters {
			params[k] = v
		}
		params["ttl"] = r.Spec.TTL
	}
	out, err := bp.Render(ctx, blueprint.Input{
		Name: r.Metadata.Name, Namespace: r.Spec.Namespace, Environment: r.Spec.Environment,
		Owner: r.Spec.Owner, Parameters: params,
	})
	if err != nil {
		return nil, err
	}
	header := fmt.Sprintf("# Rendered by gitvend from %s (blueprint %s). Do not edit:\n# change the request and run `gitvend render`, or comment /provision on its issue.\n",
		r.Path(), r.Spec.Blueprint)
	dir := r.RenderDir()
	res := &Rendered{Request: r, Parameters: out.Parameters}
	names := make([]string, 0, len(out.Objects))
	used := map[string]bool{}
	for _, o := range out.Objects {
		name := fileName(o.ID, used)
		body, err := manifest.Encode(o.Content)
		if err != nil {
			return nil, fmt.Errorf("render %s: %w", o.ID, err)
		}
		data := append([]byte(header), body...)
		p := path.Join(dir, name)
		objs, err := manifest.Decode(p, data)
		if err != nil || len(objs) != 1 {
			return nil, fmt.Errorf("render %s: rendered file does not decode to one object: %v", o.ID, err)
		}
		res.Objects = append(res.Objects, objs[0])
		res.Files = append(res.Files, File{Path: p, Data: data})
		names = append(names, name)
	}
	res.Files = append(res.Files, File{Path: path.Join(dir, "kustomization.yaml"), Data: kustomization(header, names)})
	sort.Slice(res.Files, func(i, j int) bool { return res.Files[i].Path < res.Files[j].Path })
	return res, nil
}

// fileName names an object's file "<kind>-<name>.yaml" in lower case,
// numbered when two objects would share a name.
func fileName(id manifest.ID, used map[string]bool) string {
	base := strings.ToLower(id.Kind) + "-" + id.Name
	name := base + ".yaml"
	for i := 2; used[name]; i++ {
		name = fmt.Sprintf("%s-%d.yaml", base, i)
	}
	used[name] = true
	return name
}

func kustomization(header string, resources []string) []byte {
	var b bytes.Buffer
	b.WriteString(header)
	b.WriteString("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n")
	for _, r := range resources {
		b.WriteString("- " + r + "\n")
	}
	return b.Bytes()
}
