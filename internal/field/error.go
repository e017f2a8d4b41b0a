package field

import (
	"fmt"
	"strings"
)

// Error is a problem at one place: a field of a configuration file,
// request or blueprint, an object of a manifest, or a command line of a
// comment.
type Error struct {
	File  string // path of the file, empty when there is none
	Line  int    // 1-based line, 0 when unknown
	Field string // field path such as "spec.parameters[2].maximum", or the command as written; may be empty
	Msg   string // what is wrong and what is allowed
}

// Error formats the problem as "FILE:LINE: FIELD: MSG", or as
// "line LINE: FIELD: MSG" when there is no file, leaving out unknown parts.
func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.File != "" && e.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", e.File, e.Line)
	case e.File != "":
		b.WriteString(e.File + ": ")
	case e.Line > 0:
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// All returns every *Error in err, in order: it walks joined errors
// (errors.Join) and wrapped ones (fmt.Errorf with %w), and stops at each
// *Error it finds.
func All(err error) []*Error {
	var out []*Error
	var walk func(error)
	walk = func(err error) {
		switch t := err.(type) {
		case nil:
		case *Error:
			out = append(out, t)
		case interface{ Unwrap() []error }:
			for _, e := range t.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(t.Unwrap())
		}
	}
	walk(err)
	return out
}

// Messages splits err into the messages of the errors it joins, in order,
// one message per *Error or other error; a wrapped error keeps its prefix
// and counts as one message.
func Messages(err error) []string {
	var out []string
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		out = append(out, err.Error())
	}
	walk(err)
	return out
}

// Join appends a field name or index to a field path:
// Join("a", "b") is "a.b", Join("a", "[1]") is "a[1]", Join("", "b") is "b".
func Join(path, name string) string {
	switch {
	case name == "":
		return path
	case path == "", strings.HasPrefix(name, "["):
		return path + name
	}
	return path + "." + name
}
