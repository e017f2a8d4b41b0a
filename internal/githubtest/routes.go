package githubtest

// routeTable lists every REST operation the double serves. Templates are
// GitHub's; "{name*}" marks a parameter that may contain slashes (refs, file
// paths), which the call counts print as "{name}".
func (s *Server) routeTable() []route {
	const (
		get   = "GET"
		post  = "POST"
		patch = "PATCH"
		put   = "PUT"
		del   = "DELETE"
	)
	rp := "/repos/{owner}/{repo}"
	return []route{
		// Apps and installations.
		routeFor(get, "/app", authApp, s.getApp),
		routeFor(get, "/app/installations", authApp, s.listInstallations),
		routeFor(get, "/app/installations/{installation_id}", authApp, s.getInstallation),
		routeFor(post, "/app/installations/{installation_id}/access_tokens", authApp, s.createAccessToken),
		routeFor(get, rp+"/installation", authAppRepo, s.getRepoInstallation),
		routeFor(get, "/installation/repositories", authInstallation, s.listInstallationRepos),

		// Repositories, collaborators, teams.
		routeFor(get, rp, authRepo, s.getRepo),
		// Before the branch: a branch name may contain slashes.
		routeFor(get, rp+"/branches/{branch*}/protection", authRepo, s.getBranchProtection),
		routeFor(get, rp+"/branches/{branch*}", authRepo, s.getBranch),
		routeFor(get, rp+"/collaborators/{username}/permission", authRepo, s.getCollaboratorPermission),
		routeFor(get, "/orgs/{org}/teams/{team_slug}/memberships/{username}", authOrg, s.getTeamMembership),
		routeFor(get, "/users/{username}", authPublic, s.getUser),

		// Issues, comments, labels, reactions.
		routeFor(get, rp+"/issues", authRepo, s.listIssues),
		routeFor(post, rp+"/issues", authRepo, s.createIssue),
		routeFor(get, rp+"/issues/comments/{comment_id}", authRepo, s.getComment),
		routeFor(patch, rp+"/issues/comments/{comment_id}", authRepo, s.updateComment),
		routeFor(del, rp+"/issues/comments/{comment_id}", authRepo, s.deleteComment),
		routeFor(get, rp+"/issues/comments/{comment_id}/reactions", authRepo, s.listCommentReactions),
		routeFor(post, rp+"/issues/comments/{comment_id}/reactions", authRepo, s.createCommentReaction),
		routeFor(get, rp+"/issues/{issue_number}", authRepo, s.getIssue),
		routeFor(patch, rp+"/issues/{issue_number}", authRepo, s.updateIssue),
		routeFor(get, rp+"/issues/{issue_number}/comments", authRepo, s.listComments),
		routeFor(post, rp+"/issues/{issue_number}/comments", authRepo, s.createComment),
		routeFor(get, rp+"/issues/{issue_number}/labels", authRepo, s.listIssueLabels),
		routeFor(post, rp+"/issues/{issue_number}/labels", authRepo, s.addIssueLabels),
		routeFor(put, rp+"/issues/{issue_number}/labels", authRepo, s.setIssueLabels),
		routeFor(del, rp+"/issues/{issue_number}/labels/{name}", authRepo, s.removeIssueLabel),
		routeFor(get, rp+"/issues/{issue_number}/reactions", authRepo, s.listIssueReactions),
		routeFor(get, rp+"/labels", authRepo, s.listLabels),
		routeFor(post, rp+"/labels", authRepo, s.createLabel),
		routeFor(get, rp+"/labels/{name}", authRepo, s.getLabel),
		routeFor(patch, rp+"/labels/{name}", authRepo, s.updateLabel),
		routeFor(del, rp+"/labels/{name}", authRepo, s.deleteLabel),
		routeFor(post, rp+"/issues/{issue_number}/reactions", authRepo, s.createIssueReaction),

		// Pull requests.
		routeFor(get, rp+"/pulls", authRepo, s.listPulls),
		routeFor(post, rp+"/pulls", authRepo, s.createPull),
		routeFor(get, rp+"/pulls/{pull_number}", authRepo, s.getPull),
		routeFor(patch, rp+"/pulls/{pull_number}", authRepo, s.updatePull),
		routeFor(get, rp+"/pulls/{pull_number}/files", authRepo, s.listPullFiles),
		routeFor(get, rp+"/pulls/{pull_number}/reviews", authRepo, s.listReviews),
		routeFor(get, rp+"/pulls/{pull_number}/merge", authRepo, s.checkMerged),
		routeFor(put, rp+"/pulls/{pull_number}/merge", authRepo, s.mergePull),

		// Git data.
		routeFor(post, rp+"/git/blobs", authRepo, s.createBlob),
		routeFor(get, rp+"/git/blobs/{file_sha}", authRepo, s.getBlob),
		routeFor(post, rp+"/git/trees", authRepo, s.createTree),
		routeFor(get, rp+"/git/trees/{tree_sha}", authRepo, s.getTree),
		routeFor(post, rp+"/git/commits", authRepo, s.createCommit),
		routeFor(get, rp+"/git/commits/{commit_sha}", authRepo, s.getCommit),
		routeFor(get, rp+"/git/ref/{ref*}", authRepo, s.getRef),
		routeFor(get, rp+"/git/matching-refs/{ref*}", authRepo, s.listMatchingRefs),
		routeFor(post, rp+"/git/refs", authRepo, s.createRef),
		routeFor(patch, rp+"/git/refs/{ref*}", authRepo, s.updateRef),
		routeFor(del, rp+"/git/refs/{ref*}", authRepo, s.deleteRef),

		// Contents.
		routeFor(get, rp+"/contents/{path*}", authRepo, s.getContent),
		routeFor(put, rp+"/contents/{path*}", authRepo, s.putContent),
		routeFor(del, rp+"/contents/{path*}", authRepo, s.deleteContent),

		// Checks and statuses.
		routeFor(post, rp+"/check-runs", authRepo, s.createCheckRun),
		routeFor(get, rp+"/check-runs/{check_run_id}", authRepo, s.getCheckRun),
		routeFor(patch, rp+"/check-runs/{check_run_id}", authRepo, s.updateCheckRun),
		routeFor(get, rp+"/check-runs/{check_run_id}/annotations", authRepo, s.listAnnotations),
		routeFor(post, rp+"/check-runs/{check_run_id}/rerequest", authRepo, s.rerequestCheckRun),
		routeFor(get, rp+"/check-suites/{check_suite_id}", authRepo, s.getCheckSuite),
		routeFor(post, rp+"/check-suites/{check_suite_id}/rerequest", authRepo, s.rerequestCheckSuite),
		routeFor(get, rp+"/commits/{ref*}/check-runs", authRepo, s.listCheckRunsForRef),
		routeFor(get, rp+"/commits/{ref*}/check-suites", authRepo, s.listCheckSuitesForRef),
		routeFor(get, rp+"/commits/{ref*}/status", authRepo, s.getCombinedStatus),
		routeFor(get, rp+"/commits/{ref*}/statuses", authRepo, s.listStatuses),
		routeFor(post, rp+"/statuses/{sha}", authRepo, s.createStatus),
		routeFor(get, rp+"/commits/{ref*}/pulls", authRepo, s.listCommitPulls),
		// Last: a ref may contain slashes, so this template would also
		// match the commit routes above.
		routeFor(get, rp+"/commits/{ref*}", authRepo, s.getRepoCommit),
	}
}
