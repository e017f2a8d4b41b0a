package githubtest

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Labels as GitHub keeps them: one set per repository, names unique
// without regard to case. The REST API creates a missing label when an
// issue is created or labelled with it (labelLocked), in GitHub's grey; an
// issue opened from an issue form in the browser gets only those of the
// form's labels that the repository has (OpenIssue).

// labelColor is a colour as GitHub stores it: six hex digits, no '#'.
var labelColor = regexp.MustCompile(`^[0-9a-fA-F]{6}$`)

// maxLabelDescription is GitHub's bound on a label's description.
const maxLabelDescription = 100

// Label is a repository label as a test sees it.
type Label struct {
	Name        string
	Color       string
	Description string
}

// CreateLabel creates a label in a repository as its administrator does in
// the browser; an existing label of that name (in any case) is an error.
func (s *Server) CreateLabel(fullName string, l Label) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.repoLocked(fullName)
	if err != nil {
		return fmt.Errorf("create label: %w", err)
	}
	if l.Color == "" {
		l.Color = "ededed"
	}
	if _, err := s.newLabelLocked(r, l.Name, l.Color, l.Description); err != nil {
		return fmt.Errorf("create label %q: %w", l.Name, err)
	}
	return nil
}

// Labels lists a repository's labels in the order they were created.
func (s *Server) Labels(fullName string) ([]Label, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.repoLocked(fullName)
	if err != nil {
		return nil, fmt.Errorf("labels: %w", err)
	}
	out := []Label{}
	for _, key := range r.labelOrder {
		if l := r.labels[key]; l != nil {
			out = append(out, Label{Name: l.name, Color: l.color, Description: l.description})
		}
	}
	return out, nil
}

// existingLabelsLocked keeps the names of labels the repository has, as
// the repository spells them. Callers hold s.mu.
func existingLabelsLocked(r *repo, names []string) []string {
	var out []string
	for _, n := range names {
		if l, found := r.labels[strings.ToLower(strings.TrimSpace(n))]; found {
			out = append(out, l.name)
		}
	}
	return out
}

// newLabelLocked validates and adds a label. Callers hold s.mu.
func (s *Server) newLabelLocked(r *repo, name, color, description string) (*label, error) {
	if err := validLabel(name, color, description); err != nil {
		return nil, err
	}
	key := strings.ToLower(name)
	if _, exists := r.labels[key]; exists {
		return nil, errValidation("Label", "name", "already_exists", "")
	}
	l := &label{id: s.newID(), name: name, color: strings.ToLower(color), description: description}
	r.labels[key] = l
	r.labelOrder = append(r.labelOrder, key)
	return l, nil
}

func validLabel(name, color, description string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return errValidation("Label", "name", "missing_field", "")
	case utf8.RuneCountInString(name) > 50:
		return errValidation("Label", "name", "invalid", "name is too long (maximum is 50 characters)")
	case !labelColor.MatchString(color):
		return errValidation("Label", "color", "invalid", "")
	case utf8.RuneCountInString(description) > maxLabelDescription:
		return errValidation("Label", "description", "invalid", fmt.Sprintf("description is too long (maximum is %d characters)", maxLabelDescription))
	}
	return nil
}

// label finds the label the path names, in any case.
func (c *call) label() (*label, error) {
	l, found := c.repo.labels[strings.ToLower(c.params["name"])]
	if !found {
		return nil, ErrNotFound
	}
	return l, nil
}

func (s *Server) listLabels(c *call) (*response, error) {
	var all []*label
	for _, key := range c.repo.labelOrder {
		if l := c.repo.labels[key]; l != nil {
			all = append(all, l)
		}
	}
	return ok(s.labelsJSON(c.repo, paginate(c, all)))
}

func (s *Server) getLabel(c *call) (*response, error) {
	l, err := c.label()
	if err != nil {
		return nil, err
	}
	return ok(s.labelJSON(c.repo, l))
}

func (s *Server) createLabel(c *call) (*response, error) {
	var req struct {
		Name        *string `json:"name"`
		Color       *string `json:"color"`
		Description *string `json:"description"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if req.Name == nil {
		return nil, errValidation("Label", "name", "missing_field", "")
	}
	color, desc := "ededed", ""
	if req.Color != nil {
		color = strings.TrimPrefix(*req.Color, "#")
	}
	if req.Description != nil {
		desc = *req.Description
	}
	l, err := s.newLabelLocked(c.repo, *req.Name, color, desc)
	if err != nil {
		return nil, err
	}
	return created(s.labelJSON(c.repo, l))
}

func (s *Server) updateLabel(c *call) (*response, error) {
	l, err := c.label()
	if err != nil {
		return nil, err
	}
	var req struct {
		NewName     *string `json:"new_name"`
		Color       *string `json:"color"`
		Description *string `json:"description"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	name, color, desc := l.name, l.color, l.description
	if req.NewName != nil {
		name = *req.NewName
	}
	if req.Color != nil {
		color = strings.TrimPrefix(*req.Color, "#")
	}
	if req.Description != nil {
		desc = *req.Description
	}
	if err := validLabel(name, color, desc); err != nil {
		return nil, err
	}
	oldKey, newKey := strings.ToLower(l.name), strings.ToLower(name)
	if newKey != oldKey {
		if _, taken := c.repo.labels[newKey]; taken {
			return nil, errValidation("Label", "name", "already_exists", "")
		}
		delete(c.repo.labels, oldKey)
		c.repo.labels[newKey] = l
		c.repo.labelOrder[slices.Index(c.repo.labelOrder, oldKey)] = newKey
	}
	l.name, l.color, l.description = name, strings.ToLower(color), desc
	return ok(s.labelJSON(c.repo, l))
}

func (s *Server) deleteLabel(c *call) (*response, error) {
	l, err := c.label()
	if err != nil {
		return nil, err
	}
	key := strings.ToLower(l.name)
	delete(c.repo.labels, key)
	c.repo.labelOrder = slices.DeleteFunc(c.repo.labelOrder, func(k string) bool { return k == key })
	for _, is := range c.repo.issues {
		is.labels = slices.DeleteFunc(is.labels, func(x *label) bool { return x == l })
	}
	return noContent()
}

// openIssueFromForm opens an issue as the browser does from an issue form:
// of the form's labels, it gets those the repository has; GitHub drops the
// others without a word. Callers hold s.mu.
func (s *Server) openIssueFromForm(ctx context.Context, r *repo, u *user, spec IssueSpec) *issue {
	return s.openIssueLocked(ctx, r, u, spec.Title, spec.Body, existingLabelsLocked(r, spec.Labels))
}
