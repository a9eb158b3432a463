package metrics_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestOnlyMetricsImportsPrometheus: the host, the scheduler and the
// gateway report to observer interfaces and never depend on Prometheus,
// directly or through another package.
func TestOnlyMetricsImportsPrometheus(t *testing.T) {
	pkgs := []string{"../host", "../scheduler", "../gateway", "../storage", "../manifest"}
	out, err := exec.Command("go", append([]string{"list", "-deps"}, pkgs...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.Contains(dep, "prometheus") {
			t.Errorf("%s depends on %s; only package metrics may", strings.Join(pkgs, ", "), dep)
		}
	}
}
