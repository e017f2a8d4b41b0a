package github

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/golang-jwt/jwt/v4"
	gh "github.com/google/go-github/v60/github"
	"github.com/prometheus/client_golang/prometheus"
)

// DefaultAPIURL is GitHub.com's REST API.
const DefaultAPIURL = "https://api.github.com/"

// AppConfig identifies the GitHub App.
type AppConfig struct {
	// APIURL is the REST API base, default https://api.github.com/; for
	// GitHub Enterprise Server something like https://ghe.example/api/v3/.
	APIURL string
	// AppID is the App's numeric id.
	AppID int64
	// PrivateKey is the App's RSA private key in PEM.
	PrivateKey []byte
	// UserAgent is sent with every call. Default "gitvend".
	UserAgent string
}

// Option changes how an App is built.
type Option func(*options)

type options struct {
	log          *slog.Logger
	reg          prometheus.Registerer
	base         http.RoundTripper
	clock        Clock
	policy       RetryPolicy
	cacheBytes   int
	lowRateLimit float64
}

// WithLogger sets the logger; default slog.Default().
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithRegisterer registers the App's metrics on reg; default a private
// registry nobody scrapes.
func WithRegisterer(reg prometheus.Registerer) Option { return func(o *options) { o.reg = reg } }

// WithTransport sets the transport that carries calls to GitHub; default a
// clone of http.DefaultTransport.
func WithTransport(rt http.RoundTripper) Option { return func(o *options) { o.base = rt } }

// WithRetryPolicy sets the retry policy.
func WithRetryPolicy(p RetryPolicy) Option { return func(o *options) { o.policy = p } }

// WithClock sets the time source of waits and backoff.
func WithClock(c Clock) Option { return func(o *options) { o.clock = c } }

// WithCacheSize bounds the conditional request cache, in bytes of bodies;
// default 32 MiB.
func WithCacheSize(bytes int) Option { return func(o *options) { o.cacheBytes = bytes } }

// WithLowRateLimit sets the fraction of the rate limit below which a
// warning is logged, once per window; default 0.1.
func WithLowRateLimit(fraction float64) Option { return func(o *options) { o.lowRateLimit = fraction } }

// installationTTL is how long InstallationForRepo remembers an answer.
const installationTTL = 10 * time.Minute

// App is an authenticated GitHub App. It is safe for concurrent use.
type App struct {
	cfg    AppConfig
	apiURL *url.URL
	key    *rsa.PrivateKey
	sh     *shared
	appGH  *gh.Client

	// publicGH makes unauthenticated calls, for public data such as the
	// bot user's id.
	publicGH *gh.Client

	mu       sync.Mutex
	clients  map[int64]*Client
	repoInst map[string]repoInstallation
	botLogin string
	botUser  BotUser
}

// BotUser is the App's bot user, the account GitHub shows as the author of
// what the App writes.
type BotUser struct {
	// Login is "<slug>[bot]".
	Login string
	// ID is the bot user's own id (not the App's), the one commit emails
	// must carry for GitHub to link commits to the bot.
	ID int64
}

type repoInstallation struct {
	id      int64
	fetched time.Time
}

// NewApp checks cfg and builds an App. No call is made to GitHub.
func NewApp(cfg AppConfig, opts ...Option) (*App, error) {
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	u, err := url.Parse(cfg.APIURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("apiURL %q: want an absolute http or https URL such as %s or https://ghe.example/api/v3/", cfg.APIURL, DefaultAPIURL)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	if cfg.AppID <= 0 {
		return nil, fmt.Errorf("appID %d: want the App's positive numeric id", cfg.AppID)
	}
	if len(cfg.PrivateKey) == 0 {
		return nil, errors.New("privateKey: missing; want the App's RSA private key in PEM")
	}
	key, err := jwt.ParseRSAPrivateKeyFromPEM(cfg.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("privateKey: want an RSA private key in PEM (PKCS#1 or PKCS#8): %w", err)
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "gitvend"
	}
	o := options{log: slog.Default(), cacheBytes: 32 << 20, lowRateLimit: 0.1, clock: realClock{}}
	for _, opt := range opts {
		opt(&o)
	}
	if o.reg == nil {
		o.reg = prometheus.NewRegistry()
	}
	if o.base == nil {
		o.base = http.DefaultTransport
		if t, ok := http.DefaultTransport.(*http.Transport); ok {
			o.base = t.Clone()
		}
	}
	if o.cacheBytes <= 0 {
		return nil, fmt.Errorf("cache size %d: want a positive number of bytes", o.cacheBytes)
	}
	m, err := newMetrics(o.reg)
	if err != nil {
		return nil, fmt.Errorf("register metrics: %w", err)
	}
	a := &App{
		cfg:    cfg,
		apiURL: u,
		key:    key,
		sh: &shared{
			base: o.base, log: o.log, metrics: m, clock: o.clock, policy: o.policy.withDefaults(),
			cache: newETagCache(o.cacheBytes), userAgent: cfg.UserAgent,
			basePath: strings.TrimSuffix(u.Path, "/"), lowRateLimit: o.lowRateLimit,
		},
		clients:  map[int64]*Client{},
		repoInst: map[string]repoInstallation{},
	}
	// The App's own calls are not made conditional: GitHub binds an ETag
	// to the credential, and an App JWT is signed anew for every call.
	a.appGH = a.goGitHub(resetHider{a.appsTransport(a.sh.wire(appIdentity))})
	a.publicGH = a.goGitHub(resetHider{a.sh.wire(publicIdentity)})
	return a, nil
}

// appsTransport signs App JWTs on top of next, the retrying wire of an
// identity.
func (a *App) appsTransport(next http.RoundTripper) *ghinstallation.AppsTransport {
	atr := ghinstallation.NewAppsTransportFromPrivateKey(next, a.cfg.AppID, a.key)
	atr.BaseURL = strings.TrimSuffix(a.apiURL.String(), "/")
	return atr
}

func (a *App) goGitHub(rt http.RoundTripper) *gh.Client {
	c := gh.NewClient(&http.Client{Transport: rt})
	c.BaseURL = a.apiURL
	c.UserAgent = a.cfg.UserAgent
	return c
}

// Installation returns the Client of one installation, made once and
// reused: its installation token is fetched on first use and renewed a
// minute before it expires, or at once when GitHub refuses it.
func (a *App) Installation(ctx context.Context, installationID int64) (*Client, error) {
	if installationID <= 0 {
		return nil, fmt.Errorf("installation id %d: want a positive id", installationID)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if c, ok := a.clients[installationID]; ok {
		return c, nil
	}
	identity := strconv.FormatInt(installationID, 10)
	auth := newInstallationAuth(func() *ghinstallation.Transport {
		// Each token source gets its own AppsTransport: ghinstallation
		// writes to it when refreshing a token.
		// ghinstallation sends the installation's calls through the
		// AppsTransport's wire: the ETag cache sits there, below the
		// token, so that ETags are kept per token.
		itr := ghinstallation.NewFromAppsTransport(a.appsTransport(a.sh.cached(identity, a.sh.wire(identity))), installationID)
		itr.BaseURL = strings.TrimSuffix(a.apiURL.String(), "/")
		return itr
	}, a.sh.log)
	c := &Client{
		app:      a,
		identity: identity,
		id:       installationID,
		auth:     auth,
		gh:       a.goGitHub(auth),
		log:      a.sh.log.With("installation", installationID),
	}
	a.clients[installationID] = c
	return c, nil
}

// Token returns an installation token, for git clone and push over HTTPS
// with user "x-access-token". It is cached and renewed like the Client's.
func (a *App) Token(ctx context.Context, installationID int64) (string, error) {
	c, err := a.Installation(ctx, installationID)
	if err != nil {
		return "", err
	}
	return c.Token(ctx)
}

// InstallationForRepo returns the id of the App's installation on a
// repository (ErrNotFound when the App is not installed there). Answers
// are remembered for ten minutes.
func (a *App) InstallationForRepo(ctx context.Context, owner, repo string) (int64, error) {
	if err := checkRepo(owner, repo); err != nil {
		return 0, err
	}
	key := strings.ToLower(owner + "/" + repo)
	now := a.sh.clock.Now()
	a.mu.Lock()
	ri, ok := a.repoInst[key]
	a.mu.Unlock()
	if ok && now.Sub(ri.fetched) < installationTTL {
		return ri.id, nil
	}
	inst, _, err := a.appGH.Apps.FindRepositoryInstallation(ctx, owner, repo)
	if err != nil {
		return 0, fmt.Errorf("find installation of %s/%s: %w", owner, repo, convertError(err))
	}
	a.mu.Lock()
	a.repoInst[key] = repoInstallation{id: inst.GetID(), fetched: now}
	a.mu.Unlock()
	return inst.GetID(), nil
}

// BotLogin returns the login of the App's bot user, "<slug>[bot]", the
// author of everything the App writes. It is asked once and remembered.
func (a *App) BotLogin(ctx context.Context) (string, error) {
	a.mu.Lock()
	login := a.botLogin
	a.mu.Unlock()
	if login != "" {
		return login, nil
	}
	app, _, err := a.appGH.Apps.Get(ctx, "")
	if err != nil {
		return "", fmt.Errorf("get app: %w", convertError(err))
	}
	if app.GetSlug() == "" {
		return "", errors.New("get app: GitHub answered without a slug")
	}
	login = app.GetSlug() + "[bot]"
	a.mu.Lock()
	a.botLogin = login
	a.mu.Unlock()
	return login, nil
}

// BotUser returns the App's bot user with its id, asked once (GET
// /users/{slug}[bot], public data, asked without credentials) and
// remembered. Commits by the App are authored as
// "<ID>+<Login>@users.noreply.github.com" (gitrepo.BotSignature).
func (a *App) BotUser(ctx context.Context) (BotUser, error) {
	a.mu.Lock()
	bu := a.botUser
	a.mu.Unlock()
	if bu.ID != 0 {
		return bu, nil
	}
	login, err := a.BotLogin(ctx)
	if err != nil {
		return BotUser{}, err
	}
	u, _, err := a.publicGH.Users.Get(ctx, login)
	if err != nil {
		return BotUser{}, fmt.Errorf("get bot user %s: %w", login, convertError(err))
	}
	if !strings.EqualFold(u.GetLogin(), login) || u.GetType() != "Bot" || u.GetID() <= 0 {
		return BotUser{}, fmt.Errorf("get bot user %s: GitHub answered %q of type %q with id %d, want the bot user", login, u.GetLogin(), u.GetType(), u.GetID())
	}
	bu = BotUser{Login: u.GetLogin(), ID: u.GetID()}
	a.mu.Lock()
	a.botUser = bu
	a.mu.Unlock()
	return bu, nil
}

// checkRepo rejects empty or malformed owner and repository names.
func checkRepo(owner, repo string) error {
	if owner == "" || strings.ContainsAny(owner, "/ ") {
		return fmt.Errorf("owner %q: want an account login", owner)
	}
	if repo == "" || strings.ContainsAny(repo, "/ ") {
		return fmt.Errorf("repo %q: want a repository name", repo)
	}
	return nil
}
