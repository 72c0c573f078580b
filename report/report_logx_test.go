package report

import "testing"

// A log axis with a single x once panicked inside gonum/plot (its linear
// padding went below zero).
func TestLinePlotLogXSinglePoint(t *testing.T) {
	f, err := LinePlot(LineSpec{Name: "one", Title: "one", LogX: true},
		[]Series{{Label: "a", Points: []Point{{X: 0.01, Stat: Stat{Mean: 50, N: 1}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.PNG(); err != nil {
		t.Fatal(err)
	}
}
