package manifest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
)

func TestDigestFollowsContent(t *testing.T) {
	objs, err := Decode("a.yaml", []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: n}\ndata: {k: v}\n"))
	if err != nil || len(objs) != 1 {
		t.Fatalf("Decode: %v %v", objs, err)
	}
	o := objs[0]
	want := func(content map[string]any) string {
		data, err := json.Marshal(content)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		return hex.EncodeToString(sum[:])
	}
	if got := o.Digest(); got != want(o.Content) {
		t.Fatalf("Digest = %s, want the SHA-256 of the content's JSON %s", got, want(o.Content))
	}
	c := o.copied()
	if c.sum == nil || !sameMap(c.sum.of, c.Content) || c.Digest() != o.Digest() {
		t.Fatalf("a copy does not carry the digest of its content: %+v", c.sum)
	}
	// A content replaced after the digest was taken is hashed again, even
	// in a copy of the object that holds the old digest.
	r := o
	r.Content = map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "b"}}
	if got := r.Digest(); got != want(r.Content) || got == o.Digest() {
		t.Fatalf("Digest after Content was replaced = %s, want %s", got, want(r.Content))
	}
}

// TestScopeOfEveryKind asks Scope about every built-in kind, in its
// group, another group and the core group, and wants what the lists say.
func TestScopeOfEveryKind(t *testing.T) {
	for set, want := range map[*map[string]bool]bool{&clusterScoped: false, &namespaced: true} {
		for gk := range *set {
			kind, group, _ := strings.Cut(gk, ".")
			apiVersion := "v1"
			if group != "" {
				apiVersion = group + "/v1"
			}
			if ns, known := Scope(ID{APIVersion: apiVersion, Kind: kind}); !known || ns != want {
				t.Errorf("%s: namespaced %v known %v, want namespaced %v", gk, ns, known, want)
			}
			if _, known := Scope(ID{APIVersion: "example.com/v1", Kind: kind}); known {
				t.Errorf("%s in example.com is known", kind)
			}
		}
	}
	if _, known := Scope(ID{APIVersion: "v1", Kind: "Widget"}); known {
		t.Error("a core kind that does not exist is known")
	}
}
