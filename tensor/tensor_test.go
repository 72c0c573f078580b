package tensor

import (
	"math"
	"testing"
)

func TestResizeReusesCapacity(t *testing.T) {
	x := New(4, 8)
	p := &x.Data[0]
	x.Resize(2, 8)
	if x.Len() != 16 || &x.Data[0] != p {
		t.Fatal("shrinking reallocated")
	}
	x.Resize(4, 8)
	if &x.Data[0] != p {
		t.Fatal("growing back within capacity reallocated")
	}
	x.Resize(5, 8)
	if x.Len() != 40 || !SameShape(x.Shape, []int{5, 8}) {
		t.Fatalf("shape %v len %d", x.Shape, x.Len())
	}
}

func TestViewAndRow(t *testing.T) {
	x := FromData([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	v := x.View(3, 2)
	v.Data[0] = 9
	if x.Data[0] != 9 {
		t.Error("View does not share data")
	}
	if r := x.Row(1); len(r) != 3 || r[0] != 4 {
		t.Errorf("Row(1) = %v", r)
	}
	defer func() {
		if recover() == nil {
			t.Error("View with another element count did not panic")
		}
	}()
	x.View(4, 2)
}

func TestEqualAndFinite(t *testing.T) {
	a := FromData([]float32{1, float32(math.NaN())}, 2)
	if !Equal(a, a.Clone()) {
		t.Error("a NaN compares equal to itself by bits")
	}
	if !a.HasNaNOrInf() || !AllFinite([]float32{0, -1, 3}) || AllFinite([]float32{float32(math.Inf(-1))}) {
		t.Error("finite checks")
	}
	if d := MaxAbsDiff(FromData([]float32{1, 2}, 2), FromData([]float32{1.5, 2}, 2)); d != 0.5 {
		t.Errorf("MaxAbsDiff = %v", d)
	}
}

func TestRandomness(t *testing.T) {
	a, b := New(1000), New(1000)
	FillNormal(a, NewRand(1, 2), 1)
	FillNormal(b, NewRand(1, 2), 1)
	if !Equal(a, b) {
		t.Error("the same stream gave different draws")
	}
	FillNormal(b, NewRand(1, 3), 1)
	if Equal(a, b) {
		t.Error("different streams gave the same draws")
	}
	if Mix(1, 2) == Mix(2, 1) || Mix(1) == Mix(2) {
		t.Error("Mix")
	}
	// Truncated normal: within ±2σ and with the requested std (1e5 draws:
	// the std's standard error is ~0.2%).
	x := New(100000)
	FillTruncNormal(x, NewRand(3, 3), 0.5)
	sigma := 0.5 / 0.87962566103423978
	var s, ss float64
	for _, v := range x.Data {
		if math.Abs(float64(v)) > 2*sigma+1e-6 {
			t.Fatalf("%v outside ±2σ", v)
		}
		s += float64(v)
		ss += float64(v) * float64(v)
	}
	n := float64(x.Len())
	if std := math.Sqrt(ss/n - (s/n)*(s/n)); math.Abs(std-0.5) > 0.01 {
		t.Errorf("std %.4f, want 0.5", std)
	}
	u := New(100000)
	FillUniform(u, NewRand(4, 4), 0.25)
	for _, v := range u.Data {
		if v < -0.25 || v > 0.25 {
			t.Fatalf("uniform draw %v outside ±0.25", v)
		}
	}
}
