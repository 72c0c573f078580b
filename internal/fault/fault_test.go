package fault

import (
	"errors"
	"testing"
	"time"
)

func TestSet(t *testing.T) {
	if err := At("x"); err != nil {
		t.Fatalf("no hook: %v", err)
	}
	boom := errors.New("boom")
	var seen string
	restore := Set(func(p string) error { seen = p; return boom })
	if err := At("a/b.tmp"); !errors.Is(err, boom) || seen != "a/b.tmp" {
		t.Errorf("At = %v, hook saw %q", err, seen)
	}
	restore()
	if err := At("x"); err != nil {
		t.Errorf("after restore: %v", err)
	}
}

func TestParseDelay(t *testing.T) {
	for in, want := range map[string]time.Duration{"": 0, "30ms": 30 * time.Millisecond, "-1s": 0, "soon": 0} {
		if got := parseDelay(in); got != want {
			t.Errorf("parseDelay(%q) = %v, want %v", in, got, want)
		}
	}
}
