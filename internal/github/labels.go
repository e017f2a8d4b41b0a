package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	gh "github.com/google/go-github/v60/github"
)

// Label is a repository label gitvend needs, as it creates it when
// missing.
type Label struct {
	Name string
	// Color is six hex digits without '#', such as "5319e7".
	Color string
	// Description says what the label marks, in at most 100 characters.
	Description string
}

// ListLabels returns the names of a repository's labels.
func (c *Client) ListLabels(ctx context.Context, owner, repo string) ([]string, error) {
	if err := checkArgs(owner, repo); err != nil {
		return nil, err
	}
	list, err := listAll(ctx, func(lo gh.ListOptions) ([]*gh.Label, *gh.Response, error) {
		return c.gh.Issues.ListLabels(ctx, owner, repo, &lo)
	})
	if err != nil {
		return nil, fmt.Errorf("list labels of %s/%s: %w", owner, repo, convertError(err))
	}
	names := make([]string, len(list))
	for i, l := range list {
		names[i] = l.GetName()
	}
	return names, nil
}

// EnsureLabels makes sure the repository has each label, matching names
// without regard to case as GitHub does: a missing one is created with its
// colour and description; one that exists is left as it is, since an
// administrator may have recoloured or described it to taste. It lists the
// labels once (a conditional request, which costs nothing while they are
// unchanged) and creates only what is missing; a label created meanwhile
// by someone else counts as existing.
func (c *Client) EnsureLabels(ctx context.Context, owner, repo string, labels ...Label) (Ensured, error) {
	have, err := c.ListLabels(ctx, owner, repo)
	if err != nil {
		return Unchanged, err
	}
	exists := map[string]bool{}
	for _, n := range have {
		exists[strings.ToLower(n)] = true
	}
	did := Unchanged
	for _, l := range labels {
		if exists[strings.ToLower(l.Name)] {
			continue
		}
		_, _, err := c.gh.Issues.CreateLabel(ctx, owner, repo, &gh.Label{Name: &l.Name, Color: &l.Color, Description: &l.Description})
		if err != nil && !alreadyExists(err) {
			return did, fmt.Errorf("create label %q in %s/%s: %w", l.Name, owner, repo, convertError(err))
		}
		exists[strings.ToLower(l.Name)] = true
		if err == nil {
			did = Created
		}
	}
	return did, nil
}

// alreadyExists tells whether err is GitHub's 422 for a name taken.
func alreadyExists(err error) bool {
	var er *gh.ErrorResponse
	if !errors.As(err, &er) || er.Response == nil || er.Response.StatusCode != http.StatusUnprocessableEntity {
		return false
	}
	for _, e := range er.Errors {
		if e.Code == "already_exists" {
			return true
		}
	}
	return false
}
