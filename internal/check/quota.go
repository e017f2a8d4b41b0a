package check

import (
	"fmt"

	"gopkg.in/inf.v0"

	"github.com/gitvend/gitvend/internal/cost"
	"github.com/gitvend/gitvend/internal/policy"
	"github.com/gitvend/gitvend/internal/quota"
)

// quotaItems are the cost items as the quota count reads them.
func quotaItems(items []cost.Item) []quota.Item {
	out := make([]quota.Item, len(items))
	for i, it := range items {
		out[i] = quota.Item{Object: it.Object, Environment: it.Environment}
	}
	return out
}

// quotaInput holds every ResourceQuota among objs against the use of its
// namespace (as measure adds them up), after the change and, with a base (baseUse not nil), before
// it. Quotas and hard values gitvend does not judge become notices at the
// quota. A head without quotas is not measured.
func quotaInput(measure func([]quota.Item) quota.Usage, items []cost.Item, baseUse quota.Usage, notices []Problem) ([]policy.QuotaInput, []Problem) {
	hasQuota := false
	for i := range items {
		if o := items[i].Object; o.Kind == "ResourceQuota" && o.Group() == "" {
			hasQuota = true
			break
		}
	}
	if !hasQuota {
		return nil, notices
	}
	head := quotaItems(items)
	var out []policy.QuotaInput
	for _, q := range quota.Judge(head, measure(head), baseUse) {
		o := items[q.Subject].Object
		for _, why := range q.Skipped {
			notices = append(notices, Problem{File: o.File, Line: o.Line, Message: fmt.Sprintf(
				"ResourceQuota %s in %s is not judged in full: %s", q.Name, q.Namespace, why)})
		}
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
		out = append(out, in)
	}
	return out, notices
}
