// Package githubtest owns a stateful stand-in for GitHub that end-to-end tests
// and demos talk to over real HTTP on the loopback interface.
//
// A Server speaks the part of GitHub's REST API that a provisioning bot uses
// (issues, comments, labels, reactions, pull requests, git data, contents,
// check runs and suites, commit statuses, collaborators, teams, App
// installations and tokens), serves git's smart HTTP protocol (clones and
// fetches through `git http-backend`, pushes received by the double itself
// with git's rules at the cost of what they carry), keeps one bare git
// repository per repository, and sends signed webhooks to the bot whenever its state changes,
// whether a person (a Go method on Server) or the bot (a REST call) changed it.
//
// It also plays GitHub's failure modes on demand: server errors, secondary
// rate limits, latency, lost webhooks; and it counts calls per endpoint so
// tests can bound how many requests the bot makes.
//
// A test uses it like this:
//
//	key, _ := rsa.GenerateKey(rand.Reader, 2048)
//	gh := githubtest.New(githubtest.Options{
//		AppID:         42,
//		AppPublicKey:  &key.PublicKey,
//		WebhookURL:    bot.URL + "/webhook",
//		WebhookSecret: "s3cret",
//	})
//	defer gh.Close()
//	ctx := context.Background()
//	if err := gh.CreateRepo(ctx, githubtest.RepoSpec{
//		Owner: "acme", Name: "infra",
//		Files: map[string]string{"gitvend.yaml": "environments: [dev]\n"},
//	}); err != nil {
//		t.Fatal(err)
//	}
//	inst, _ := gh.AddInstallation("acme", "acme/infra")
//	_ = gh.SetPermission("acme/infra", "alice", "write")
//	n, _ := gh.OpenIssue(ctx, "acme/infra", githubtest.IssueSpec{
//		User: "alice", Title: "namespace please", Labels: []string{"gitvend"},
//	})
//	_ = gh.WaitIdle(ctx) // every webhook delivered to the bot
//	issue, _ := gh.Issue("acme/infra", n)
//	// inspect issue.Comments, gh.PullRequests("acme/infra"), gh.Calls() ...
//
// The bot points go-github at gh.URL()+"/" (or uses WithEnterpriseURLs) and
// ghinstallation at gh.URL() with installation id inst; it clones
// gh.CloneURL("acme/infra") with user "x-access-token" and an installation
// token as password.
package githubtest
