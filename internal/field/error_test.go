package field

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		name string
		err  *Error
		want string
	}{
		{"everything", &Error{File: "a.yaml", Line: 3, Field: "spec.x", Msg: "is bad"}, "a.yaml:3: spec.x: is bad"},
		{"file without line", &Error{File: "a.yaml", Field: "spec.x", Msg: "is bad"}, "a.yaml: spec.x: is bad"},
		{"line without file", &Error{Line: 3, Field: "spec.x", Msg: "is bad"}, "line 3: spec.x: is bad"},
		{"field only", &Error{Field: "spec.x", Msg: "is bad"}, "spec.x: is bad"},
		{"message only", &Error{Msg: "file is empty"}, "file is empty"},
		{"file and message", &Error{File: "a.yaml", Msg: "file is empty"}, "a.yaml: file is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := cmp.Diff(tt.want, tt.err.Error()); d != "" {
				t.Errorf("Error() (-want +got):\n%s", d)
			}
		})
	}
}

func TestAllAndMessages(t *testing.T) {
	a := &Error{Field: "a", Msg: "one"}
	b := &Error{Field: "b", Msg: "two"}
	c := &Error{Field: "c", Msg: "three"}
	plain := errors.New("plain")
	err := errors.Join(a, fmt.Errorf("in x: %w", errors.Join(b, plain)), nil, errors.Join(c))
	tests := []struct {
		name     string
		err      error
		all      []*Error
		messages []string
	}{
		{"nil", nil, nil, nil},
		{"one", a, []*Error{a}, []string{"a: one"}},
		{"plain", plain, nil, []string{"plain"}},
		{"wrapped", fmt.Errorf("load: %w", b), []*Error{b}, []string{"load: b: two"}},
		{"joined and wrapped", err, []*Error{a, b, c}, []string{"a: one", "in x: b: two\nplain", "c: three"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := cmp.Diff(tt.all, All(tt.err)); d != "" {
				t.Errorf("All (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.messages, Messages(tt.err)); d != "" {
				t.Errorf("Messages (-want +got):\n%s", d)
			}
		})
	}
}

func TestJoin(t *testing.T) {
	tests := []struct{ path, name, want string }{
		{"", "a", "a"}, {"a", "b", "a.b"}, {"a", "[1]", "a[1]"}, {"a", "", "a"}, {"", "[0]", "[0]"},
	}
	for _, tt := range tests {
		if got := Join(tt.path, tt.name); got != tt.want {
			t.Errorf("Join(%q, %q) = %q, want %q", tt.path, tt.name, got, tt.want)
		}
	}
}
