package githubtest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// credential is what an Authorization header carried.
type credential struct {
	jwt   bool
	value string
}

func parseAuthorization(r *http.Request) (credential, bool) {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	if h == "" {
		return credential{}, false
	}
	scheme, value, found := strings.Cut(h, " ")
	if !found {
		return credential{}, false
	}
	switch strings.ToLower(scheme) {
	case "token", "bearer":
	default:
		return credential{}, false
	}
	value = strings.TrimSpace(value)
	return credential{jwt: strings.Count(value, ".") == 2, value: value}, true
}

func errBadCredentials() *apiError {
	return errStatus(http.StatusUnauthorized, "Bad credentials")
}

func errJWT(msg string) *apiError { return errStatus(http.StatusUnauthorized, "%s", msg) }

// authenticate checks the credential a route needs, resolves the
// repository of repository routes and returns the rate limit bucket the
// call is charged to. Callers hold s.mu.
func (s *Server) authenticate(c *call, rt *route) (*rateBucket, error) {
	cred, has := parseAuthorization(c.r)
	switch rt.auth {
	case authApp, authAppRepo:
		if !has {
			return nil, errJWT("A JSON web token could not be decoded")
		}
		if !cred.jwt {
			return nil, errJWT("A JSON web token could not be decoded")
		}
		if err := s.verifyAppJWT(cred.value); err != nil {
			return nil, err
		}
		c.actor = s.userLocked(s.botLogin())
		if rt.auth == authAppRepo {
			r, err := s.repoLocked(c.params["owner"] + "/" + c.params["repo"])
			if err != nil || s.installationFor(r) == nil {
				return nil, errNotFound()
			}
			c.repo = r
		}
		return s.bucket("app "+strconv.FormatInt(s.opts.AppID, 10), s.opts.RateLimit), nil
	}

	if !has {
		if rt.auth == authRepo {
			r, err := s.repoLocked(c.params["owner"] + "/" + c.params["repo"])
			if err != nil || r.private {
				return nil, errNotFound()
			}
			if c.r.Method != http.MethodGet {
				return nil, errStatus(http.StatusUnauthorized, "Requires authentication")
			}
			c.repo = r
			return s.bucket("anonymous "+remoteHost(c.r), 60), nil
		}
		if rt.auth == authPublic && c.r.Method == http.MethodGet {
			return s.bucket("anonymous "+remoteHost(c.r), 60), nil
		}
		return nil, errStatus(http.StatusUnauthorized, "Requires authentication")
	}
	if cred.jwt {
		if err := s.verifyAppJWT(cred.value); err != nil {
			return nil, err
		}
		return nil, errStatus(http.StatusForbidden, "Resource not accessible by integration")
	}
	tok, okTok := s.tokens[cred.value]
	if !okTok || !s.now().Before(tok.expires) {
		return nil, errBadCredentials()
	}
	c.tok = tok
	c.inst = tok.inst
	c.actor = s.userLocked(s.botLogin())
	switch rt.auth {
	case authRepo:
		r, err := s.repoLocked(c.params["owner"] + "/" + c.params["repo"])
		if err != nil || !tok.covers(r) {
			return nil, errNotFound()
		}
		c.repo = r
	case authOrg:
		if !strings.EqualFold(tok.inst.account.login, c.params["org"]) {
			return nil, errNotFound()
		}
	}
	return s.bucket(instBucketKey(tok.inst.id), s.opts.RateLimit), nil
}

func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// verifyAppJWT checks an RS256 App JWT the way GitHub does.
func (s *Server) verifyAppJWT(raw string) error {
	if s.opts.AppPublicKey == nil {
		return errJWT("A JSON web token could not be decoded")
	}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return errJWT("A JSON web token could not be decoded")
	}
	var header struct {
		Alg string `json:"alg"`
	}
	if err := decodeSegment(parts[0], &header); err != nil || header.Alg != "RS256" {
		return errJWT("A JSON web token could not be decoded")
	}
	var claims struct {
		Iss any         `json:"iss"`
		Iat json.Number `json:"iat"`
		Exp json.Number `json:"exp"`
	}
	if err := decodeSegment(parts[1], &claims); err != nil {
		return errJWT("A JSON web token could not be decoded")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return errJWT("A JSON web token could not be decoded")
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(s.opts.AppPublicKey, crypto.SHA256, sum[:], sig); err != nil {
		return errJWT("A JSON web token could not be decoded")
	}
	iss := fmt.Sprint(claims.Iss)
	if f, isNum := claims.Iss.(float64); isNum {
		iss = strconv.FormatInt(int64(f), 10)
	}
	if iss != strconv.FormatInt(s.opts.AppID, 10) && (s.opts.ClientID == "" || iss != s.opts.ClientID) {
		return errJWT("Integration not found")
	}
	iat, err := claims.Iat.Int64()
	if err != nil {
		return errJWT("'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued.")
	}
	exp, err := claims.Exp.Int64()
	if err != nil {
		return errJWT("'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires.")
	}
	now := time.Now().Unix()
	switch {
	case exp <= now:
		return errJWT("'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires.")
	case iat > now+60:
		return errJWT("'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued.")
	case exp-iat > 600 || exp > now+660:
		return errJWT("'Expiration time' claim ('exp') is too far in the future.")
	}
	return nil
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return fmt.Errorf("decode jwt segment: %w", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decode jwt segment: %w", err)
	}
	return nil
}

// newTokenValue makes a "ghs_" token with 36 random alphanumerics.
func newTokenValue() (string, error) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 36)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("read random: %w", err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "ghs_" + string(b), nil
}

func (s *Server) createAccessToken(c *call) (*response, error) {
	id, err := c.intParam("installation_id")
	if err != nil {
		return nil, err
	}
	in, found := s.insts[id]
	if !found {
		return nil, errNotFound()
	}
	var req struct {
		Repositories  []string          `json:"repositories"`
		RepositoryIDs []int64           `json:"repository_ids"`
		Permissions   map[string]string `json:"permissions"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	tok := &token{inst: in, expires: s.now().Add(s.opts.TokenTTL).Truncate(time.Second), permissions: maps.Clone(in.permissions)}
	var narrowed []*repo
	if len(req.Repositories) > 0 || len(req.RepositoryIDs) > 0 {
		tok.repos = map[string]bool{}
		for _, name := range req.Repositories {
			r, err := s.repoLocked(in.account.login + "/" + name)
			if err != nil || !in.covers(r) {
				return nil, errStatus(http.StatusUnprocessableEntity, "There is at least one repository that does not exist or is not accessible to the parent installation.")
			}
			tok.repos[strings.ToLower(r.fullName())] = true
			narrowed = append(narrowed, r)
		}
		for _, rid := range req.RepositoryIDs {
			r := s.repoByID(rid)
			if r == nil || !in.covers(r) {
				return nil, errStatus(http.StatusUnprocessableEntity, "There is at least one repository that does not exist or is not accessible to the parent installation.")
			}
			tok.repos[strings.ToLower(r.fullName())] = true
			narrowed = append(narrowed, r)
		}
	}
	if len(req.Permissions) > 0 {
		tok.permissions = map[string]string{}
		for k, v := range req.Permissions {
			have := in.permissions[k]
			if have == "" || (v == "write" && have != "write" && have != "admin") {
				return nil, errStatus(http.StatusUnprocessableEntity, "The permissions requested are not granted to this installation.")
			}
			tok.permissions[k] = v
		}
	}
	tok.value, err = newTokenValue()
	if err != nil {
		return nil, err
	}
	s.tokens[tok.value] = tok
	s.issued++
	body := map[string]any{
		"token":                tok.value,
		"expires_at":           ts(tok.expires),
		"permissions":          tok.permissions,
		"repository_selection": "all",
	}
	if !in.all || tok.repos != nil {
		body["repository_selection"] = "selected"
	}
	if narrowed != nil {
		list := make([]any, 0, len(narrowed))
		for _, r := range narrowed {
			list = append(list, s.repoJSON(r, repoREST))
		}
		body["repositories"] = list
	}
	return created(body)
}

func (s *Server) repoByID(id int64) *repo {
	for _, r := range s.repos {
		if r.id == id {
			return r
		}
	}
	return nil
}

// IssueToken creates an installation token without an App JWT, for tests
// and demos that clone or call the API directly. TokensIssued does not count
// it.
func (s *Server) IssueToken(installationID int64) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, found := s.insts[installationID]
	if !found {
		return "", fmt.Errorf("issue token for installation %d: %w", installationID, ErrNotFound)
	}
	value, err := newTokenValue()
	if err != nil {
		return "", fmt.Errorf("issue token: %w", err)
	}
	s.tokens[value] = &token{value: value, inst: in, expires: s.now().Add(s.opts.TokenTTL), permissions: maps.Clone(in.permissions)}
	return value, nil
}

// TokensIssued counts the installation tokens created through
// POST /app/installations/{installation_id}/access_tokens.
func (s *Server) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issued
}

// ExpireTokens makes every installation token issued so far invalid, as if
// an hour had passed.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tokens {
		t.expires = s.now().Add(-time.Second)
	}
}

// installationJSON renders an installation like GET /app/installations.
func (s *Server) installationJSON(in *installation) map[string]any {
	sel := "selected"
	if in.all {
		sel = "all"
	}
	return map[string]any{
		"id":                        in.id,
		"account":                   s.userJSON(in.account),
		"repository_selection":      sel,
		"access_tokens_url":         fmt.Sprintf("%s/app/installations/%d/access_tokens", s.url, in.id),
		"repositories_url":          s.url + "/installation/repositories",
		"html_url":                  fmt.Sprintf("%s/settings/installations/%d", s.url, in.id),
		"app_id":                    s.opts.AppID,
		"app_slug":                  s.opts.AppSlug,
		"target_id":                 in.account.id,
		"target_type":               in.account.kind,
		"permissions":               in.permissions,
		"events":                    in.events,
		"created_at":                ts(in.created),
		"updated_at":                ts(in.created),
		"single_file_name":          nil,
		"has_multiple_single_files": false,
		"single_file_paths":         []string{},
		"suspended_by":              nil,
		"suspended_at":              nil,
	}
}

func (s *Server) sortedInstallations() []*installation {
	ids := slices.Sorted(maps.Keys(s.insts))
	out := make([]*installation, 0, len(ids))
	for _, id := range ids {
		out = append(out, s.insts[id])
	}
	return out
}

func (s *Server) listInstallations(c *call) (*response, error) {
	list := []any{}
	for _, in := range paginate(c, s.sortedInstallations()) {
		list = append(list, s.installationJSON(in))
	}
	return ok(list)
}

func (s *Server) getInstallation(c *call) (*response, error) {
	id, err := c.intParam("installation_id")
	if err != nil {
		return nil, err
	}
	in, found := s.insts[id]
	if !found {
		return nil, errNotFound()
	}
	return ok(s.installationJSON(in))
}

func (s *Server) getRepoInstallation(c *call) (*response, error) {
	return ok(s.installationJSON(s.installationFor(c.repo)))
}

func (s *Server) getApp(c *call) (*response, error) {
	return ok(s.appJSON())
}

func (s *Server) listInstallationRepos(c *call) (*response, error) {
	var repos []*repo
	for _, r := range s.sortedRepos() {
		if c.tok.covers(r) {
			repos = append(repos, r)
		}
	}
	list := []any{}
	for _, r := range paginate(c, repos) {
		list = append(list, s.repoJSON(r, repoREST))
	}
	sel := "selected"
	if c.inst.all && c.tok.repos == nil {
		sel = "all"
	}
	return ok(map[string]any{"total_count": len(repos), "repositories": list, "repository_selection": sel})
}

func (s *Server) sortedRepos() []*repo {
	out := slices.Collect(maps.Values(s.repos))
	slices.SortFunc(out, func(a, b *repo) int { return int(a.id - b.id) })
	return out
}
