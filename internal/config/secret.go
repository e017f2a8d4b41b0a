package config

import (
	"encoding/pem"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// redacted stands for a secret in every printed form.
const redacted = "[redacted]"

// Secret is sensitive bytes (a private key, a webhook secret). It prints,
// logs and marshals as "[redacted]" whatever the verb or encoder; convert
// it with []byte(s) where the value itself is needed.
type Secret []byte

// String returns "[redacted]", or "" when the secret is empty.
func (s Secret) String() string {
	if len(s) == 0 {
		return ""
	}
	return redacted
}

// GoString keeps %#v from printing the bytes.
func (s Secret) GoString() string { return fmt.Sprintf("config.Secret(%q)", s.String()) }

// Format keeps every fmt verb (%s, %v, %x, %q, ...) from printing the bytes.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, s.GoString())
		return
	}
	fmt.Fprint(f, s.String())
}

// LogValue makes log/slog print "[redacted]".
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText makes encoding/json, YAML and other text encoders write
// "[redacted]".
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// isPEMPrivateKey tells whether data holds a PEM private key block.
func isPEMPrivateKey(data []byte) bool {
	block, _ := pem.Decode(data)
	return block != nil && strings.HasSuffix(block.Type, "PRIVATE KEY")
}

// String is the effective configuration as YAML, defaults and overrides
// applied, without the secrets.
func (s *Server) String() string {
	out, err := yaml.Marshal(s)
	if err != nil {
		return fmt.Sprintf("server config: %v", err)
	}
	return string(out)
}

// LogValue logs the effective configuration, one group per section, with
// the secrets shown only as set or not.
func (s *Server) LogValue() slog.Value {
	var tree map[string]any
	if err := yaml.Unmarshal([]byte(s.String()), &tree); err != nil {
		return slog.StringValue("unprintable server config")
	}
	if gh, ok := tree["github"].(map[string]any); ok {
		gh["privateKey"] = s.GitHub.PrivateKey.String()
		gh["webhookSecret"] = s.GitHub.WebhookSecret.String()
	}
	keys := make([]string, 0, len(tree))
	for k := range tree {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	attrs := make([]slog.Attr, 0, len(keys))
	for _, k := range keys {
		attrs = append(attrs, slog.Any(k, tree[k]))
	}
	return slog.GroupValue(attrs...)
}
