package blueprint

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	ktypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/resid"
	kyamlpkg "sigs.k8s.io/yaml"

	"github.com/gitvend/gitvend/internal/field"
)

// BaseName is the name base objects use for the request name: an object
// named "app" is renamed to the request name and "app-<suffix>" to
// "<request>-<suffix>".
const BaseName = "app"

// Labels every rendered object carries.
const (
	LabelManagedBy   = "app.kubernetes.io/managed-by"
	LabelName        = "app.kubernetes.io/name"
	LabelOwner       = "gitvend.dev/owner"
	LabelRequest     = "gitvend.dev/request"
	LabelEnvironment = "gitvend.dev/environment"
	// ManagedBy is the value of LabelManagedBy.
	ManagedBy = "gitvend"
)

// maxNameLength bounds the names of renamed objects (a DNS-1123 label, as
// Services need).
const maxNameLength = 63

// kustomizationNames are the file names kustomize recognizes.
var kustomizationNames = []string{"kustomization.yaml", "kustomization.yml", "Kustomization"}

// renamable tells whether a base object's name stands for the request name.
func renamable(id resid.ResId) bool {
	if id.Kind == "Namespace" {
		return false // the namespace transformer names it
	}
	return id.Name == BaseName || strings.HasPrefix(id.Name, BaseName+"-")
}

// renamed returns the name an object of the base gets for request name.
func renamed(id resid.ResId, name string) string {
	return name + strings.TrimPrefix(id.Name, BaseName)
}

// kustomization returns the generated top-level kustomization for a render.
// With in.Name empty it is the plain build used to check a blueprint at load.
func (b *Blueprint) kustomization(in Input, comps []string) (*ktypes.Kustomization, error) {
	k := &ktypes.Kustomization{
		TypeMeta:  ktypes.TypeMeta{APIVersion: ktypes.KustomizationVersion, Kind: ktypes.KustomizationKind},
		Resources: []string{"base"},
	}
	for _, c := range comps {
		k.Components = append(k.Components, "components/"+c)
	}
	if in.Name == "" {
		return k, nil
	}
	k.Namespace = in.Namespace
	k.Labels = []ktypes.Label{
		{
			Pairs: map[string]string{
				LabelManagedBy:   ManagedBy,
				LabelOwner:       in.Owner,
				LabelRequest:     in.Name,
				LabelEnvironment: in.Environment,
			},
			IncludeTemplates:            true,
			IncludeVolumeClaimTemplates: true,
		},
		// app.kubernetes.io/name also goes into selectors, so that the
		// base's selectors on "app" follow the rename.
		{Pairs: map[string]string{LabelName: in.Name}, IncludeSelectors: true},
	}
	for _, id := range b.ids(comps) {
		if !renamable(id) {
			continue
		}
		to := renamed(id, in.Name)
		if len(to) > maxNameLength {
			return nil, &field.Error{Field: "metadata.name", Msg: fmt.Sprintf("%q is too long for blueprint %s: its %s %q would be named %q (%d characters; at most %d)", in.Name, b.Name, id.Kind, id.Name, to, len(to), maxNameLength)}
		}
		op, err := json.Marshal([]map[string]string{{"op": "replace", "path": "/metadata/name", "value": to}})
		if err != nil {
			return nil, fmt.Errorf("encode rename patch: %w", err)
		}
		sel := &ktypes.Selector{ResId: resid.ResId{
			Gvk:  resid.Gvk{Group: regexp.QuoteMeta(id.Group), Version: regexp.QuoteMeta(id.Version), Kind: regexp.QuoteMeta(id.Kind)},
			Name: regexp.QuoteMeta(id.Name),
		}}
		k.Patches = append(k.Patches, ktypes.Patch{Patch: string(op), Target: sel})
	}
	return k, nil
}

// ids returns the objects the base and the given components produce, as
// found when the blueprint was loaded, in a stable order.
func (b *Blueprint) ids(comps []string) []resid.ResId {
	out := append([]resid.ResId(nil), b.baseIDs...)
	for _, c := range comps {
		out = append(out, b.componentIDs[c]...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// build runs kustomize on an in-memory copy of the base and components under
// the kustomization k.
func (b *Blueprint) build(ctx context.Context, k *ktypes.Kustomization) (resmap.ResMap, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("build blueprint %s: %w", b.Name, err)
	}
	fsys := filesys.MakeFsInMemory()
	for name, data := range b.files {
		if err := fsys.WriteFile("/"+name, data); err != nil {
			return nil, fmt.Errorf("copy blueprint file %s: %w", name, err)
		}
	}
	data, err := kyamlpkg.Marshal(k)
	if err != nil {
		return nil, fmt.Errorf("encode kustomization: %w", err)
	}
	if err := fsys.WriteFile("/kustomization.yaml", data); err != nil {
		return nil, fmt.Errorf("write kustomization: %w", err)
	}
	opts := krusty.MakeDefaultOptions()
	opts.LoadRestrictions = ktypes.LoadRestrictionsRootOnly
	opts.PluginConfig = ktypes.DisabledPluginConfig()
	rm, err := krusty.MakeKustomizer(opts).Run(fsys, "/")
	if err != nil {
		return nil, fmt.Errorf("kustomize build: %w", err)
	}
	return rm, nil
}

// kustomizationFile returns the kustomization file in dir among files, or "".
func kustomizationFile(files map[string][]byte, dir string) string {
	for _, n := range kustomizationNames {
		if _, ok := files[path.Join(dir, n)]; ok {
			return path.Join(dir, n)
		}
	}
	return ""
}
