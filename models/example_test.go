package models_test

import (
	"fmt"

	"github.com/asymlab/asym/models"
	"github.com/asymlab/asym/tensor"
)

// A pre-activation ResNet-20 for CIFAR-10 as the official code of Kunin et
// al. (2020) builds its ResNets: a projection shortcut on the first block
// of every group (layer1.0 included) and a Glorot classifier with a zero
// bias. The projection adds a 16×16 1×1 convolution to the default
// network.
func ExampleBuild_v2() {
	count := func(s models.Spec) int {
		net, err := models.Build(s, tensor.NewRand(1, 0))
		if err != nil {
			panic(err)
		}
		n := 0
		for _, p := range net.Params() {
			if p.Trainable() {
				n += p.Value.Len()
			}
		}
		return n
	}
	spec := models.Spec{Arch: "resnet20v2", In: []int{3, 32, 32}, Classes: 10}
	auto := count(spec)
	spec.Shortcut, spec.FCInit = "first", "glorot"
	first := count(spec)
	fmt.Println(auto, first, first-auto)
	// Output: 272282 272538 256
}
