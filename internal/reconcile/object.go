package reconcile

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/gitvend/gitvend/internal/manifest"
)

// key identifies an object regardless of the API version it is served at,
// so that moving an object to another version of its group is not taken
// for one object leaving Git and another arriving.
type key struct {
	Group, Kind, Namespace, Name string
}

func (k key) String() string {
	kind := k.Kind
	if k.Group != "" {
		kind += "." + k.Group
	}
	if k.Namespace == "" {
		return kind + "/" + k.Name
	}
	return kind + "/" + k.Namespace + "/" + k.Name
}

func keyOf(u *unstructured.Unstructured) key {
	gvk := u.GroupVersionKind()
	return key{Group: gvk.Group, Kind: gvk.Kind, Namespace: u.GetNamespace(), Name: u.GetName()}
}

func keyOfID(id manifest.ID) key {
	return key{Group: id.Group(), Kind: id.Kind, Namespace: id.Namespace, Name: id.Name}
}

func idOf(u *unstructured.Unstructured) manifest.ID {
	return manifest.ID{APIVersion: u.GetAPIVersion(), Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: u.GetName()}
}

// compareIDs orders IDs as manifest.ID.Less does, for slices.SortFunc.
func compareIDs(a, b manifest.ID) int {
	switch {
	case a.Less(b):
		return -1
	case b.Less(a):
		return 1
	}
	return 0
}

func gvkOf(id manifest.ID) schema.GroupVersionKind {
	return schema.FromAPIVersionAndKind(id.APIVersion, id.Kind)
}

// digest is a fingerprint of an object's desired content; encoding/json
// writes map keys in order, so equal content gives equal digests.
type digest [sha256.Size]byte

func digestOf(u *unstructured.Unstructured) (digest, error) {
	data, err := json.Marshal(u.Object)
	if err != nil {
		return digest{}, fmt.Errorf("encode %s: %w", keyOf(u), err)
	}
	return sha256.Sum256(data), nil
}

// groupKind returns k's group and kind.
func (k key) groupKind() schema.GroupKind { return schema.GroupKind{Group: k.Group, Kind: k.Kind} }

// isNamespace tells whether k is a core Namespace.
func (k key) isNamespace() bool { return k.Group == "" && k.Kind == "Namespace" }

// isCRD tells whether k is a CustomResourceDefinition.
func (k key) isCRD() bool {
	return k.Group == "apiextensions.k8s.io" && k.Kind == "CustomResourceDefinition"
}
