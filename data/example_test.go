package data_test

import (
	"errors"
	"fmt"

	"github.com/asymlab/asym/data"
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
