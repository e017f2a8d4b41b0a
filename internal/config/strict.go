package config

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// FieldError is a problem with one field of a configuration file.
type FieldError struct {
	Field string // path such as "environments[1].name"
	Line  int    // 1-based line when known
	Msg   string // what is wrong and what is allowed
}

// Error formats the problem with its line and field path.
func (e *FieldError) Error() string {
	prefix := ""
	if e.Line > 0 {
		prefix = fmt.Sprintf("line %d: ", e.Line)
	}
	if e.Field == "" {
		return prefix + e.Msg
	}
	return prefix + e.Field + ": " + e.Msg
}

var unknownField = regexp.MustCompile(`^line (\d+): field (\S+) not found in type (\S+)$`)

// decodeStrict decodes one YAML document into v, rejecting unknown fields
// and a second document.
func decodeStrict(r io.Reader, v any) error {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return &FieldError{Msg: "file is empty"}
		}
		return yamlError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return &FieldError{Msg: "must hold exactly one YAML document"}
	}
	return nil
}

// yamlError turns yaml.v3's errors into FieldErrors that say what is allowed.
func yamlError(err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return &FieldError{Msg: "invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	var errs []error
	for _, msg := range te.Errors {
		if m := unknownField.FindStringSubmatch(msg); m != nil {
			line := 0
			fmt.Sscanf(m[1], "%d", &line)
			errs = append(errs, &FieldError{Line: line, Field: m[2], Msg: "unknown field" + allowedFields(m[3])})
			continue
		}
		errs = append(errs, &FieldError{Msg: strings.Replace(msg, "cannot unmarshal !!", "wrong type: cannot use !!", 1)})
	}
	return errors.Join(errs...)
}

// knownTypes are the structs a configuration file decodes into, by the
// name yaml.v3 prints for them.
func knownTypes() map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for _, v := range []any{Repo{}, Environment{}, Prices{}, Team{}, Budget{}, Policy{}, PolicySetting{}, Exception{}, Intake{}} {
		t := reflect.TypeOf(v)
		out[t.String()] = t
	}
	return out
}

// allowedFields lists the YAML fields of the named struct type.
func allowedFields(typeName string) string {
	t, ok := knownTypes()[typeName]
	if !ok {
		return ""
	}
	names := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		if tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]; tag != "" && tag != "-" {
			names = append(names, tag)
		}
	}
	return "; allowed: " + strings.Join(names, ", ")
}
