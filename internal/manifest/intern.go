package manifest

import (
	"sync"
	"sync/atomic"
	"unique"
)

// maxInterned bounds the strings Intern keeps: identities repeat (a few
// hundred apiVersions, kinds and namespaces, owners), and past the bound
// a string is handed back as it is, so that hostile input cannot grow
// the set without end.
const maxInterned = 1 << 16

var interned struct {
	m sync.Map // string → the copy kept
	n atomic.Int64
}

// Intern returns the one copy kept of strings equal to s (s itself past
// maxInterned distinct strings). Objects keep their apiVersion, kind and
// namespace interned: the maps keyed by them over tens of thousands of
// objects then compare equal strings by pointer instead of byte by byte,
// and the strings are held once.
func Intern(s string) string {
	if c, ok := interned.m.Load(s); ok {
		return c.(string)
	}
	// A place in the set is taken before storing, so that calls at the
	// same time cannot take it past maxInterned.
	if interned.n.Add(1) > maxInterned {
		interned.n.Add(-1)
		return s
	}
	c, loaded := interned.m.LoadOrStore(s, s)
	if loaded {
		interned.n.Add(-1)
	}
	return c.(string)
}

// Shared returns one copy of strings equal to s, held only while
// something uses it: for strings that come as many as objects do (names,
// field names, content digests), where a bound like Intern's would fill
// up. A check compares the names and digests of a base's objects with a
// head's, read apart; shared, equal ones compare by pointer.
func Shared(s string) string { return unique.Make(s).Value() }
