package manifest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Version is the manifest format version this package reads. A manifest
// must say "version: 1"; any other version is refused.
const Version = 1

// Defaults applied by [Parse] to every field the manifest leaves out.
const (
	// DefaultHTTPAddr is the address the HTTP gateway listens on.
	DefaultHTTPAddr = "127.0.0.1:8080"
	// DefaultMaxBody is the largest HTTP request body the gateway accepts.
	DefaultMaxBody Size = 1 * MiB
	// DefaultStorageKind is the store used when storage.kind is not set.
	DefaultStorageKind = StorageBadger
	// DefaultStoragePath is the badger data folder, relative to the
	// manifest's folder.
	DefaultStoragePath = "data"
	// DefaultStorageSync says whether commits are made durable (fsync)
	// before a reply is released.
	DefaultStorageSync = true
	// DefaultIdempotencyRetention is how long the reply to a message sent
	// with an idempotency key is kept for retries.
	DefaultIdempotencyRetention = 24 * time.Hour
	// DefaultMailbox is the bounded mailbox size of an activation.
	DefaultMailbox = 1024
	// DefaultMaxMessage is the largest message, reply or state value.
	DefaultMaxMessage Size = 1 * MiB
	// DefaultMaxMemory is the guest memory limit of an activation.
	DefaultMaxMemory Size = 64 * MiB
	// DefaultTurnTimeout is the execution limit of one turn.
	DefaultTurnTimeout = 5 * time.Second
	// DefaultIdleTimeout is how long an activation may stay idle before it
	// is deactivated.
	DefaultIdleTimeout = 5 * time.Minute
	// DefaultAskTimeout is how long an ask made by an actor of the type
	// waits for its reply.
	DefaultAskTimeout = 5 * time.Second
	// DefaultDeadLetterCount is how many dead letters are kept at most.
	DefaultDeadLetterCount = 10_000
	// DefaultDeadLetterBytes is how many bytes of dead letters are kept at
	// most.
	DefaultDeadLetterBytes Size = 64 * MiB
	// DefaultMaxActivations caps the live activations of all types
	// together.
	DefaultMaxActivations = 10_000
	// DefaultGuestMemoryPercent is the guest memory budget, in percent of
	// the machine's memory (its cgroup's limit in a container).
	DefaultGuestMemoryPercent = 25
	// DefaultMetricsEnabled says whether the node keeps Prometheus
	// metrics and serves them at GET /metrics.
	DefaultMetricsEnabled = true
)

// Bounds enforced by [Parse].
const (
	// MaxTypeLen is the longest actor type name, in bytes.
	MaxTypeLen = 64
	// MaxMailbox is the largest mailbox size.
	MaxMailbox = 1_000_000
	// MaxMaxActivations is the largest value of max_activations.
	MaxMaxActivations = 100_000_000
	// MinGuestMemory and MaxGuestMemoryLimit bound max_guest_memory given
	// as a size.
	MinGuestMemory      Size = 1 * MiB
	MaxGuestMemoryLimit Size = 1 << 46
	// MaxBodyLimit is the largest value of http.max_body.
	MaxBodyLimit Size = 1 * GiB
	// MaxMessageLimit is the largest value of max_message.
	MaxMessageLimit Size = 1 * GiB
	// MaxMemoryLimit is the largest value of max_memory: the 32-bit
	// WebAssembly address space.
	MaxMemoryLimit Size = 4 * GiB
	// WasmPageSize is the WebAssembly page size; max_memory must be a
	// multiple of it.
	WasmPageSize Size = 64 * KiB
	// MaxDeadLetterCount is the largest value of dead_letters.max_count.
	MaxDeadLetterCount = 10_000_000
	// MinDeadLetterBytes and MaxDeadLetterBytes bound
	// dead_letters.max_bytes.
	MinDeadLetterBytes Size = 64 * KiB
	MaxDeadLetterBytes Size = 1024 * GiB
	// MaxTableEntriesLimit is the largest value of max_table_entries: the
	// largest table the WebAssembly runtime (wazero) accepts.
	MaxTableEntriesLimit = 1 << 27
	// TableEntryCost is the most host memory, in bytes, one table entry
	// can cost; see [DefaultMaxTableEntries].
	TableEntryCost = 64
)

// DefaultMaxTableEntries is the max_table_entries of a type that does not
// set it: max_memory / [TableEntryCost], so that a guest's tables cost the
// host at most as much again as its memory.
func DefaultMaxTableEntries(maxMemory Size) int {
	return int(min(int64(maxMemory)/TableEntryCost, MaxTableEntriesLimit))
}

// StorageKind names a storage implementation.
type StorageKind string

// The storage kinds a manifest may name.
const (
	// StorageBadger is the embedded, durable badger store in a data folder.
	StorageBadger StorageKind = "badger"
	// StorageMemory keeps everything in memory and loses it on exit; for
	// tests and experiments.
	StorageMemory StorageKind = "memory"
)

// Manifest is a parsed and validated wactor.yaml, with defaults applied and
// paths resolved.
type Manifest struct {
	// Version is the format version; always [Version].
	Version int `yaml:"version"`
	// HTTP configures the HTTP gateway.
	HTTP HTTP `yaml:"http"`
	// Storage configures where state, reminders and the outbox are kept.
	Storage Storage `yaml:"storage"`
	// MaxActivations caps the live activations of all types together:
	// making room for a new one deactivates the least recently used idle
	// activation, and a new one is refused when all are busy. Default
	// [DefaultMaxActivations].
	MaxActivations int `yaml:"max_activations"`
	// DeadLetters caps the tells kept after they failed for good.
	DeadLetters DeadLetters `yaml:"dead_letters"`
	// MaxGuestMemory bounds the linear memory the guests of all live
	// activations hold together (the resident pages each holds alone), as a size or a percentage of the
	// machine's memory. Default [DefaultGuestMemoryPercent] percent.
	MaxGuestMemory GuestMemory `yaml:"max_guest_memory"`
	// Cluster, when set, makes the node a member of a cluster; nil runs
	// it alone (no NATS at all).
	Cluster *Cluster `yaml:"cluster"`
	// Metrics configures the Prometheus metrics.
	Metrics Metrics `yaml:"metrics"`
	// Tracing configures the export of OpenTelemetry traces; off unless
	// it or the OTEL_* environment variables turn it on.
	Tracing Tracing `yaml:"tracing"`
	// Actors lists the actor types, in manifest order. Type names are
	// unique.
	Actors []Actor `yaml:"actors"`

	// File is the manifest's name as given to Load or Parse; errors use it.
	File string `yaml:"-"`
	// Dir is the absolute folder against which relative paths were
	// resolved.
	Dir string `yaml:"-"`
}

// HTTP configures the HTTP gateway.
type HTTP struct {
	// Addr is the host:port to listen on. Default [DefaultHTTPAddr].
	Addr string `yaml:"addr"`
	// MaxBody is the largest request body accepted. Default
	// [DefaultMaxBody].
	MaxBody Size `yaml:"max_body"`
	// TokenFile is the absolute path of a file that holds the bearer token
	// of the control plane (see docs/security.md); wactor reads it at
	// start. Empty: none.
	TokenFile string `yaml:"token_file"`
	// Token is the bearer token itself, written in the manifest; TokenFile
	// or $WACTOR_TOKEN keep it out of the file. At most one of Token and
	// TokenFile is set. It passes [CheckToken].
	Token string `yaml:"token"`
}

// Storage configures the store.
type Storage struct {
	// Kind is the store implementation. Default [DefaultStorageKind].
	Kind StorageKind `yaml:"kind"`
	// Path is the absolute data folder for badger; empty for memory.
	Path string `yaml:"path"`
	// Sync makes every commit durable (fsync) before the reply is
	// released. Default [DefaultStorageSync]; false is faster but may lose
	// the last acknowledged commits on power loss. Always false for memory.
	Sync bool `yaml:"sync"`
	// IdempotencyRetention is how long the reply to a message sent with an
	// Idempotency-Key is kept, so that a retry within it gets the recorded
	// reply instead of applying the message again. Default
	// [DefaultIdempotencyRetention].
	IdempotencyRetention time.Duration `yaml:"idempotency_retention"`
}

// DeadLetters caps the dead letters kept: when keeping a new one would
// pass either bound, the oldest (the messages sent first) are dropped and
// counted. A dead letter larger than MaxBytes alone is not kept.
type DeadLetters struct {
	// MaxCount is how many are kept at most. Default
	// [DefaultDeadLetterCount].
	MaxCount int `yaml:"max_count"`
	// MaxBytes is how many bytes (payloads, errors, ids, targets, methods)
	// are kept at most. Default [DefaultDeadLetterBytes].
	MaxBytes Size `yaml:"max_bytes"`
}

// Metrics configures the Prometheus metrics served at GET /metrics (see
// docs/metrics.md).
type Metrics struct {
	// Enabled keeps the metrics and serves them. Default
	// [DefaultMetricsEnabled]; false keeps none, at no cost, and GET
	// /metrics answers 404.
	Enabled bool `yaml:"enabled"`
}

// Actor configures one actor type.
type Actor struct {
	// Type is the actor type name, as in the "type/id" of an actor ref.
	Type string `yaml:"type"`
	// Module is the absolute path of the type's WebAssembly module.
	Module string `yaml:"module"`
	// Mailbox is the bounded mailbox size of an activation.
	Mailbox int `yaml:"mailbox"`
	// MaxMessage is the largest message, reply or state value.
	MaxMessage Size `yaml:"max_message"`
	// MaxMemory is the guest memory limit, a multiple of [WasmPageSize].
	MaxMemory Size `yaml:"max_memory"`
	// MaxTableEntries bounds the entries of a guest's tables together (and
	// those of its element segments): a module whose tables start larger
	// is refused, and growing past it fails. Default
	// [DefaultMaxTableEntries] of MaxMemory.
	MaxTableEntries int `yaml:"max_table_entries"`
	// TurnTimeout is the execution limit of one turn.
	TurnTimeout time.Duration `yaml:"turn_timeout"`
	// IdleTimeout is how long an activation may stay idle before it is
	// deactivated.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// AskTimeout is the default timeout of asks made by actors of this
	// type.
	AskTimeout time.Duration `yaml:"ask_timeout"`
	// Env is the environment the type's guests see (WASI environ). Empty
	// by default: guests see no environment variables.
	Env map[string]string `yaml:"env"`
	// Dirs are the host folders the type's guests may open (WASI
	// preopened directories). None by default: guests have no file system.
	Dirs []Dir `yaml:"dirs"`
	// StatelessWorker, when its MaxLocal is above zero, makes the type a
	// stateless worker: see [StatelessWorker]. The zero value: one turn
	// at a time per actor.
	StatelessWorker StatelessWorker `yaml:"stateless_worker"`
	// ReadOnly lists the type's read-only methods: they may run while a
	// turn of the actor waits in an ask, see the committed state, and
	// may change nothing (state, tells, asks, timers, reminders are
	// refused with bad_request). At most [MaxReadOnly] method names.
	ReadOnly []string `yaml:"read_only"`
	// Subscriptions are the type's implicit subscriptions to topics.
	Subscriptions []Subscription `yaml:"subscriptions"`
	// Reentrant is [ReentrantCallChain] or "" (not reentrant). A
	// reentrant type's turn that waits in an ask runs, nested in it, the
	// asks on its call chain that come back to the actor, instead of
	// failing them with deadlock; see [ReentrantCallChain].
	Reentrant Reentrancy `yaml:"reentrant"`
}

// Actor returns the configuration of the actor type typ, and whether the
// manifest has it.
func (m *Manifest) Actor(typ string) (Actor, bool) {
	for _, a := range m.Actors {
		if a.Type == typ {
			return a, true
		}
	}
	return Actor{}, false
}

// Load reads, parses and validates the manifest file at path. Relative
// paths in it are resolved against the file's folder, and errors name the
// file as path was given.
//
// A problem in the manifest is returned as an [ErrorList]; failing to read
// the file is returned as a wrapped *fs.PathError.
func Load(path string) (*Manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	return Parse(data, filepath.Dir(abs), path)
}

// Parse parses and validates a manifest. dir is the folder relative paths
// are resolved against (the current folder when empty); name is the file
// name used in error messages ("manifest" when empty).
//
// Parse checks the module files it names, so it reads the file system. A
// leading UTF-8 byte order mark is ignored.
// Every problem found is returned, in file order, as an [ErrorList] whose
// elements are [*Error].
func Parse(data []byte, dir string, name string) (*Manifest, error) {
	if name == "" {
		name = "manifest"
	}
	if dir == "" {
		dir = "."
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, ErrorList{{File: name, Msg: fmt.Sprintf("cannot resolve the manifest folder %q: %v", dir, err)}}
	}
	d := &decoder{file: name, dir: abs}
	m := d.decodeSafely(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))) // a UTF-8 byte order mark
	if len(d.errs) > 0 {
		return nil, d.sortedErrors()
	}
	m.File = name
	m.Dir = abs
	return m, nil
}
