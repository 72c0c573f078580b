package models

import (
	"strings"
	"testing"

	"github.com/asymlab/asym/engine"
	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/tensor"
)

func trainable(net *nn.Network) int {
	n := 0
	for _, p := range net.Params() {
		if p.Grad != nil {
			n += p.Value.Len()
		}
	}
	return n
}

// TestParameterCounts checks the architectures against torchvision's
// parameter counts (num_classes = 10) and the CIFAR ResNets' published
// sizes.
func TestParameterCounts(t *testing.T) {
	cases := []struct {
		arch, shortcut string
		in             []int
		want           int
	}{
		{"resnet18", "", []int{3, 224, 224}, 11181642}, // torchvision resnet18(num_classes=10)
		{"resnet50", "", []int{3, 224, 224}, 23528522}, // torchvision resnet50(num_classes=10)
		{"resnet20", "", []int{3, 32, 32}, 0},          // ~0.27M (He et al. 2016); checked below
		// resnet18 plus layer1.0's 64→64 1×1 projection and its BN:
		// 11181642 + 4096 + 2·64.
		{"resnet18", "first", []int{3, 224, 224}, 11185866},
		// v2 has the same convolutions and classifier; its BNs are one
		// before every block (input width), one inside the branch (two for
		// a bottleneck) and one at the end, none in the stem or the
		// shortcuts. ResNet-18: v1 has 4800 BN channels, v2 1472 + 1920 +
		// 512 = 3904, so 11181642 − 2·(4800 − 3904).
		{"resnet18v2", "", []int{3, 224, 224}, 11179850},
		// ... plus the 64→64 projection on layer1.0 (no BN in v2).
		{"resnet18v2", "first", []int{3, 224, 224}, 11183946},
		// ResNet-50: v1 26560 BN channels, v2 960 + 2816 + 8704 + 8192 +
		// 2048 = 22720: 23528522 − 2·3840.
		{"resnet50v2", "", []int{3, 224, 224}, 23520842},
	}
	for _, tc := range cases {
		net, err := Build(Spec{Arch: tc.arch, In: tc.in, Classes: 10, Shortcut: tc.shortcut}, tensor.NewRand(1, 1))
		if err != nil {
			t.Fatal(err)
		}
		got := trainable(net)
		if tc.want > 0 && got != tc.want {
			t.Errorf("%s (shortcut %q): %d trainable parameters, want %d", tc.arch, tc.shortcut, got, tc.want)
		}
		if tc.arch == "resnet20" && (got < 260000 || got > 290000) {
			t.Errorf("resnet20: %d parameters, want about 0.27M", got)
		}
	}
}

// TestShapes builds every architecture for several input shapes and runs
// a forward and backward pass on a small batch.
func TestShapes(t *testing.T) {
	e := engine.NewCPU(2)
	for _, arch := range []string{"mlp", "convnet", "resnet8", "resnet20", "resnet18", "resnet50", "resnet8v2", "resnet18v2", "resnet50v2"} {
		for _, in := range [][]int{{1, 8, 8}, {1, 28, 28}, {3, 32, 32}} {
			net, err := Build(Spec{Arch: arch, In: in, Classes: 10, Width: 0.25}, tensor.NewRand(1, 1))
			if err != nil {
				t.Errorf("%s %v: %v", arch, in, err)
				continue
			}
			x := tensor.New(append([]int{2}, in...)...)
			tensor.FillNormal(x, tensor.NewRand(2, 2), 1)
			c := &nn.Ctx{E: e, Train: true}
			y := net.Forward(c, x)
			if !tensor.SameShape(y.Shape, []int{2, 10}) || y.HasNaNOrInf() {
				t.Errorf("%s %v: output %v", arch, in, y.Shape)
				continue
			}
			var dl tensor.Tensor
			e.SoftmaxCrossEntropy(&dl, y, []int32{1, 2}, 0)
			net.Backward(c, &dl)
			for _, p := range net.Params() {
				if p.Grad != nil && p.Grad.HasNaNOrInf() {
					t.Errorf("%s %v: gradient of %s not finite", arch, in, p.Name)
				}
			}
		}
	}
}

func TestTorchvisionNames(t *testing.T) {
	net, err := Build(Spec{Arch: "resnet50", In: []int{3, 64, 64}, Classes: 10}, tensor.NewRand(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, p := range net.Params() {
		names[p.Name] = true
	}
	for _, n := range []string{"conv1.weight", "bn1.running_var", "layer1.0.conv3.weight", "layer1.0.downsample.0.weight",
		"layer1.0.downsample.1.bias", "layer4.2.bn3.weight", "fc.weight", "fc.bias"} {
		if !names[n] {
			t.Errorf("no parameter %s", n)
		}
	}
}

func TestErrors(t *testing.T) {
	cases := []struct {
		s    Spec
		want string
	}{
		{Spec{Arch: "vgg16", In: []int{3, 32, 32}, Classes: 10}, "unknown architecture"},
		{Spec{Arch: "resnet", Depth: 21, In: []int{3, 32, 32}, Classes: 10}, "6n+2"},
		{Spec{Arch: "resnet19", In: []int{3, 32, 32}, Classes: 10}, "unknown architecture"},
		{Spec{Arch: "mlp", In: []int{3, 32}, Classes: 10}, "(C, H, W)"},
		{Spec{Arch: "mlp", In: []int{1, 8, 8}, Classes: 1}, "classes"},
		{Spec{Arch: "convnet", In: []int{1, 2, 2}, Classes: 10}, "at least 4×4"},
		{Spec{Arch: "mlp", In: []int{1, 8, 8}, Classes: 10, Init: "xavier"}, "valid: he"},
		{Spec{Arch: "resnet18", In: []int{3, 32, 32}, Classes: 10, Stem: "tiny"}, "stem"},
		{Spec{Arch: "resnet18v2", In: []int{3, 32, 32}, Classes: 10, Stem: "tiny"}, "stem"},
		{Spec{Arch: "resnet9v2", In: []int{3, 32, 32}, Classes: 10}, "unknown architecture"},
		{Spec{Arch: "resnet18", In: []int{3, 32, 32}, Classes: 10, Shortcut: "always"}, "shortcut"},
		{Spec{Arch: "resnet18", In: []int{3, 32, 32}, Classes: 10, Pool: "valid"}, "pool"},
		{Spec{Arch: "resnet18", In: []int{3, 32, 32}, Classes: 10, FCInit: "zeros"}, "fc_init"},
	}
	for _, tc := range cases {
		_, err := Build(tc.s, tensor.NewRand(1, 1))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want an error mentioning %q", tc.s, err, tc.want)
		}
	}
	if !Valid("resnet8") || !Valid("ResNet110") || Valid("resnet9") || !Valid("convnet") ||
		!Valid("resnet26v2") || !Valid("resnet152v2") || Valid("resnet19v2") || Valid("mlpv2") {
		t.Error("Valid")
	}
}
