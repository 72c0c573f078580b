package checkpoint_test

import (
	"fmt"
	"os"

	"github.com/asymlab/asym/checkpoint"
	"github.com/asymlab/asym/safetensors"
	"github.com/asymlab/asym/tensor"
)

// Save a checkpoint and load it back into an existing parameter.
func ExampleSave() {
	dir, err := os.MkdirTemp("", "asym-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := dir + "/model.safetensors"

	w := tensor.FromData([]float32{0.5, -1, 2, 4}, 2, 2)
	err = checkpoint.Save(path, []safetensors.Tensor{safetensors.FromTensor("fc.weight", w)},
		map[string]string{"rule": "feedback-alignment"})
	if err != nil {
		panic(err)
	}

	f, err := checkpoint.Load(path) // checks the format version and checksum
	if err != nil {
		panic(err)
	}
	dst := tensor.New(2, 2)
	if err := f.Float32Into("fc.weight", dst); err != nil {
		panic(err)
	}
	fmt.Println(dst.Data, f.Metadata["rule"], f.Metadata[checkpoint.FormatKey])
	// Output:
	// [0.5 -1 2 4] feedback-alignment 2
}

// Keep the two newest checkpoints of a run, plus the best one.
func ExampleDir() {
	root, err := os.MkdirTemp("", "asym-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(root)

	d := checkpoint.Dir{Path: root + "/run1", Keep: 2}
	w := tensor.New(3)
	for step := 100; step <= 400; step += 100 {
		w.Fill(float32(step))
		if _, err := d.Save(step, []safetensors.Tensor{safetensors.FromTensor("w", w)}, nil); err != nil {
			panic(err)
		}
		if step == 200 {
			if err := d.MarkBest(step); err != nil {
				panic(err)
			}
		}
	}
	steps, _ := d.Steps()
	latest, _ := d.LoadLatest()
	best, _ := d.LoadBest()
	ls, _ := checkpoint.Step(latest)
	bs, _ := checkpoint.Step(best)
	fmt.Println("kept:", steps, "latest:", ls, "best:", bs)
	// Output:
	// kept: [300 400] latest: 400 best: 200
}
