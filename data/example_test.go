package data_test

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/asymlab/asym/data"
	"github.com/asymlab/asym/tensor"
)

// The embedded digits data set, with its fixed split.
func ExampleDigits() {
	train, test := data.Digits()
	fmt.Println(train.Len(), test.Len(), train.Shape(), train.Classes())
	x := make([]float32, 64)
	if err := test.Read(0, x); err != nil {
		panic(err)
	}
	fmt.Println("label", test.Label(0), "first row", x[:8])
	// Output:
	// 1438 359 [1 8 8] 10
	// label 1 first row [0 0 0 12 13 5 0 0]
}

// Open looks a data set up by name; its Info carries the normalisation
// constants of the training split.
func ExampleOpen() {
	_, _, info, err := data.Open("digits", "")
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s: %v, %d classes, mean %.3f, std %.3f\n", info.Name, info.Shape, info.Classes, info.Norm.Mean[0], info.Norm.Std[0])
	_, _, _, err = data.Open("mnist", "")
	fmt.Println(errors.Is(err, data.ErrNotFound))
	// Output:
	// digits: [1 8 8], 10 classes, mean 4.879, std 6.015
	// true
}

// A training loop: shuffled, augmented, normalised batches, with a fixed
// seed so that every run (and every resumed run) sees the same batches.
func ExampleLoader() {
	train, _, info, err := data.Open("digits", "")
	if err != nil {
		panic(err)
	}
	l, err := data.NewLoader(train, data.Config{
		BatchSize: 512,
		Shuffle:   true,
		Seed:      1,
		Norm:      info.Norm,
		Augment:   data.Augment{Pad: 1},
	})
	if err != nil {
		panic(err)
	}
	for epoch := range 2 {
		for b, err := range l.Epoch(epoch, 0) {
			if err != nil {
				panic(err)
			}
			// b.X and b.Labels are valid until this iteration ends.
			fmt.Println(b.Epoch, b.Index, b.X.Shape, len(b.Labels))
		}
	}
	// Output:
	// 0 0 [512 1 8 8] 512
	// 0 1 [512 1 8 8] 512
	// 0 2 [414 1 8 8] 414
	// 1 0 [512 1 8 8] 512
	// 1 1 [512 1 8 8] 512
	// 1 2 [414 1 8 8] 414
}

// Evaluation visits the samples in order, without augmentation.
func ExampleLoader_Ordered() {
	_, test, info, err := data.Open("digits", "")
	if err != nil {
		panic(err)
	}
	l, err := data.NewLoader(data.Take(test, 300), data.Config{BatchSize: 128, Norm: info.Norm})
	if err != nil {
		panic(err)
	}
	n := 0
	for b, err := range l.Ordered() {
		if err != nil {
			panic(err)
		}
		n += len(b.Labels)
	}
	fmt.Println(n, "samples in", l.NumBatches(), "batches")
	// Output:
	// 300 samples in 3 batches
}

// CIFAR files are sequences of records: label byte(s), then the red, green
// and blue planes of a 32×32 image.
func ExampleParseCIFAR() {
	rec := make([]byte, data.CIFAR10.RecordSize()) // 3073 bytes
	rec[0] = 7                                     // horse
	rec[1] = 255                                   // red value of the top-left pixel
	m, err := data.ParseCIFAR(append(rec, rec...), data.CIFAR10)
	if err != nil {
		panic(err)
	}
	x := make([]float32, 3*32*32)
	m.Read(1, x)
	fmt.Println(m.Len(), m.Shape(), m.Label(1), x[0], x[1024])
	_, err = data.ParseCIFAR(rec[:3000], data.CIFAR10)
	fmt.Println(errors.Is(err, data.ErrTruncated))
	// Output:
	// 2 [3 32 32] 7 255 0
	// true
}

// The random-resized crop of the training transform: an area fraction and
// an aspect ratio drawn from the generator, then a position.
func ExampleRandomResizedCrop() {
	rng := tensor.NewRand(1, 0)
	for range 3 {
		r := data.RandomResizedCrop(500, 375, [2]float64{0.08, 1}, [2]float64{3.0 / 4, 4.0 / 3}, rng)
		fmt.Printf("%v: %d×%d, %.1f%% of the image\n", r, r.Dx(), r.Dy(), float64(r.Dx()*r.Dy())/(500*375)*100)
	}
	// The evaluation transform: resize the short side to 256, cut the centre.
	resized, crop := data.ResizeCenterCrop(500, 375, 256, 224)
	fmt.Println(resized, crop)
	// Output:
	// (146,123)-(318,340): 172×217, 19.9% of the image
	// (271,98)-(484,350): 213×252, 28.6% of the image
	// (31,82)-(350,373): 319×291, 49.5% of the image
	// (341,256) (58,16)-(282,240)
}

// A Loader leaves unreadable samples out of their batch and reports them.
func ExampleLoader_Skipped() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	for _, f := range []string{"cat/1.png", "cat/2.png", "dog/3.png"} {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(f)), 0o755)
		img := image.NewGray(image.Rect(0, 0, 40, 30))
		var b bytes.Buffer
		png.Encode(&b, img)
		os.WriteFile(filepath.Join(dir, f), b.Bytes(), 0o644)
	}
	os.WriteFile(filepath.Join(dir, "dog", "4.png"), []byte("not a PNG"), 0o644)

	ds, err := data.NewImageFolder(dir, nil, data.ImageFolderOptions{Size: 32})
	if err != nil {
		panic(err)
	}
	l, err := data.NewLoader(ds, data.Config{BatchSize: 2, Shuffle: true, Seed: 1})
	if err != nil {
		panic(err)
	}
	for b, err := range l.Epoch(0, 0) {
		if err != nil {
			panic(err)
		}
		fmt.Println("batch", b.Index, b.X.Shape, b.Labels, "skipped", len(b.Skipped))
	}
	for _, s := range l.Skipped() {
		fmt.Println("skipped", filepath.Base(ds.Path(s.Index)), errors.Is(s.Err, data.ErrBadSample))
	}
	// Output:
	// batch 0 [2 3 32 32] [1 0] skipped 0
	// batch 1 [1 3 32 32] [0] skipped 1
	// skipped 4.png true
}

// The text data set: a vocabulary of the characters, windows of inputs
// and next-character targets.
func ExampleParseText() {
	tx, err := data.ParseText("poem", []byte(strings.Repeat("tyger tyger, burning bright ", 4)), 8)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("vocabulary %q, %d training windows, %d validation windows\n", tx.Vocab, tx.Train.Len(), tx.Val.Len())
	w := make([]float32, 16)
	_ = tx.Train.Read(1, w)
	ids := func(v []float32) []int32 {
		out := make([]int32, len(v))
		for i, x := range v {
			out[i] = int32(x)
		}
		return out
	}
	fmt.Printf("input %q, targets %q\n", tx.Vocab.Decode(ids(w[:8])), tx.Vocab.Decode(ids(w[8:])))
	fmt.Printf("%.3f bits per character\n", data.BitsPerChar(math.Log(4)))
	// Output:
	// vocabulary " ,beghinrtuy", 12 training windows, 1 validation windows
	// input "ger, bur", targets "er, burn"
	// 2.000 bits per character
}
