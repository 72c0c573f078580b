package data

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// randMemory returns n random samples of the given shape with labels
// i mod classes.
func randMemory(seed uint64, n, classes int, shape ...int) *Memory {
	rng := rand.New(rand.NewPCG(seed, 1))
	size := prod(shape)
	pix := make([]uint8, n*size)
	for i := range pix {
		pix[i] = uint8(rng.IntN(256))
	}
	labels := make([]int32, n)
	for i := range labels {
		labels[i] = int32(i % classes)
	}
	return NewMemory(shape, classes, pix, labels)
}

func TestMemorySubsetTake(t *testing.T) {
	m := randMemory(1, 20, 3, 2, 2, 3)
	a, b := make([]float32, 12), make([]float32, 12)
	s := Subset(m, []int{7, 2, 19})
	tk := Take(s, 2)
	if s.Len() != 3 || tk.Len() != 2 || Take(m, 50) != Dataset(m) || Take(m, 0).Len() != 0 {
		t.Fatalf("lengths %d %d", s.Len(), tk.Len())
	}
	if !slices.Equal(s.Shape(), m.Shape()) || s.Classes() != 3 {
		t.Errorf("subset shape %v, %d classes", s.Shape(), s.Classes())
	}
	for j, i := range []int{7, 2} {
		m.Read(i, a)
		tk.Read(j, b)
		if !slices.Equal(a, b) || tk.Label(j) != m.Label(i) || a[5] != float32(m.Pixels(i)[5]) {
			t.Errorf("sample %d of Take(Subset) differs from sample %d", j, i)
		}
	}
	if got := ClassCounts(m); !slices.Equal(got, []int{7, 7, 6}) {
		t.Errorf("class counts %v", got)
	}
	for _, f := range []func(){
		func() { Subset(m, []int{20}) },
		func() { Take(m, -1) },
		func() { NewMemory([]int{2}, 2, []uint8{1, 2, 3}, []int32{0, 1}) },
		func() { NewMemory([]int{1}, 2, []uint8{1}, []int32{2}) },
	} {
		if !panics(f) {
			t.Error("misuse did not panic")
		}
	}
}

func panics(f func()) (p bool) {
	defer func() { p = recover() != nil }()
	f()
	return false
}

func TestStratifiedSplit(t *testing.T) {
	m := randMemory(2, 105, 4, 1, 1, 1) // class sizes 27, 26, 26, 26
	for _, tc := range []struct {
		frac float64
		test []int
	}{{0, []int{0, 0, 0, 0}}, {0.1, []int{3, 3, 3, 3}}, {0.5, []int{14, 13, 13, 13}}, {1, []int{27, 26, 26, 26}}} {
		train, test := StratifiedSplit(m, tc.frac, 9)
		if got := ClassCounts(test); !slices.Equal(got, tc.test) || train.Len()+test.Len() != 105 {
			t.Errorf("frac %v: test counts %v, want %v", tc.frac, got, tc.test)
		}
	}
	_, a := StratifiedSplit(m, 0.3, 1)
	_, b := StratifiedSplit(m, 0.3, 2)
	if slices.Equal(a.(*subset).idx, b.(*subset).idx) {
		t.Error("different seeds gave the same split")
	}
}

func TestComputeNorm(t *testing.T) {
	// Two channels of 2 values over 2 samples: channel 0 holds 0, 2, 4, 6
	// (mean 3, std √5); channel 1 is constant 7 (std 0 → 1).
	m := NewMemory([]int{2, 1, 2}, 1, []uint8{0, 2, 7, 7, 4, 6, 7, 7}, []int32{0, 0})
	n, err := ComputeNorm(m)
	if err != nil {
		t.Fatal(err)
	}
	want := Norm{Mean: []float32{3, 7}, Std: []float32{float32(math.Sqrt(5)), 1}}
	if !slices.Equal(n.Mean, want.Mean) || !slices.Equal(n.Std, want.Std) {
		t.Errorf("got %v, want %v", n, want)
	}
	if n, _ := ComputeNorm(Take(m, 0)); n.Mean[0] != 0 || n.Std[0] != 1 {
		t.Errorf("empty data set: %v", n)
	}
}
