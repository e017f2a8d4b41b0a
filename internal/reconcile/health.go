package reconcile

import (
	"context"
	"time"

	"github.com/fluxcd/cli-utils/pkg/kstatus/polling"
	"github.com/fluxcd/cli-utils/pkg/kstatus/polling/collector"
	"github.com/fluxcd/cli-utils/pkg/kstatus/polling/event"
	"github.com/fluxcd/cli-utils/pkg/kstatus/status"
	"github.com/fluxcd/cli-utils/pkg/object"
)

// statusInfo is the kstatus of one object.
type statusInfo struct {
	status  string
	message string
}

// checkHealth waits up to timeout for the applied items to become Current
// and sets their Status. It reports whether some had not settled in time.
func (r *Reconciler) checkHealth(ctx context.Context, items []*item, timeout time.Duration) bool {
	var wait []*item
	for _, it := range items {
		if it.done() {
			wait = append(wait, it)
		}
	}
	statuses, timedOut := r.waitStatus(ctx, wait, timeout)
	for _, it := range wait {
		s := statuses[it.key]
		it.res.Status = orUnknown(s.status)
		if s.status != string(status.CurrentStatus) && it.res.Message == "" {
			it.res.Message = s.message
		}
	}
	return timedOut
}

// waitStatus polls the kstatus of items until each is Current or Failed,
// or timeout passes, and returns the last status of each and whether some
// had not settled when the wait ended.
func (r *Reconciler) waitStatus(ctx context.Context, items []*item, timeout time.Duration) (map[key]statusInfo, bool) {
	out := map[key]statusInfo{}
	if len(items) == 0 {
		return out, false
	}
	ids := make(object.ObjMetadataSet, 0, len(items))
	byID := map[object.ObjMetadata]key{}
	for _, it := range items {
		id := object.UnstructuredToObjMetadata(it.obj)
		ids = append(ids, id)
		byID[id] = it.key
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	coll := collector.NewResourceStatusCollector(ids)
	events := r.poller.Poll(ctx, ids, polling.PollOptions{PollInterval: r.interval})
	done := coll.ListenWithObserver(events, collector.ObserverFunc(func(c *collector.ResourceStatusCollector, _ event.Event) {
		settled := true
		for _, rs := range c.ResourceStatuses {
			if rs == nil || (rs.Status != status.CurrentStatus && rs.Status != status.FailedStatus) {
				settled = false
				break
			}
		}
		if settled {
			cancel()
		}
	}))
	// Drain until the poller stops; its errors show as Unknown statuses.
	for range done {
	}
	obs := coll.LatestObservation()
	timedOut := false
	for _, rs := range obs.ResourceStatuses {
		timedOut = timedOut || (rs.Status != status.CurrentStatus && rs.Status != status.FailedStatus)
		info := statusInfo{status: string(rs.Status), message: rs.Message}
		if rs.Error != nil {
			info.message = rs.Error.Error()
		}
		out[byID[rs.Identifier]] = info
	}
	return out, timedOut
}
