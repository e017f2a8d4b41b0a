package policy

import (
	"slices"
	"strconv"
	"sync"
)

// memoSize is how many subjects a Memo remembers: the objects of a few
// large repositories.
const memoSize = 200_000

// Memo remembers the findings of subject-local policies per subject, by
// the digest of the policies, of their params and of the subject as the
// policies see it, so that a subject checked before is not evaluated
// again. It is safe for concurrent use and may be shared by engines: an
// engine with other policies or params never reads another's entries.
//
// It holds at most memoSize subjects in two generations: subjects are
// remembered in the current one, and found there or in the previous one
// (and then brought into the current one); when the current one is full
// it becomes the previous one, and the previous one is forgotten. A
// subject asked for at every check stays, and a lookup is one map probe,
// without the bookkeeping of a least-recently-used list.
type Memo struct {
	mu           sync.Mutex
	cur, old     map[memoKey][]memoFinding
	hits, misses int
}

// memoFinding is one finding of a local policy about its subject.
type memoFinding struct {
	policy  int // index into the engine's local policies
	path    []any
	message string
}

// NewMemo returns an empty Memo.
func NewMemo() *Memo {
	return &Memo{cur: map[memoKey][]memoFinding{}}
}

// get returns the findings remembered for k. Callers hold m.mu.
func (m *Memo) get(k memoKey) ([]memoFinding, bool) {
	if fs, ok := m.cur[k]; ok {
		return fs, true
	}
	fs, ok := m.old[k]
	if ok {
		m.put(k, fs)
	}
	return fs, ok
}

// put remembers the findings fs of k. Callers hold m.mu.
func (m *Memo) put(k memoKey, fs []memoFinding) {
	if len(m.cur) >= memoSize/2 {
		m.old, m.cur = m.cur, make(map[memoKey][]memoFinding, len(m.cur))
	}
	m.cur[k] = fs
}

// Stats returns how many subjects were answered from the memo and how
// many were evaluated.
func (m *Memo) Stats() (hits, misses int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.hits, m.misses
}

// memoKey names a subject as the local policies of an engine see it:
// the engine's digest (policies and params), the object's content, its
// apiVersion and kind (which its group kind and scope follow from) and
// the fields gitvend adds to it (contextKey). The strings are the
// subject's own, shared, so that making a key copies nothing.
type memoKey struct {
	engine, content  string
	apiVersion, kind string
	context          string
}

func subjectKeyOf(engine string, s Subject, content, context string) memoKey {
	return memoKey{engine: engine, content: content, apiVersion: s.Object.APIVersion, kind: s.Object.Kind, context: context}
}

// contextKey writes the fields of c one after the other, each with its
// length first, telling a missing list of namespaces from an empty one.
func contextKey(c Context) string {
	b := make([]byte, 0, 64)
	for _, f := range []string{c.Environment, c.Request, c.Owner, c.Namespace} {
		b = appendField(b, f)
	}
	if c.AllowedNamespaces == nil {
		b = append(b, 'n') // none, which policies tell from an empty list
	} else {
		b = strconv.AppendInt(append(b, 'l'), int64(len(c.AllowedNamespaces)), 10)
		for _, ns := range c.AllowedNamespaces {
			b = appendField(b, ns)
		}
	}
	return string(b)
}

// sameContext tells whether a and b are the same context to policies.
func sameContext(a, b Context) bool {
	return a.Environment == b.Environment && a.Request == b.Request && a.Owner == b.Owner && a.Namespace == b.Namespace &&
		(a.AllowedNamespaces == nil) == (b.AllowedNamespaces == nil) && slices.Equal(a.AllowedNamespaces, b.AllowedNamespaces)
}

// appendField appends f to b with its length first, so that no two lists
// of fields write the same bytes.
func appendField(b []byte, f string) []byte {
	b = strconv.AppendInt(b, int64(len(f)), 10)
	return append(append(b, ':'), f...)
}

// MemoStats returns how many subjects the engine's memo answered and how
// many it evaluated, over every engine sharing it.
func (e *Engine) MemoStats() (hits, misses int) { return e.memo.Stats() }
