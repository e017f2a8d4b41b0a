package githubtest

import (
	"context"
	"encoding/json"
	"strings"
)

// refUpdate is one ref that moved: before or after is zeroSHA when the ref
// was created or deleted.
type refUpdate struct {
	ref    string
	before string
	after  string
}

// emit queues a webhook for the App installation covering the repository;
// GitHub sends nothing when the App is not installed there. Callers hold
// s.mu.
func (s *Server) emit(r *repo, event, action string, sender *user, payload obj) {
	s.emitLater(r, event, action, sender, payload, nil)
}

// emitLater is emit with later, when not nil, adding to the payload when
// the delivery's turn comes, outside the server's lock: the fields that
// read Git for what a push carries, which does not change.
func (s *Server) emitLater(r *repo, event, action string, sender *user, payload obj, later func(obj)) {
	in := s.installationFor(r)
	if in == nil {
		return
	}
	if action != "" {
		payload["action"] = action
	}
	if _, set := payload["repository"]; !set {
		payload["repository"] = s.repoJSON(r, repoHook)
	}
	payload["sender"] = s.userJSON(sender)
	payload["installation"] = obj{"id": in.id, "node_id": nodeID("MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9u", in.id)}
	if r.owner.kind == "Organization" {
		payload["organization"] = s.orgJSON(r.owner)
	}
	encode := func() []byte {
		if later != nil {
			later(payload)
		}
		body, err := json.Marshal(payload)
		if err != nil {
			s.log.Error("encode webhook", "event", event, "err", err)
		}
		return body
	}
	d := Delivery{ID: newDeliveryID(), Event: event, Action: action, Repo: r.fullName(), InstallationID: in.id}
	if later == nil {
		if d.Payload = encode(); d.Payload == nil {
			return
		}
	} else {
		d.build = encode
	}
	s.hooks.enqueue(d)
}

// emitIssueEvent sends an issues event, or the pull_request event of the
// same action when the issue is a pull request.
func (s *Server) emitIssueEvent(ctx context.Context, r *repo, is *issue, action string, sender *user, extra obj) {
	payload := obj{}
	for k, v := range extra {
		payload[k] = v
	}
	if is.pull != nil {
		payload["number"] = is.number
		payload["pull_request"] = s.pullJSON(ctx, r, is, true)
		s.emit(r, "pull_request", action, sender, payload)
		return
	}
	payload["issue"] = s.issueJSON(r, is)
	s.emit(r, "issues", action, sender, payload)
}

// afterRefUpdates plays GitHub's reaction to moved refs: push events, pull
// request synchronization or closing, base tips, and check suites for new
// head commits. Callers hold s.mu.
func (s *Server) afterRefUpdates(ctx context.Context, r *repo, updates []refUpdate, sender *user) {
	now := s.now()
	r.pushed = now
	r.updated = now
	s.pullHeadsMovedLocked(ctx, r, updates, sender)
	for _, u := range updates {
		s.emitPush(ctx, r, u, sender)
		branch, isBranch := strings.CutPrefix(u.ref, "refs/heads/")
		if !isBranch {
			continue
		}
		for _, is := range r.issues {
			p := is.pull
			if p == nil || is.state != "open" {
				continue
			}
			if p.base == branch && u.after != zeroSHA {
				p.baseSHA = u.after
			}
			if p.head != branch || p.fromFork() {
				continue
			}
			if u.after == zeroSHA {
				is.state = "closed"
				is.closed = now
				is.updated = now
				s.emitIssueEvent(ctx, r, is, "closed", sender, nil)
				continue
			}
			if p.headSHA != u.after {
				before := p.headSHA
				p.headSHA = u.after
				is.updated = now
				s.emitIssueEvent(ctx, r, is, "synchronize", sender, obj{"before": before, "after": u.after})
			}
		}
		if u.after != zeroSHA {
			s.requestCheckSuite(ctx, r, branch, u.before, u.after, sender)
		}
	}
}

// emitPush sends the push event of one ref update. What the push carries
// (its commits and their files, whether it was forced) is read from Git
// when the event's turn comes, outside the server's lock, as GitHub
// answers a push before it sends the event; which branches held the
// commits already is read now.
func (s *Server) emitPush(ctx context.Context, r *repo, u refUpdate, sender *user) {
	g := r.git
	created := u.before == zeroSHA
	deleted := u.after == zeroSHA
	var revs []string // what rev-list walks for the commits
	switch {
	case deleted:
	case created:
		revs = []string{u.after}
		if refs, err := g.refs(ctx); err == nil {
			for name, sha := range refs {
				if name != u.ref && strings.HasPrefix(name, "refs/heads/") {
					revs = append(revs, "^"+sha)
				}
			}
		}
	default:
		revs = []string{u.before + ".." + u.after}
	}
	compare := s.htmlRepo(r) + "/compare/" + u.before[:12] + "..." + u.after[:12]
	if created {
		compare = s.htmlRepo(r) + "/commit/" + u.after[:12]
	}
	pusher := obj{"name": sender.login, "email": s.signatureOf(sender, s.now()).Email}
	commitURL := s.htmlRepo(r) + "/commit/"
	// The context of the push's request ends when the push is answered.
	ctx = context.WithoutCancel(ctx)
	s.emitLater(r, "push", "", sender, obj{
		"ref":        u.ref,
		"before":     u.before,
		"after":      u.after,
		"created":    created,
		"deleted":    deleted,
		"base_ref":   nil,
		"compare":    compare,
		"repository": s.repoJSON(r, repoPush),
		"pusher":     pusher,
	}, func(payload obj) {
		var ids []string
		if revs != nil {
			ids, _ = g.revList(ctx, revs...)
		}
		if len(ids) > 20 {
			ids = ids[len(ids)-20:]
		}
		commits := []any{}
		for _, id := range ids {
			if c := pushCommitJSON(ctx, g, commitURL, id); c != nil {
				commits = append(commits, c)
			}
		}
		var head any
		if !deleted {
			if c := pushCommitJSON(ctx, g, commitURL, u.after); c != nil {
				head = c
			}
		}
		payload["forced"] = !created && !deleted && !g.isAncestor(ctx, u.before, u.after)
		payload["commits"] = commits
		payload["head_commit"] = head
	})
}

// pushCommitJSON renders a commit as push payloads list it; url is the
// repository's address of commits.
func pushCommitJSON(ctx context.Context, g *gitRepo, url, sha string) obj {
	ci, err := g.readCommit(ctx, sha)
	if err != nil {
		return nil
	}
	parent := ""
	if len(ci.parents) > 0 {
		parent = ci.parents[0]
	}
	added, removed, modified := []string{}, []string{}, []string{}
	if changes, err := g.diff(ctx, parent, sha); err == nil {
		for _, ch := range changes {
			switch ch.status {
			case "added":
				added = append(added, ch.path)
			case "removed":
				removed = append(removed, ch.path)
			default:
				modified = append(modified, ch.path)
			}
		}
	}
	return obj{
		"id":        ci.sha,
		"tree_id":   ci.tree,
		"distinct":  true,
		"message":   strings.TrimSuffix(ci.message, "\n"),
		"timestamp": ci.author.When.Format("2006-01-02T15:04:05-07:00"),
		"url":       url + ci.sha,
		"author":    obj{"name": ci.author.Name, "email": ci.author.Email},
		"committer": obj{"name": ci.committer.Name, "email": ci.committer.Email},
		"added":     added,
		"removed":   removed,
		"modified":  modified,
	}
}
