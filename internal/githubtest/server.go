package githubtest

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Options configures a Server. The zero value serves the human actions,
// webhooks and inspection; REST and git access need AppID and AppPublicKey,
// since every installation token is obtained with an App JWT (or with
// IssueToken).
type Options struct {
	// AppID is the GitHub App's numeric id; App JWTs must carry it as issuer.
	AppID int64
	// AppSlug names the App; its bot user is "<slug>[bot]". Default "gitvend".
	AppSlug string
	// AppName is the App's display name. Default: the slug.
	AppName string
	// AppOwner is the login of the account that owns the App. Default "gitvend-dev".
	AppOwner string
	// ClientID is accepted as JWT issuer besides AppID when set.
	ClientID string
	// AppPublicKey verifies the RS256 signature of App JWTs.
	AppPublicKey *rsa.PublicKey
	// WebhookURL receives webhook deliveries; empty records them as undelivered.
	WebhookURL string
	// WebhookSecret signs deliveries (X-Hub-Signature-256).
	WebhookSecret string
	// Now is the server's clock for timestamps and token expiry. Default time.Now.
	// App JWT lifetimes are checked against the real time, since clients sign
	// them with it.
	Now func() time.Time
	// TokenTTL is the lifetime of installation tokens. Default one hour.
	TokenTTL time.Duration
	// RateLimit is the primary rate limit per installation per hour. Default 5000.
	RateLimit int
	// Dir holds the bare repositories. Default: a temporary directory removed by Close.
	Dir string
	// GitPath is the git executable. Default: "git" from PATH.
	GitPath string
	// Logger receives diagnostics. Default: discard.
	Logger *slog.Logger
}

// Server is a running GitHub test double. All methods are safe for
// concurrent use.
type Server struct {
	opts      Options
	log       *slog.Logger
	now       func() time.Time
	url       string
	root      string
	ownsRoot  bool
	gitPath   string
	ln        net.Listener
	srv       *http.Server
	routes    []route
	hooks     *hookQueue
	closeOnce sync.Once

	started time.Time

	mu     sync.Mutex
	nextID int64
	users  map[string]*user
	repos  map[string]*repo
	teams  map[string]map[string]bool
	insts  map[int64]*installation
	tokens map[string]*token
	issued int
	calls  CallStats
	rate   map[string]*rateBucket
	faults Faults
	rng    *rand.Rand
}

// New starts a Server on 127.0.0.1 like httptest.NewServer does, and panics
// when the machine cannot provide a loopback listener, a temporary directory
// or a git executable. Use Start to get an error instead.
func New(opts Options) *Server {
	s, err := Start(opts)
	if err != nil {
		panic(fmt.Sprintf("githubtest: %v", err))
	}
	return s
}

// Start starts a Server on 127.0.0.1.
func Start(opts Options) (*Server, error) {
	if opts.AppSlug == "" {
		opts.AppSlug = "gitvend"
	}
	if opts.AppName == "" {
		opts.AppName = opts.AppSlug
	}
	if opts.AppOwner == "" {
		opts.AppOwner = "gitvend-dev"
	}
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = time.Hour
	}
	if opts.RateLimit <= 0 {
		opts.RateLimit = 5000
	}
	s := &Server{
		opts:   opts,
		log:    opts.Logger,
		now:    opts.Now,
		nextID: 1000,
		users:  map[string]*user{},
		repos:  map[string]*repo{},
		teams:  map[string]map[string]bool{},
		insts:  map[int64]*installation{},
		tokens: map[string]*token{},
		calls:  newCallStats(),
		rate:   map[string]*rateBucket{},
		rng:    rand.New(rand.NewPCG(1, 2)),
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.started = s.now().UTC().Truncate(time.Second)
	gitPath := opts.GitPath
	if gitPath == "" {
		gitPath = "git"
	}
	p, err := exec.LookPath(gitPath)
	if err != nil {
		return nil, fmt.Errorf("find git: %w", err)
	}
	s.gitPath = p
	s.root = opts.Dir
	if s.root == "" {
		dir, err := os.MkdirTemp("", "githubtest-")
		if err != nil {
			return nil, fmt.Errorf("create repository directory: %w", err)
		}
		s.root = dir
		s.ownsRoot = true
	} else if err := os.MkdirAll(s.root, 0o755); err != nil {
		return nil, fmt.Errorf("create repository directory: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.removeRoot()
		return nil, fmt.Errorf("listen on loopback: %w", err)
	}
	s.ln = ln
	s.url = "http://" + ln.Addr().String()
	s.routes = s.routeTable()
	s.hooks = newHookQueue(opts.WebhookURL, opts.WebhookSecret, opts.AppID, s.log)
	s.users[strings.ToLower(opts.AppOwner)] = &user{login: opts.AppOwner, id: s.newID(), kind: "Organization"}
	bot := s.botLogin()
	s.users[strings.ToLower(bot)] = &user{login: bot, id: s.newID(), kind: "Bot"}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("serve", "err", err)
		}
	}()
	return s, nil
}

// URL is the base URL of the server, without a trailing slash: REST calls go
// to URL()+"/repos/..." (or URL()+"/api/v3/repos/..."), git to
// URL()+"/{owner}/{repo}.git".
func (s *Server) URL() string { return s.url }

// CloneURL is the smart-HTTP URL of a repository given as "owner/name".
func (s *Server) CloneURL(fullName string) string { return s.url + "/" + fullName + ".git" }

// BotLogin is the login of the App's bot user, "<slug>[bot]".
func (s *Server) BotLogin() string { return s.botLogin() }

// BotUserID is the id of the App's bot user, which differs from the App's
// id, as on GitHub; commits authored as
// "<id>+<slug>[bot]@users.noreply.github.com" are linked to the bot user.
func (s *Server) BotUserID() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.userLocked(s.botLogin()).id
}

func (s *Server) botLogin() string { return s.opts.AppSlug + "[bot]" }

// Close stops the server, waits for in-flight webhook deliveries to end and
// removes the repositories when the server created their directory.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.hooks.close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.srv.Shutdown(ctx); err != nil {
			_ = s.srv.Close()
		}
		s.removeRoot()
	})
}

func (s *Server) removeRoot() {
	if s.ownsRoot {
		if err := os.RemoveAll(s.root); err != nil {
			s.log.Warn("remove repository directory", "dir", s.root, "err", err)
		}
	}
}

func (s *Server) newID() int64 {
	s.nextID++
	return s.nextID
}

// ServeHTTP dispatches git smart-HTTP requests to git http-backend and
// everything else to the REST API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.EscapedPath()
	if rest, ok := strings.CutPrefix(path, "/api/v3"); ok && (rest == "" || strings.HasPrefix(rest, "/")) {
		path = rest
	}
	if owner, name, ok := gitRepoPath(path); ok {
		s.serveGit(w, r, path, owner, name)
		return
	}
	s.serveREST(w, r, path)
}

// gitRepoPath reports whether an escaped path addresses a repository's git
// endpoint: /{owner}/{name}.git[/...].
func gitRepoPath(path string) (owner, name string, ok bool) {
	parts := strings.SplitN(strings.TrimPrefix(path, "/"), "/", 3)
	if len(parts) < 2 || parts[0] == "" || parts[0] == "repos" {
		return "", "", false
	}
	name, found := strings.CutSuffix(parts[1], ".git")
	if !found || name == "" {
		return "", "", false
	}
	return parts[0], name, true
}

// repoDir is where the bare repository of owner/name lives.
func (s *Server) repoDir(owner, name string) string {
	return filepath.Join(s.root, owner, name+".git")
}
