package models

import (
	"strconv"
	"strings"

	"github.com/asymlab/asym/nn"
)

// cifarDepth returns N of a "resnetN" name (or, with v2, "resnetNv2")
// that is a CIFAR-style depth 6n+2 ≥ 8 other than the ImageNet depths.
func cifarDepth(name string, v2 bool) (int, bool) {
	if !strings.HasPrefix(name, "resnet") || strings.HasSuffix(name, "v2") != v2 {
		return 0, false
	}
	d, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(name, "resnet"), "v2"))
	if err != nil || imagenetDepth(d) {
		return 0, false
	}
	return d, d >= 8 && (d-2)%6 == 0
}

func imagenetDepth(d int) bool { return d == 18 || d == 34 || d == 50 || d == 101 || d == 152 }

func init() {
	cifar := func(d int) func(*builder) (nn.Layer, error) {
		return func(b *builder) (nn.Layer, error) { return b.cifarResNet(d) }
	}
	imagenet := func(d int) func(*builder) (nn.Layer, error) {
		return func(b *builder) (nn.Layer, error) { return b.imagenetResNet(d) }
	}
	Register(Arch{Name: "resnet", Build: imageBuild(func(b *builder) (nn.Layer, error) { return b.cifarResNet(b.s.Depth) })})
	for _, d := range []int{20, 32, 44, 56, 110} {
		Register(Arch{Name: "resnet" + strconv.Itoa(d), Build: imageBuild(cifar(d))})
	}
	for _, d := range []int{18, 34, 50, 101, 152} {
		Register(Arch{Name: "resnet" + strconv.Itoa(d), Build: imageBuild(imagenet(d))})
	}
	// The pre-activation ResNets (v2).
	for _, d := range []int{20, 56, 110} {
		Register(Arch{Name: "resnet" + strconv.Itoa(d) + "v2", Build: imageBuild(func(b *builder) (nn.Layer, error) { return b.cifarResNetV2(d) })})
	}
	for _, d := range []int{18, 34, 50, 101, 152} {
		Register(Arch{Name: "resnet" + strconv.Itoa(d) + "v2", Build: imageBuild(func(b *builder) (nn.Layer, error) { return b.imagenetResNetV2(d) })})
	}
	// Every other CIFAR-style depth 6n+2 (resnet8, resnet14v2, ...).
	for _, v2 := range []bool{false, true} {
		name := "resnet-cifar"
		if v2 {
			name += "-v2"
		}
		Register(Arch{Name: name, Family: func(n string) bool { _, ok := cifarDepth(n, v2); return ok },
			Build: imageBuild(func(b *builder) (nn.Layer, error) {
				d, _ := cifarDepth(b.s.Arch, v2)
				if v2 {
					return b.cifarResNetV2(d)
				}
				return b.cifarResNet(d)
			})})
	}
}
