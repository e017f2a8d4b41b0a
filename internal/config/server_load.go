package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/gitvend/gitvend/internal/cluster"
	"github.com/gitvend/gitvend/internal/field"
)

// Environment variables that carry the secrets; they take precedence over
// github.privateKeyFile and github.webhookSecretFile.
const (
	EnvPrivateKey    = "GITVEND_GITHUB_PRIVATE_KEY"
	EnvWebhookSecret = "GITVEND_GITHUB_WEBHOOK_SECRET"
)

// envPrefix starts every environment override.
const envPrefix = "GITVEND_"

// maxSecretBytes bounds a secret file.
const maxSecretBytes = 1 << 20

// LoadServer reads the server configuration file at path: strict YAML
// (unknown fields rejected), defaults for absent fields, overrides from the
// environment (GITVEND_<PATH> for every scalar outside lists, read through
// env so callers choose the source; nil reads nothing), secrets from their
// files or EnvPrivateKey and EnvWebhookSecret, then validation of every
// section. Relative paths in the file are relative to its directory. Every
// problem is reported at once, each with its field path and line.
func LoadServer(path string, env func(string) string) (*Server, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read server config: %w", err)
	}
	s, err := parseServer(data, filepath.Dir(path), env, true)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// LoadTargets is LoadServer for commands that reach the targets without
// the GitHub App (`gitvend apply` and `gitvend drift`): the same checks,
// but the App's secrets are neither read nor required.
func LoadTargets(path string, env func(string) string) (*Server, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read server config: %w", err)
	}
	s, err := parseServer(data, filepath.Dir(path), env, false)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// ParseServer is LoadServer on a file's bytes; relative paths stay relative
// to the working directory.
func ParseServer(data []byte, env func(string) string) (*Server, error) {
	return parseServer(data, "", env, true)
}

// secretFields are the fields LoadTargets does not require.
var secretFields = map[string]bool{"github.privateKeyFile": true, "github.webhookSecretFile": true}

func parseServer(data []byte, baseDir string, env func(string) string, secrets bool) (*Server, error) {
	if env == nil {
		env = func(string) string { return "" }
	}
	var s Server
	lines, err := field.Unmarshal("", data, &s)
	if err != nil {
		return nil, err
	}
	s.applyDefaults(lines)
	s.resolvePaths(baseDir)
	overridden, envErrs := s.applyEnv(env)
	if envErrs != nil {
		return nil, envErrs
	}
	var loadErrs error
	if secrets {
		loadErrs = s.GitHub.loadSecrets(env)
	}
	err = s.Validate()
	if !secrets {
		var kept []error
		for _, fe := range field.All(err) {
			if !secretFields[fe.Field] {
				kept = append(kept, fe)
			}
		}
		err = errors.Join(kept...)
	}
	if err != nil || loadErrs != nil {
		return nil, annotate(loadErrs, err, lines, overridden)
	}
	return &s, nil
}

// yamlFields calls fn with each field of struct type t that has a YAML name.
func yamlFields(t reflect.Type, fn func(name string, f reflect.StructField)) {
	for i := range t.NumField() {
		f := t.Field(i)
		if name := strings.Split(f.Tag.Get("yaml"), ",")[0]; name != "" && name != "-" {
			fn(name, f)
		}
	}
}

// applyDefaults fills the fields the file leaves out (present holds the
// paths it sets).
func (s *Server) applyDefaults(present field.Lines) {
	set := func(path string, apply func()) {
		if _, ok := present[path]; !ok {
			apply()
		}
	}
	set("listen", func() { s.Listen = ":8080" })
	set("opsListen", func() { s.OpsListen = "127.0.0.1:9090" })
	set("workDir", func() { s.WorkDir = "/var/lib/gitvend" })
	set("log.level", func() { s.Log.Level = "info" })
	set("log.format", func() { s.Log.Format = "json" })
	set("github.apiURL", func() { s.GitHub.APIURL = "https://api.github.com/" })
	set("github.maxWebhookBytes", func() { s.GitHub.MaxWebhookBytes = MaxWebhookBytes })
	set("github.maxWebhookBytesInFlight", func() { s.GitHub.MaxWebhookBytesInFlight = 4 * MaxWebhookBytes })
	set("queue.workers", func() { s.Queue.Workers = 4 })
	set("queue.capacity", func() { s.Queue.Capacity = 1000 })
	set("queue.jobTimeout", func() { s.Queue.JobTimeout = 10 * time.Minute })
	set("resync.interval", func() { s.Resync.Interval = 5 * time.Minute })
	le := &s.LeaderElection
	set("leaderElection.namespace", func() { le.Namespace = "gitvend-system" })
	set("leaderElection.name", func() { le.Name = "gitvend" })
	set("leaderElection.leaseDuration", func() { le.LeaseDuration = 15 * time.Second })
	set("leaderElection.renewDeadline", func() { le.RenewDeadline = 10 * time.Second })
	set("leaderElection.retryPeriod", func() { le.RetryPeriod = 2 * time.Second })
	for i := range s.Targets {
		t, f := &s.Targets[i], fmt.Sprintf("targets[%d].", i)
		set(f+"driftInterval", func() { t.DriftInterval = cluster.DefaultDriftInterval })
		set(f+"healthTimeout", func() { t.HealthTimeout = cluster.DefaultHealthTimeout })
		set(f+"inventoryNamespace", func() { t.InventoryNamespace = cluster.DefaultInventoryNamespace })
	}
}

// resolvePaths makes the file's relative paths relative to baseDir.
func (s *Server) resolvePaths(baseDir string) {
	if baseDir == "" {
		return
	}
	abs := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(baseDir, *p)
		}
	}
	abs(&s.WorkDir)
	abs(&s.GitHub.PrivateKeyFile)
	abs(&s.GitHub.WebhookSecretFile)
	abs(&s.LeaderElection.Kubeconfig)
	for i := range s.Targets {
		abs(&s.Targets[i].Kubeconfig)
	}
}

// ServerEnvVars lists the environment variables that override the server
// configuration, secrets included, sorted as the fields appear in the file.
func ServerEnvVars() []string {
	var out []string
	var s Server
	envFields(reflect.ValueOf(&s).Elem(), nil, func(name, _ string, _ reflect.Value) { out = append(out, name) })
	return append(out, EnvPrivateKey, EnvWebhookSecret)
}

// applyEnv applies GITVEND_<PATH> overrides; it returns the overridden
// field paths with their variables.
func (s *Server) applyEnv(env func(string) string) (map[string]string, error) {
	overridden := map[string]string{}
	var errs fieldErrors
	envFields(reflect.ValueOf(s).Elem(), nil, func(name, path string, v reflect.Value) {
		raw := env(name)
		if raw == "" {
			return
		}
		if err := setScalar(v, raw); err != nil {
			errs.add(name, "overrides %s: %v", path, err)
			return
		}
		overridden[path] = name
	})
	return overridden, errs.join()
}

// envFields calls fn with every scalar field outside lists: its variable
// name, its path and its value.
func envFields(v reflect.Value, path []string, fn func(name, path string, v reflect.Value)) {
	yamlFields(v.Type(), func(name string, f reflect.StructField) {
		fv := v.FieldByIndex(f.Index)
		p := append(path[:len(path):len(path)], name)
		switch fv.Kind() {
		case reflect.Slice:
		case reflect.Struct:
			envFields(fv, p, fn)
		default:
			fn(envName(p), strings.Join(p, "."), fv)
		}
	})
}

// envName turns a field path into its variable: [github appID] → GITVEND_GITHUB_APP_ID.
func envName(path []string) string {
	var words []string
	for _, seg := range path {
		words = append(words, camelWords(seg)...)
	}
	return envPrefix + strings.ToUpper(strings.Join(words, "_"))
}

// camelWords splits camelCase into words, keeping acronyms whole:
// "publicURL" → public, URL; "maxWebhookBytes" → max, Webhook, Bytes.
func camelWords(s string) []string {
	var words []string
	start := 0
	isUpper := func(c byte) bool { return c >= 'A' && c <= 'Z' }
	for i := 1; i < len(s); i++ {
		lowerBefore := !isUpper(s[i-1])
		acronymEnd := isUpper(s[i-1]) && i+1 < len(s) && !isUpper(s[i+1])
		if isUpper(s[i]) && (lowerBefore || acronymEnd) {
			words = append(words, s[start:i])
			start = i
		}
	}
	return append(words, s[start:])
}

// setScalar parses raw into a string, bool, integer or duration field as
// strictly as the file's values are read.
func setScalar(v reflect.Value, raw string) error {
	if v.Kind() == reflect.String {
		v.SetString(raw)
		return nil
	}
	_, err := field.Decode("", &yaml.Node{Kind: yaml.ScalarNode, Value: raw}, v.Addr().Interface())
	return err
}

// loadSecrets reads the private key and webhook secret from the
// environment or their files.
func (g *GitHub) loadSecrets(env func(string) string) error {
	var errs fieldErrors
	load := func(dst *Secret, envVar, file, field, what string) {
		if v := env(envVar); v != "" {
			*dst = Secret(v)
			return
		}
		if file == "" {
			return
		}
		data, err := readSecretFile(file)
		if err != nil {
			errs.add(field, "cannot read the %s: %v", what, err)
			return
		}
		*dst = data
	}
	load(&g.PrivateKey, EnvPrivateKey, g.PrivateKeyFile, "github.privateKeyFile", "App's private key")
	load(&g.WebhookSecret, EnvWebhookSecret, g.WebhookSecretFile, "github.webhookSecretFile", "webhook secret")
	g.WebhookSecret = bytes.TrimRight(g.WebhookSecret, "\r\n")
	return errs.join()
}

// readSecretFile reads a regular file of at most maxSecretBytes; the error
// names the file, never its content.
func readSecretFile(file string) (Secret, error) {
	st, err := os.Stat(file)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", file)
	}
	if st.Size() > maxSecretBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes", file, maxSecretBytes)
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSecretBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	if len(data) > maxSecretBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes", file, maxSecretBytes)
	}
	return data, nil
}

// annotate merges the errors of loading secrets and of validation: a
// field that failed to load is not reported again as missing, an error
// gets its line from the file, or the variable that set its value.
func annotate(loadErrs, validateErrs error, lines field.Lines, overridden map[string]string) error {
	failed := map[string]bool{}
	var out []error
	add := func(fe *field.Error) {
		c := *fe
		if name, ok := overridden[c.Field]; ok {
			c.Msg += " (set by " + name + ")"
		} else if c.Line == 0 {
			c.Line = lines.Of(c.Field)
		}
		out = append(out, &c)
	}
	for _, fe := range field.All(loadErrs) {
		failed[fe.Field] = true
		add(fe)
	}
	for _, fe := range field.All(validateErrs) {
		if !failed[fe.Field] {
			add(fe)
		}
	}
	return errors.Join(out...)
}
