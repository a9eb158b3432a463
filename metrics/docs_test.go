package metrics_test

import (
	"encoding/json"
	"errors"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/internal/testwasm"
	"github.com/wactor/wactor/metrics"
)

// allFamilies returns the name of every wactor_ family, each made to
// have a series.
func allFamilies(t *testing.T) []string {
	m := metrics.New(metrics.Options{})
	newHost(t, m, host.TypeConfig{Name: "t", Module: testwasm.C(t, "counter")}) // its levels
	m.ActivationCreated("t")
	m.ActivationFailed("t", "trapped")
	m.ActivationEnded("t", "idle")
	m.InstanceStarted("t", time.Millisecond)
	m.TurnDone("t", "m", host.KindAsk, host.OutcomeOK, time.Millisecond)
	m.GuestFailed("t", "trapped")
	m.Committed(1, time.Millisecond, nil)
	m.Committed(1, time.Millisecond, errors.New("disk full"))
	m.Sent("t", host.KindTell, 1)
	m.ReminderFired("t", time.Millisecond)
	m.DeadLettered("t", true)
	m.RequestDone("GET /healthz", 200, time.Millisecond)
	fams, err := m.Registry().Gather()
	require.NoError(t, err)
	var names []string
	for _, f := range fams {
		if strings.HasPrefix(f.GetName(), "wactor_") {
			names = append(names, f.GetName())
		}
	}
	return names
}

// TestDocsListEveryMetric ties docs/metrics.md and the Grafana dashboard
// to the metrics: the reference lists each one, names none that does not
// exist, and the dashboard queries only metrics that exist.
func TestDocsListEveryMetric(t *testing.T) {
	names := allFamilies(t)
	require.NotEmpty(t, names)
	doc, err := os.ReadFile("../docs/metrics.md")
	require.NoError(t, err)
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `(wactor_[a-z_]+)` \\|").FindAllStringSubmatch(string(doc), -1) {
		documented[m[1]] = true
	}
	for _, n := range names {
		assert.True(t, documented[n], "docs/metrics.md does not list %s", n)
	}
	for n := range documented {
		assert.True(t, slices.Contains(names, n), "docs/metrics.md lists %s, which does not exist", n)
	}

	data, err := os.ReadFile("../docs/grafana/wactor.json")
	require.NoError(t, err)
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	require.NoError(t, json.Unmarshal(data, &dash), "the dashboard is not valid JSON")
	queried := 0
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			for _, n := range regexp.MustCompile(`wactor_[a-z_]+`).FindAllString(tg.Expr, -1) {
				base := n
				for _, suffix := range []string{"_bucket", "_sum", "_count"} {
					if b, ok := strings.CutSuffix(n, suffix); ok && slices.Contains(names, b) {
						base = b
					}
				}
				assert.True(t, slices.Contains(names, base), "panel %q queries %s, which does not exist", p.Title, n)
				queried++
			}
		}
	}
	assert.Positive(t, queried)
}
