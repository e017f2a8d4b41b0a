package manifest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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
