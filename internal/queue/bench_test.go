package queue

import (
	"context"
	"fmt"
	"sync"
	"testing"
)

// BenchmarkQueue measures adding and running small jobs over 16 keys on 4
// workers: the queue's own overhead per job.
func BenchmarkQueue(b *testing.B) {
	q := New(Options{Workers: 4, Capacity: 1 << 20})
	go q.Run(context.Background())
	defer q.Shutdown(context.Background())
	keys := make([]string, 16)
	for i := range keys {
		keys[i] = fmt.Sprintf("acme/repo-%d", i)
	}
	var wg sync.WaitGroup
	job := func(context.Context) error { wg.Done(); return nil }
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		wg.Add(1)
		if err := q.Add(keys[i%len(keys)], "job", job); err != nil {
			b.Fatal(err)
		}
	}
	wg.Wait()
}
