package rules_test

import (
	"testing"

	"github.com/asymlab/asym/rules"
	"github.com/asymlab/asym/rules/ruletest"
)

// TestConformance runs the conformance suite on every registered rule, so
// that a newly registered rule is checked without further code.
func TestConformance(t *testing.T) {
	names := rules.Names()
	if len(names) < 12 {
		t.Fatalf("only %d rules registered: %v", len(names), names)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) { ruletest.Run(t, name) })
	}
}
