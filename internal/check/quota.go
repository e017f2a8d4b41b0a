package check

import (
	"fmt"
	"slices"
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"

	"gopkg.in/inf.v0"

	"github.com/gitvend/gitvend/internal/cost"
	"github.com/gitvend/gitvend/internal/policy"
	"github.com/gitvend/gitvend/internal/quota"
)

// quotaInput holds every ResourceQuota among objs against the use of its
// namespace (as measure adds them up), after the change and, with a base
// (baseUse not nil), before it. Quotas and hard values gitvend does not
// judge become notices at the quota. A head without quotas is not
// measured. memo, when not nil, keeps what was worked out for each quota,
// which is judged on its own.
func quotaInput(measure func([]quota.Item) quota.Usage, items []cost.Item, baseUse quota.Usage, notices []Problem, memo *quotaMemo) ([]policy.QuotaInput, []Problem) {
	if !slices.ContainsFunc(items, func(it cost.Item) bool { return quota.IsQuota(it.Object) }) {
		return nil, notices
	}
	use := measure(items)
	var out []policy.QuotaInput
	for i, it := range items {
		o := it.Object
		if !quota.IsQuota(o) {
			continue
		}
		p := quota.Place{Environment: it.Environment, Namespace: o.Namespace}
		key := quotaKey{digest: o.Digest(), place: p, head: use[p], base: baseUse[p], hasBase: baseUse != nil}
		j, ok := memo.get(key)
		if !ok {
			q := quota.Judge(items[i:i+1], use, baseUse)[0]
			j = judgedQuota{in: quotaInputOf(q), skipped: q.Skipped}
			memo.add(key, j)
		}
		for _, why := range j.skipped {
			notices = append(notices, Problem{File: o.File, Line: o.Line, Message: fmt.Sprintf(
				"ResourceQuota %s in %s is not judged in full: %s", j.in.Name, j.in.Namespace, why)})
		}
		in := j.in
		in.Subject = i
		out = append(out, in)
	}
	return out, notices
}

// quotaInputOf is the policy input of a quota judged.
func quotaInputOf(q quota.Quota) policy.QuotaInput {
	in := policy.QuotaInput{Subject: q.Subject, Environment: q.Environment, Namespace: q.Namespace, Name: q.Name, Problems: q.Problems}
	for _, r := range q.Resources {
		share, headroom := r.Share(), r.Headroom()
		res := policy.QuotaResource{
			Name: r.Name, Hard: r.Hard.String(), Used: r.Used.String(), After: r.After.String(), Share: share.String(),
			HardText: r.Text(r.Hard), UsedText: r.Text(r.Used), AfterText: r.Text(r.After), ShareText: r.Text(share),
			HeadroomText: r.Text(headroom), Tightened: r.Tightened,
		}
		if headroom.Sign() < 0 {
			res.HeadroomText = fmt.Sprintf("none (over by %s already)", r.Text(new(inf.Dec).Neg(headroom)))
		}
		in.Resources = append(in.Resources, res)
	}
	return in
}

// quotaKey names what judging a quota depends on: the quota, its place,
// and the use of that place after and before the change. A Use is never
// changed once measured (a ledger shares those of the places a change
// leaves alone), and the key holds it, so no other Use takes its address.
type quotaKey struct {
	digest     string
	place      quota.Place
	head, base *quota.Use
	hasBase    bool
}

// judgedQuota is a quota's policy input, without its subject, and why
// parts of it are not judged.
type judgedQuota struct {
	in      policy.QuotaInput
	skipped []string
}

// quotaMemoSize is how many quotas a caching Checker keeps judged: every
// namespace of a few environments of a repository of 10,000 requests,
// before and after a few changes.
const quotaMemoSize = 20_000

// quotaMemo keeps judged quotas by what they depend on.
type quotaMemo struct {
	mu  sync.Mutex
	lru *simplelru.LRU[quotaKey, judgedQuota]
}

func newQuotaMemo(size int) *quotaMemo {
	l, err := simplelru.NewLRU[quotaKey, judgedQuota](size, nil)
	if err != nil {
		panic(fmt.Sprintf("quota memo of size %d: %v", size, err))
	}
	return &quotaMemo{lru: l}
}

func (m *quotaMemo) get(k quotaKey) (judgedQuota, bool) {
	if m == nil {
		return judgedQuota{}, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lru.Get(k)
}

func (m *quotaMemo) add(k quotaKey, j judgedQuota) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lru.Add(k, j)
}
