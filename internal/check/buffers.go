package check

import (
	"sync"

	"github.com/gitvend/gitvend/internal/cost"
	"github.com/gitvend/gitvend/internal/policy"
)

// buffers keeps slices of T that a check needs one element per object
// for, and drops when it returns, for the next check: in a repository of
// tens of thousands of objects they are megabytes a check, which the
// collector would otherwise chase through the whole heap again and again.
// A slice handed back must not be held by anything after put.
type buffers[T any] struct{ pool sync.Pool }

// get returns a zeroed slice of n elements.
func (b *buffers[T]) get(n int) []T {
	if p, ok := b.pool.Get().(*[]T); ok && cap(*p) >= n {
		return (*p)[:n]
	}
	return make([]T, n)
}

// put hands s back, zeroed so that it keeps nothing alive.
func (b *buffers[T]) put(s []T) {
	s = s[:cap(s)]
	clear(s)
	b.pool.Put(&s)
}

var (
	subjectBuffers buffers[policy.Subject] // a revision's subjects
	itemBuffers    buffers[cost.Item]      // judgeObjects' cost items
	placedBuffers  buffers[placed]         // judgeObjects' places
)
