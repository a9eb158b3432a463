package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/wactor/wactor/cluster"
	"github.com/wactor/wactor/gateway"
	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/internal/clusterlink"
	"github.com/wactor/wactor/manifest"
	"github.com/wactor/wactor/metrics"
	"github.com/wactor/wactor/storage"
	"github.com/wactor/wactor/storage/badgerstore"
	"github.com/wactor/wactor/storage/memstore"
)

// HTTP server limits. WriteTimeout is computed from the asks' timeouts.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 64 << 10
	// writeMargin is added to the longest ask timeout to give WriteTimeout,
	// so that an ask fails with its own timeout error, not a cut connection.
	writeMargin = 10 * time.Second
	// closeTimeout bounds each step of a graceful shutdown.
	closeTimeout = 30 * time.Second
)

// serveFlags are the flags of run.
type serveFlags struct {
	file     string
	httpAddr string
	dataDir  string
	// cacheDir is the compile cache folder (--cache-dir); "": the
	// default of the store (see cacheFolder).
	cacheDir string
	logLevel string
	// tokenFile holds the control plane's token (--token-file); it wins
	// over $WACTOR_TOKEN and the manifest.
	tokenFile string
	// insecureNoToken lets a node without a token listen beyond loopback.
	insecureNoToken bool
	// clusterFlags place the node in the manifest's cluster.
	clusterFlags
	// reload, when it delivers, rereads the manifest and deploys what
	// changed (SIGHUP); nil: never.
	reload <-chan os.Signal
}

func (f *serveFlags) declare(fs *flag.FlagSet) {
	fs.StringVar(&f.file, "f", "wactor.yaml", "the manifest `FILE`")
	fs.StringVar(&f.httpAddr, "http-addr", "", "listen on `ADDR` (host:port; port 0 picks a free port) instead of the manifest's http.addr")
	fs.StringVar(&f.dataDir, "data-dir", "", "keep the badger store in `DIR` instead of the manifest's storage.path")
	fs.StringVar(&f.cacheDir, "cache-dir", "", "keep compiled modules in `DIR` (default: the data folder's cache/, or the user cache folder's wactor/ with storage kind memory)")
	fs.StringVar(&f.logLevel, "log-level", "info", "log `LEVEL`: debug, info, warn or error")
	fs.StringVar(&f.tokenFile, "token-file", "", "require the bearer token in `FILE` on the control plane (before $"+tokenEnv+" and the manifest's http.token_file)")
	fs.BoolVar(&f.insecureNoToken, "insecure-no-token", false, "serve the control plane without a token on a non-loopback address (anyone who reaches it may replay and delete dead letters)")
	f.clusterFlags.declare(fs)
}

func setupServe(fs *flag.FlagSet) runner {
	f := new(serveFlags)
	f.declare(fs)
	return func(args []string, stdout, stderr io.Writer) int {
		if len(args) > 0 {
			return usageError(stderr, "run", "unexpected argument %q; name the manifest with -f", args[0])
		}
		sigs := make(chan os.Signal, 2)
		signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
		defer signal.Stop(sigs)
		hups := make(chan os.Signal, 1)
		signal.Notify(hups, syscall.SIGHUP)
		defer signal.Stop(hups)
		f.reload = hups
		return f.serve(sigs, stderr, nil)
	}
}

// serve runs wactor until a signal arrives on sigs: the first one stops it
// gracefully, a second one makes serve return exitFail at once. listening,
// when not nil, is called with the gateway's address once it is ready.
func (f *serveFlags) serve(sigs <-chan os.Signal, stderr io.Writer, listening func(net.Addr)) int {
	log, err := newLogger(stderr, f.logLevel)
	if err != nil {
		return usageError(stderr, "run", "%v", err)
	}
	stop := make(chan struct{}) // closed at the first signal
	result := make(chan int, 1)
	go func() { result <- f.serveUntil(stop, log, stderr, listening) }()
	stopping := false
	for {
		select {
		case code := <-result:
			return code
		case sig := <-sigs:
			if !stopping {
				stopping = true
				log.Info("shutting down; a second signal exits at once", "signal", sig.String())
				close(stop)
				continue
			}
			log.Warn("exiting at once", "signal", sig.String())
			return exitFail
		}
	}
}

// hostConfig is the configuration of the host the manifest describes.
func hostConfig(m *manifest.Manifest, st storage.Store, cacheDir string, log *slog.Logger) host.Config {
	return host.Config{Store: st, CacheDir: cacheDir, Logger: log, RecordRetention: m.Storage.IdempotencyRetention,
		MaxActivations:     m.MaxActivations,
		MaxGuestMemory:     int64(m.MaxGuestMemory.Bytes),
		GuestMemoryPercent: m.MaxGuestMemory.Percent,
		MaxDeadLetters:     m.DeadLetters.MaxCount,
		MaxDeadLetterBytes: int64(m.DeadLetters.MaxBytes),
	}
}

// serveUntil starts wactor, serves until stop is closed, and shuts down.
func (f *serveFlags) serveUntil(stop <-chan struct{}, log *slog.Logger, stderr io.Writer, listening func(net.Addr)) int {
	m, err := loadManifest(f.file, stderr)
	if err != nil {
		return exitUsage
	}
	addr := m.HTTP.Addr
	if f.httpAddr != "" {
		addr = f.httpAddr
	}
	if err := checkDataDir(m, f.dataDir); err != nil {
		return usageError(stderr, "run", "%v", err)
	}
	tok, err := f.controlPlane(m, addr, log)
	if err != nil {
		return usageError(stderr, "run", "%v", err)
	}
	natsDir, dropNATSDir, err := natsDataDir(m, f.dataDir)
	if err != nil {
		return usageError(stderr, "run", "%v", err)
	}
	defer dropNATSDir()
	ccfg, err := f.clusterConfig(m, natsDir, log)
	if err != nil {
		return usageError(stderr, "run", "%v", err)
	}

	// The cluster comes first: a store on JetStream will need it.
	node, err := startCluster(ccfg, stop, log)
	if err != nil {
		if errors.Is(err, errStopped) {
			log.Info("stopped before ready")
			return exitOK
		}
		log.Error("starting the cluster node", "err", err)
		return exitFail
	}
	ctx := context.Background()
	tr, err := startTracing(ctx, m, log)
	if err != nil {
		return usageError(stderr, "run", "%v", err)
	}
	defer stopTracing(tr, log) // after the host: its last spans go too
	var st storage.Store
	if node != nil {
		st, err = openClusterStore(ctx, m, node, log)
	} else {
		st, err = openStore(m, f.dataDir, log)
	}
	if err != nil {
		log.Error("opening the store", "err", err)
		closeCluster(node, log)
		return exitFail
	}
	cacheDir := cacheFolder(m, f.dataDir, f.cacheDir)
	log.Info("compile cache", "dir", cacheDir)
	hcfg := hostConfig(m, st, cacheDir, log)
	if node != nil {
		// One activation of each actor in the cluster: leases, and the
		// fence on every commit (see docs/cluster.md).
		hcfg.Node, hcfg.LeaseTTL = node.NodeName(), node.LeaseTTL()
		// Activations move to the nodes that now prefer them, and
		// reminders fire where their actors are owned.
		hcfg.Placement = node.Placement()
		// Any node reaches any actor: messages to actors another node
		// serves go there (see docs/cluster.md, "Routing").
		hcfg.Remote = clusterlink.New(node)
	}
	var mx *metrics.Metrics // nil: metrics off
	if m.Metrics.Enabled {
		mx = metrics.New(metrics.Options{Logger: log})
		hcfg.Observer = mx
	}
	hcfg.TracerProvider = tr.Provider
	h, err := host.New(ctx, hcfg)
	if err != nil {
		log.Error("starting the host", "err", err)
		closeStore(st, log)
		closeCluster(node, log)
		return exitFail
	}
	// closeAll closes the host, then the store, then leaves the cluster,
	// and reports whether all closed cleanly.
	closeAll := func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
		defer cancel()
		ok := true
		if err := h.Close(ctx); err != nil {
			log.Error("closing the host", "err", err)
			ok = false
		}
		ok = closeStore(st, log) && ok
		return closeCluster(node, log) && ok
	}
	stopped := func() bool {
		select {
		case <-stop:
			return true
		default:
			return false
		}
	}
	// The health checks answer while the types are deployed (compiling a
	// standard-Go guest takes seconds when it is not in the cache); the
	// other routes answer 503 until the host is started.
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Error("cannot listen", "addr", addr, "err", err)
		closeAll()
		return exitFail
	}
	maxConns := connectionLimit()
	ln = limitConnections(ln, maxConns)
	gcfg := gateway.Config{MaxBody: int64(m.HTTP.MaxBody), Logger: log, Token: tok.value, TracerProvider: tr.Provider,
		LoopbackHostOnly: tok.value == "" && isLoopback(addr)}
	if node != nil {
		gcfg.Cluster = clusterStatus{node}
	}
	if mx != nil {
		mx.Watch(h)
		gcfg.Metrics, gcfg.Observer = mx.Handler(), mx
	}
	gw := gateway.New(h, gcfg)
	gw.SetProgress(0, len(m.Actors))
	srv := &http.Server{
		Handler:           gw,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      longestAsk(m) + writeMargin,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("starting: /healthz answers, /readyz reports progress", "addr", ln.Addr().String(), "types", len(m.Actors), "max_connections", maxConns)
	// stopServer closes the listener and the connections at once: nothing
	// but the health checks was served yet.
	stopServer := func() {
		if err := srv.Close(); err != nil {
			log.Warn("closing the HTTP server", "err", err)
		}
	}
	if node != nil {
		if err := node.Join(ctx, ln.Addr().String(), func() int { return len(h.Activations()) }); err != nil {
			log.Error("joining the cluster", "err", err)
			stopServer()
			closeAll()
			return exitFail
		}
	}

	// A signal while deploying stops wactor before it is ready.
	deployed := make(fingerprints)
	if err := deployed.deploy(ctx, h, m, log, stopped, gw.SetProgress); err != nil {
		stopServer()
		if errors.Is(err, errStopped) {
			ok := closeAll()
			log.Info("stopped before ready")
			return exitCode(ok)
		}
		log.Error("deploying", "err", err)
		closeAll()
		return exitFail
	}
	if err := h.Start(ctx); err != nil {
		log.Error("starting the host", "err", err)
		stopServer()
		closeAll()
		return exitFail
	}
	if node != nil {
		// Other nodes' asks and deliveries reach this host from now on.
		if err := clusterlink.Serve(node, h); err != nil {
			log.Error("serving the other nodes", "err", err)
			stopServer()
			closeAll()
			return exitFail
		}
	}
	gw.SetReady(true)
	setClusterState(node, cluster.StateActive, log)
	deploys := followDeploys(node, m) // stopped before the cluster closes
	defer deploys.stop()
	log.Info("listening", "addr", ln.Addr().String(), "manifest", f.file, "types", len(m.Actors))
	if listening != nil {
		listening(ln.Addr())
	}

	for running := true; running; {
		select {
		case <-stop:
			running = false
		case <-f.reload:
			deployed.reload(ctx, h, f.file, deploys, log)
		case mod := <-deploys.modules():
			deploys.follow(ctx, h, deployed, mod, log)
		case err := <-served:
			log.Error("the HTTP server stopped", "err", err)
			gw.SetReady(false)
			deploys.stop()
			closeAll()
			return exitFail
		}
	}
	// Refuse new work, let the requests in flight finish, then stop the
	// actors, close the store and leave the cluster.
	gw.SetReady(false)
	setClusterState(node, cluster.StateLeaving, log)
	ok := true
	shutdownCtx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	if node != nil {
		// Leaving: the other nodes no longer place actors here; each
		// activation finishes the messages it has, deactivates and
		// releases its lease, so that its new owner claims it at once.
		if err := h.HandOver(shutdownCtx); err != nil {
			log.Warn("handing the actors over", "err", err)
		}
	}
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.Error("stopping the HTTP server", "err", err)
		ok = false
	}
	deploys.stop()
	ok = closeAll() && ok
	if ok {
		log.Info("stopped")
	}
	return exitCode(ok)
}

// loadManifest loads the manifest file, and prints its problems to stderr
// when it cannot.
func loadManifest(file string, stderr io.Writer) (*manifest.Manifest, error) {
	m, err := manifest.Load(file)
	if err != nil {
		var list manifest.ErrorList
		switch {
		case errors.As(err, &list):
			fmt.Fprintln(stderr, list.Error())
		case errors.Is(err, fs.ErrNotExist):
			fmt.Fprintf(stderr, "wactor: %v; name the manifest with -f FILE (see docs/manifest.md)\n", err)
		default:
			fmt.Fprintf(stderr, "wactor: %v\n", err)
		}
	}
	return m, err
}

// controlPlane returns the token the control plane requires (the zero
// token: none), and refuses to serve it open beyond loopback unless
// --insecure-no-token says so. It logs how the control plane is guarded.
func (f *serveFlags) controlPlane(m *manifest.Manifest, addr string, log *slog.Logger) (token, error) {
	tok, err := serverToken(f.tokenFile, m)
	if err != nil {
		return token{}, err
	}
	loopback := isLoopback(addr)
	switch {
	case tok.value != "" && f.insecureNoToken:
		return token{}, fmt.Errorf("--insecure-no-token, yet a token is set by %s; drop one of the two", tok.from)
	case tok.value != "":
		if tok.file != "" {
			if fi, err := os.Stat(tok.file); err == nil && fi.Mode().Perm()&0o077 != 0 {
				log.Warn("the token file can be read by other users; chmod 600 it", "file", tok.file, "mode", fi.Mode().Perm().String())
			}
		}
		log.Info("control plane: bearer token required", "token_from", tok.from)
		if !loopback {
			log.Info("the token crosses the network in clear: wactor serves plain HTTP; beyond a trusted network put a TLS proxy in front", "addr", addr)
		}
	case !loopback && !f.insecureNoToken:
		return token{}, fmt.Errorf("%s listens beyond this machine and %w", addr, errNoToken)
	case !loopback:
		log.Warn("control plane open to the network: no token and --insecure-no-token; anyone who reaches the address can list, replay and delete dead letters", "addr", addr)
	default:
		log.Info("control plane open: no token set; it listens on loopback only", "addr", addr)
	}
	return tok, nil
}

func exitCode(ok bool) int {
	if ok {
		return exitOK
	}
	return exitFail
}

// errStopped: a signal arrived while deploying.
var errStopped = errors.New("stopped by a signal")

// checkDataDir refuses --data-dir with a store that keeps nothing on disk
// (and no embedded NATS server to keep its files there), saying why,
// rather than ignore it.
func checkDataDir(m *manifest.Manifest, dataDir string) error {
	if dataDir == "" || m.Storage.Kind == manifest.StorageBadger || embedsNATS(m) {
		return nil
	}
	return fmt.Errorf("--data-dir %s: %s says storage kind %s, which keeps the state in memory and nothing on disk, so the folder would go unused; "+
		"drop --data-dir, or set storage.kind: badger to keep the state there (--cache-dir names the compile cache's folder)", dataDir, m.File, m.Storage.Kind)
}

// embedsNATS reports whether the node of m runs an embedded NATS server.
func embedsNATS(m *manifest.Manifest) bool { return m.Cluster != nil && m.Cluster.NATSURL == "" }

// natsDataDir is the folder the embedded NATS server keeps JetStream's
// files under (its nats/ subfolder): the data folder (--data-dir, else
// badger's storage.path), else, with storage kind memory, a temporary
// folder that drop removes.
func natsDataDir(m *manifest.Manifest, dataDir string) (dir string, drop func(), err error) {
	switch {
	case !embedsNATS(m):
		return "", func() {}, nil
	case dataDir != "":
		return dataDir, func() {}, nil
	case m.Storage.Kind == manifest.StorageBadger:
		return badgerDir(m, ""), func() {}, nil
	}
	tmp, err := os.MkdirTemp("", "wactor-nats-")
	if err != nil {
		return "", nil, fmt.Errorf("a folder for the embedded NATS server (storage kind memory and no --data-dir): %w", err)
	}
	return tmp, func() { os.RemoveAll(tmp) }, nil
}

// setClusterState writes the node's state in the member list at once;
// a failure is logged (the next heartbeat carries it). n may be nil.
func setClusterState(n *cluster.Node, s cluster.State, log *slog.Logger) {
	if n == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := n.SetState(ctx, s); err != nil {
		log.Warn("cluster: writing the node's state; the next heartbeat carries it", "state", string(s), "err", err)
	}
}

// openStore opens the store the manifest names (in dataDir when set).
func openStore(m *manifest.Manifest, dataDir string, log *slog.Logger) (storage.Store, error) {
	if m.Storage.Kind == manifest.StorageMemory {
		log.Info("storage: memory; state is lost on exit")
		return memstore.New(), nil
	}
	dir := badgerDir(m, dataDir)
	st, err := badgerstore.Open(dir, badgerstore.Options{Sync: m.Storage.Sync, Logger: log})
	if err != nil {
		return nil, err
	}
	log.Info("storage: badger", "dir", dir, "sync", m.Storage.Sync)
	return st, nil
}

// badgerDir is badger's data folder: dataDir when set, else the
// manifest's storage.path.
func badgerDir(m *manifest.Manifest, dataDir string) string {
	if dataDir != "" {
		return dataDir
	}
	return m.Storage.Path
}

// cacheFolder is the compile cache folder: cacheDir (--cache-dir) when
// set, else cache/ in badger's data folder, else (storage kind memory)
// wactor/ in the user's cache folder ($XDG_CACHE_HOME or ~/.cache on
// Linux), or "" (compile in memory only) when there is none.
func cacheFolder(m *manifest.Manifest, dataDir, cacheDir string) string {
	switch {
	case cacheDir != "":
		return cacheDir
	case m.Storage.Kind == manifest.StorageBadger:
		return filepath.Join(badgerDir(m, dataDir), "cache")
	}
	if dir, err := os.UserCacheDir(); err == nil {
		return filepath.Join(dir, "wactor")
	}
	return ""
}

func closeStore(st storage.Store, log *slog.Logger) bool {
	if err := st.Close(); err != nil {
		log.Error("closing the store", "err", err)
		return false
	}
	return true
}

// fingerprints remembers what each deployed type was deployed from (its
// module's bytes and its manifest settings), so that a reload deploys only
// the types that changed.
type fingerprints map[string][sha256.Size]byte

func fingerprint(a manifest.Actor, wasm []byte) [sha256.Size]byte {
	h := sha256.New()
	h.Write(wasm)
	fmt.Fprintf(h, "%+v", a) // maps print sorted, so equal settings print equal
	return [sha256.Size]byte(h.Sum(nil))
}

// deploy deploys every actor type of the manifest, GOMAXPROCS at a time
// (compiling is CPU-bound), calling progress after each with how many are
// deployed. It stops at the first error, and returns errStopped as soon as
// stopped reports true; the deploys under way finish first.
func (fp fingerprints) deploy(ctx context.Context, h *host.Host, m *manifest.Manifest, log *slog.Logger, stopped func() bool, progress func(deployed, types int)) error {
	start := time.Now()
	workers := min(runtime.GOMAXPROCS(0), len(m.Actors))
	var (
		mu    sync.Mutex
		next  int   // the index of the next type to deploy
		done  int   // how many are deployed
		first error // the first error; no new deploy starts once set
		wg    sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			for {
				mu.Lock()
				if first == nil && stopped() {
					first = errStopped
				}
				if first != nil || next == len(m.Actors) {
					mu.Unlock()
					return
				}
				a := m.Actors[next]
				next++
				mu.Unlock()
				sum, err := deployType(ctx, h, a, log)
				mu.Lock()
				if err != nil && first == nil {
					first = err
				} else if err == nil {
					fp[a.Type] = sum
					done++
					progress(done, len(m.Actors))
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if first == nil {
		log.Info("deployed every type", "types", len(m.Actors), "parallel", workers, "took", time.Since(start).Round(time.Millisecond).String())
	}
	return first
}

// deployOne deploys a when it differs from what its type was deployed
// from, and reports whether it did.
func (fp fingerprints) deployOne(ctx context.Context, h *host.Host, a manifest.Actor, log *slog.Logger) ([]byte, bool, error) {
	wasm, err := os.ReadFile(a.Module)
	if err != nil {
		return nil, false, fmt.Errorf("type %s: %w", a.Type, err)
	}
	if old, ok := fp[a.Type]; ok && old == fingerprint(a, wasm) {
		return wasm, false, nil
	}
	sum, err := deployType(ctx, h, a, log)
	if err != nil {
		return nil, false, err
	}
	fp[a.Type] = sum
	return wasm, true, nil
}

// deployType deploys a, logs how long it took and whether the compile
// cache had it, and returns what it was deployed from.
func deployType(ctx context.Context, h *host.Host, a manifest.Actor, log *slog.Logger) ([sha256.Size]byte, error) {
	wasm, err := os.ReadFile(a.Module)
	if err != nil {
		return [sha256.Size]byte{}, fmt.Errorf("type %s: %w", a.Type, err)
	}
	start := time.Now()
	stats, err := h.DeployReport(ctx, typeConfig(a, wasm))
	if err != nil {
		return [sha256.Size]byte{}, err
	}
	cache := "miss"
	if stats.CacheHit {
		cache = "hit"
	}
	log.Info("deployed", "type", a.Type, "module", a.Module, "bytes", len(wasm),
		"compile_ms", stats.Compile.Milliseconds(), "cache", cache, "took", time.Since(start).Round(time.Millisecond).String())
	return fingerprint(a, wasm), nil
}

// reload rereads the manifest and deploys, live, each type whose module or
// settings changed and each new type. What it cannot apply is logged and
// leaves the running version in place: a manifest with errors changes
// nothing, a module that does not load keeps its type on the old one, and
// a type no longer listed stays deployed until wactor restarts (its actors
// may have state and reminders). Storage and HTTP settings need a restart.
// In a cluster (cd not nil) each module deployed is published, so that
// every node deploys it.
func (fp fingerprints) reload(ctx context.Context, h *host.Host, file string, cd *clusterDeploys, log *slog.Logger) {
	log.Info("reloading the manifest", "manifest", file)
	m, err := manifest.Load(file)
	if err != nil {
		log.Error("reload: the manifest has errors; nothing changed", "err", err)
		return
	}
	cd.setManifest(m)
	changed, failed := 0, 0
	listed := make(map[string]bool, len(m.Actors))
	for _, a := range m.Actors {
		listed[a.Type] = true
		wasm, did, err := fp.deployOne(ctx, h, a, log)
		switch {
		case err != nil:
			failed++
			log.Error("reload: the type keeps its running version", "type", a.Type, "err", err)
		case did:
			changed++
			cd.publish(ctx, a, wasm, log)
		}
	}
	for typ := range fp {
		if !listed[typ] {
			log.Warn("reload: the type is no longer in the manifest; it stays deployed until restart", "type", typ)
		}
	}
	log.Info("reloaded", "deployed", changed, "failed", failed, "unchanged", len(m.Actors)-changed-failed)
}

// longestAsk is the longest ask timeout of the manifest's types: an HTTP
// ask waits at most that long.
func longestAsk(m *manifest.Manifest) time.Duration {
	d := host.DefaultAskTimeout
	for _, a := range m.Actors {
		d = max(d, a.AskTimeout)
	}
	return d
}

// newLogger logs to w at level: text when w is a terminal, JSON otherwise.
func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: l}
	if isTerminal(w) {
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return slog.New(slog.NewJSONHandler(w, opts)), nil
}

// isTerminal reports whether w is a character device such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0 && !strings.EqualFold(os.Getenv("TERM"), "dumb")
}

// dirGrants maps the folders a manifest grants a type to the host's form.
// typeConfig is the host's configuration of actor type a, whose module
// is wasm: what run deploys and inspect checks against.
func typeConfig(a manifest.Actor, wasm []byte) host.TypeConfig {
	return host.TypeConfig{
		Name:            a.Type,
		Module:          wasm,
		Source:          a.Module,
		Mailbox:         a.Mailbox,
		MaxMessage:      int64(a.MaxMessage),
		MaxMemory:       int64(a.MaxMemory),
		MaxTableEntries: int64(a.MaxTableEntries),
		TurnTimeout:     a.TurnTimeout,
		IdleTimeout:     a.IdleTimeout,
		AskTimeout:      a.AskTimeout,
		Env:             a.Env,
		Dirs:            dirGrants(a.Dirs),
		StatelessWorker: a.StatelessWorker.MaxLocal,
		ReadOnly:        a.ReadOnly,
		Subscriptions:   implicitSubscriptions(a.Subscriptions),
		Reentrant:       a.Reentrant == manifest.ReentrantCallChain,
	}
}

func implicitSubscriptions(subs []manifest.Subscription) []host.ImplicitSubscription {
	var out []host.ImplicitSubscription
	for _, s := range subs {
		out = append(out, host.ImplicitSubscription{Topic: s.Topic, Method: s.Method, ID: s.ID})
	}
	return out
}

func dirGrants(dirs []manifest.Dir) []host.DirGrant {
	var out []host.DirGrant
	for _, d := range dirs {
		out = append(out, host.DirGrant{HostPath: d.Host, GuestPath: d.Guest, ReadOnly: d.Mode != manifest.DirReadWrite})
	}
	return out
}
