package models

import (
	"strconv"
	"strings"

	"github.com/asymlab/asym/nn"
)

// cifarDepth returns N of a "resnetN" name that is a CIFAR-style depth
// 6n+2 ≥ 8 other than the ImageNet depths.
func cifarDepth(name string) (int, bool) {
	if !strings.HasPrefix(name, "resnet") {
		return 0, false
	}
	d, err := strconv.Atoi(strings.TrimPrefix(name, "resnet"))
	if err != nil || imagenetDepth(d) {
		return 0, false
	}
	return d, d >= 8 && (d-2)%6 == 0
}

func imagenetDepth(d int) bool { return d == 18 || d == 34 || d == 50 || d == 101 || d == 152 }

func init() {
	Register(Arch{Name: "resnet", Build: imageBuild(func(b *builder) (nn.Layer, error) { return b.cifarResNet(b.s.Depth) })})
	for _, d := range []int{20, 32, 44, 56, 110} {
		Register(Arch{Name: "resnet" + strconv.Itoa(d), Build: imageBuild(func(b *builder) (nn.Layer, error) { return b.cifarResNet(d) })})
	}
	for _, d := range []int{18, 34, 50, 101, 152} {
		Register(Arch{Name: "resnet" + strconv.Itoa(d), Build: imageBuild(func(b *builder) (nn.Layer, error) { return b.imagenetResNet(d) })})
	}
	// Every other CIFAR-style depth 6n+2 (resnet8, resnet14, ...).
	Register(Arch{Name: "resnet-cifar", Family: func(name string) bool { _, ok := cifarDepth(name); return ok },
		Build: imageBuild(func(b *builder) (nn.Layer, error) {
			d, _ := cifarDepth(b.s.Arch)
			return b.cifarResNet(d)
		})})
}
