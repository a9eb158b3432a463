package manifest

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The JSON Schema for editors, the reference and the Go structs describe
// the same format; these tests keep them from drifting apart.

const (
	schemaFile = "../docs/wactor.schema.json"
	docFile    = "../docs/manifest.md"
)

// loadSchema reads the schema and returns it decoded.
func loadSchema(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile(schemaFile)
	require.NoError(t, err)
	var schema map[string]any
	require.NoError(t, json.Unmarshal(data, &schema), "the schema is not valid JSON")
	return schema
}

// object returns the JSON object at schema[key], following a local $ref.
func object(t *testing.T, root, schema map[string]any, key string) map[string]any {
	t.Helper()
	v, ok := schema[key].(map[string]any)
	require.True(t, ok, "%q is not an object", key)
	if ref, ok := v["$ref"].(string); ok && strings.HasPrefix(ref, "#/") {
		v = root
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			v, ok = v[part].(map[string]any)
			require.True(t, ok, "$ref %q does not resolve", ref)
		}
	}
	return v
}

// schemaObjects returns, for each Go struct of the format, the schema of
// the object it decodes.
func schemaObjects(t *testing.T) map[string]struct {
	schema map[string]any
	goType reflect.Type
	sec    *section
} {
	root := loadSchema(t)
	props := object(t, root, root, "properties")
	type obj = struct {
		schema map[string]any
		goType reflect.Type
		sec    *section
	}
	return map[string]obj{
		"top":          {root, reflect.TypeFor[Manifest](), topSection},
		"http":         {object(t, root, props, "http"), reflect.TypeFor[HTTP](), httpSection},
		"storage":      {object(t, root, props, "storage"), reflect.TypeFor[Storage](), storageSection},
		"dead":         {object(t, root, props, "dead_letters"), reflect.TypeFor[DeadLetters](), deadSection},
		"metrics":      {object(t, root, props, "metrics"), reflect.TypeFor[Metrics](), metricsSection},
		"tracing":      {object(t, root, props, "tracing"), reflect.TypeFor[Tracing](), tracingSection},
		"actor":        {object(t, root, object(t, root, props, "actors"), "items"), reflect.TypeFor[Actor](), actorSection},
		"dir":          {object(t, root, root["$defs"].(map[string]any), "dir"), reflect.TypeFor[Dir](), dirSection},
		"subscription": {object(t, root, root["$defs"].(map[string]any), "subscription"), reflect.TypeFor[Subscription](), subscriptionSection},
		"cluster":      {object(t, root, props, "cluster"), reflect.TypeFor[Cluster](), clusterSection},
		"stateless": {object(t, root, object(t, root, object(t, root, object(t, root, props, "actors"), "items"), "properties"), "stateless_worker"),
			reflect.TypeFor[StatelessWorker](), statelessSection},
	}
}

func TestSchemaMatchesStructs(t *testing.T) {
	root := loadSchema(t)
	assert.Equal(t, "https://json-schema.org/draft/2020-12/schema", root["$schema"])
	for name, o := range schemaObjects(t) {
		t.Run(name, func(t *testing.T) {
			props, ok := o.schema["properties"].(map[string]any)
			require.True(t, ok, "no properties")
			var keys []string
			for k := range props {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			tags := yamlFields(o.goType)
			slices.Sort(tags)
			assert.Equal(t, tags, keys, "schema properties and yaml tags of %s differ", o.goType)
			assert.Equal(t, tags, slices.Sorted(slices.Values(o.sec.names())), "decoder fields and yaml tags of %s differ", o.goType)
			assert.Equal(t, false, o.schema["additionalProperties"], "additionalProperties must be false")

			var required []string
			if r, ok := o.schema["required"].([]any); ok {
				for _, v := range r {
					required = append(required, v.(string))
				}
			}
			var goRequired []string
			for _, f := range o.sec.fields {
				if f.fix != "" {
					goRequired = append(goRequired, f.name)
				}
			}
			slices.Sort(required)
			slices.Sort(goRequired)
			assert.Equal(t, goRequired, required, "required fields differ")
		})
	}
}

func TestSchemaDefaults(t *testing.T) {
	objs := schemaObjects(t)
	want := map[string]string{
		"http.addr":                     DefaultHTTPAddr,
		"http.max_body":                 DefaultMaxBody.String(),
		"storage.kind":                  string(DefaultStorageKind),
		"storage.path":                  DefaultStoragePath,
		"storage.sync":                  fmt.Sprint(DefaultStorageSync),
		"actor.mailbox":                 fmt.Sprint(DefaultMailbox),
		"actor.max_message":             DefaultMaxMessage.String(),
		"actor.max_memory":              DefaultMaxMemory.String(),
		"actor.turn_timeout":            DefaultTurnTimeout.String(),
		"actor.idle_timeout":            DefaultIdleTimeout.String(),
		"actor.ask_timeout":             DefaultAskTimeout.String(),
		"storage.idempotency_retention": DefaultIdempotencyRetention.String(),
		"top.max_activations":           fmt.Sprint(DefaultMaxActivations),
		"top.max_guest_memory":          GuestMemory{Percent: DefaultGuestMemoryPercent}.String(),
		"dir.mode":                      string(DefaultDirMode),
		"subscription.id":               "topic",
		"dead.max_count":                fmt.Sprint(DefaultDeadLetterCount),
		"dead.max_bytes":                DefaultDeadLetterBytes.String(),
		"cluster.lease_ttl":             DefaultLeaseTTL.String(),
		"metrics.enabled":               fmt.Sprint(DefaultMetricsEnabled),
	}
	got := map[string]string{}
	for name, o := range objs {
		for key, p := range o.schema["properties"].(map[string]any) {
			def, ok := p.(map[string]any)["default"]
			if !ok {
				continue
			}
			s := fmt.Sprint(def)
			if d, err := time.ParseDuration(s); err == nil {
				s = d.String() // "5m" and "5m0s" are the same default
			}
			got[name+"."+key] = s
		}
	}
	assert.Equal(t, want, got)
}

// TestSchemaPatterns checks that the schema's patterns accept what the Go
// validation accepts, on samples of both kinds.
func TestSchemaPatterns(t *testing.T) {
	root := loadSchema(t)
	defs := root["$defs"].(map[string]any)
	actorProps := defs["actor"].(map[string]any)["properties"].(map[string]any)
	pattern := func(v any) *regexp.Regexp {
		return regexp.MustCompile(v.(map[string]any)["pattern"].(string))
	}
	typeRE := pattern(actorProps["type"])
	durationRE := pattern(defs["duration"])
	var sizeRE *regexp.Regexp
	for _, alt := range defs["size"].(map[string]any)["anyOf"].([]any) {
		if alt.(map[string]any)["type"] == "string" {
			sizeRE = pattern(alt)
		}
	}
	require.NotNil(t, sizeRE)

	for _, s := range []string{"counter", "a", "Bank.v2", "x_y-z", "9lives", "-a", ".a", "_a", "a/b", "a b", "é", "", "a:b"} {
		assert.Equal(t, checkTypeName(s) == "", typeRE.MatchString(s), "type name %q", s)
	}
	for _, s := range []string{"512", "512B", "64KiB", "16 MiB", "1GiB", "1KB", "10MB", "2GB", "16mb", "16M", "1.5GiB", "-1", "", "MiB", "16  MiB", "16 ", " 16", "16TB"} {
		_, err := ParseSize(s)
		assert.Equal(t, err == nil, sizeRE.MatchString(s), "size %q", s)
	}
	httpProps := root["properties"].(map[string]any)["http"].(map[string]any)["properties"].(map[string]any)
	tokenProp := httpProps["token"].(map[string]any)
	tokenRE := pattern(tokenProp)
	tokenOK := func(s string) bool {
		return tokenRE.MatchString(s) && float64(len(s)) >= tokenProp["minLength"].(float64) && float64(len(s)) <= tokenProp["maxLength"].(float64)
	}
	for _, s := range []string{"0123456789abcdef", "0123456789abcde", "0123456789 abcdef", "0123456789abcdéf", "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", strings.Repeat("x", MaxTokenLen), strings.Repeat("x", MaxTokenLen+1)} {
		assert.Equal(t, CheckToken(s) == "", tokenOK(s), "token %q", s)
	}
	for _, s := range []string{"5s", "250ms", "2m", "1h2m3s", "1.5s", ".5s", "100us", "100µs", "1ns", "+5s", "5", "5 s", "5sec", "", "1d", "-5s"} {
		d, err := time.ParseDuration(s)
		goOK := err == nil && d > 0
		assert.Equal(t, goOK, durationRE.MatchString(s), "duration %q", s)
	}
}

// TestDocMentionsEveryField checks that the reference documents every key.
func TestDocMentionsEveryField(t *testing.T) {
	data, err := os.ReadFile(docFile)
	require.NoError(t, err)
	doc := string(data)
	for _, sec := range sections {
		for _, f := range sec.fields {
			assert.Contains(t, doc, "`"+f.name+"`", "docs/manifest.md does not document %q", f.name)
		}
	}
}
