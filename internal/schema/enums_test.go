package schema_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/schema"
)

// node finds the schema node at a dotted property path ("[]" steps into
// items), following $refs: the definition's keys with the property's own.
func node(t *testing.T, name, path string) map[string]any {
	t.Helper()
	data, err := schema.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	var root map[string]any
	if err := json.Unmarshal(data, &root); err != nil {
		t.Fatal(err)
	}
	defs, _ := root["$defs"].(map[string]any)
	resolve := func(n map[string]any) map[string]any {
		if ref, ok := n["$ref"].(string); ok {
			n, _ = defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
		}
		return n
	}
	cur := root
	for _, step := range strings.Split(path, ".") {
		key, items := strings.CutSuffix(step, "[]")
		props, _ := resolve(cur)["properties"].(map[string]any)
		cur, _ = props[key].(map[string]any)
		if items {
			cur, _ = resolve(cur)["items"].(map[string]any)
		}
		if cur == nil {
			t.Fatalf("%s schema has no %s", name, path)
		}
	}
	merged := map[string]any{}
	for k, v := range resolve(cur) {
		merged[k] = v
	}
	for k, v := range cur {
		merged[k] = v // the property's own keys, such as its description, win
	}
	return merged
}

// TestEnumsAndBoundsFollowGo ties the schemas' enums, defaults and bounds
// to the constants gitvend decides with.
func TestEnumsAndBoundsFollowGo(t *testing.T) {
	enums := []struct {
		path string
		want []string
	}{
		{"forks", []string{config.ForksCheck, config.ForksNeutral}},
		{"environments[].windows[].kind", []string{config.WindowDeny, config.WindowAllow}},
		{"environments[].windows[].sleep", []string{config.WindowSleepAllow, config.WindowSleepHold}},
		{"environments[].windows[].expiry", []string{config.WindowExpiryHold, config.WindowExpiryAllow}},
	}
	for _, e := range enums {
		var got []string
		for _, v := range node(t, schema.Repo, e.path)["enum"].([]any) {
			if v != "" {
				got = append(got, v.(string))
			}
		}
		if !slices.Equal(got, e.want) {
			t.Errorf("%s: schema enum %v, gitvend takes %v", e.path, got, e.want)
		}
	}
	fanout := node(t, schema.Repo, "fanout.maxRequests")
	if fanout["default"] != float64(config.DefaultFanoutMaxRequests) || fanout["maximum"] != float64(config.MaxFanoutMaxRequests) {
		t.Errorf("fanout.maxRequests: default %v and maximum %v, gitvend uses %d and %d", fanout["default"], fanout["maximum"],
			config.DefaultFanoutMaxRequests, config.MaxFanoutMaxRequests)
	}
	for _, c := range []struct{ name, path, want string }{
		{schema.Repo, "apiVersion", config.APIVersion},
		{schema.Request, "apiVersion", config.APIVersion},
		{schema.Server, "apiVersion", config.APIVersion},
	} {
		if got := node(t, c.name, c.path)["const"]; got != c.want {
			t.Errorf("%s %s: const %v, want %s", c.name, c.path, got, c.want)
		}
	}
	if d := node(t, schema.Repo, "environments[].expiryWarning")["description"].(string); !strings.Contains(d, strings.TrimSuffix(config.DefaultExpiryWarning.String(), "0m0s")) {
		t.Errorf("expiryWarning's description %q does not give the default %s", d, config.DefaultExpiryWarning)
	}
}
