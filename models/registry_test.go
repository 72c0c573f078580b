package models

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/asymlab/asym/nn"
)

// TestRegistry checks that a registered architecture builds by name (any
// case), is listed and valid, that a duplicate name panics, that family
// names are valid but not listed, and that an unknown name is an error
// listing the valid ones.
func TestRegistry(t *testing.T) {
	saved := registry
	defer func() { registry = saved }()
	Register(Arch{Name: "toy", Build: func(s Spec, rng *rand.Rand) (*nn.Network, error) {
		return nn.NewNetwork(nn.NewLinear("fc", s.In[0], s.Classes, true, nn.HeNormal, rng), s.In, s.Classes)
	}})
	net, err := Build(Spec{Arch: "Toy", In: []int{4}, Classes: 3}, rand.New(rand.NewPCG(1, 2)))
	if err != nil || net.WeightLayer("fc") == nil {
		t.Fatalf("Build toy: %v", err)
	}
	if !Valid("toy") || !slices.Contains(Names(), "toy") {
		t.Errorf("toy not valid or not listed: %v", Names())
	}
	if !Valid("resnet14") || slices.Contains(Names(), "resnet-cifar") || Valid("resnet-cifar") {
		t.Errorf("family: resnet14 valid %v, listed %v", Valid("resnet14"), Names())
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("duplicate Register did not panic")
			}
		}()
		Register(Arch{Name: "toy", Build: registry[0].Build})
	}()
	_, err = Build(Spec{Arch: "nope", In: []int{1, 8, 8}, Classes: 10}, rand.New(rand.NewPCG(1, 2)))
	if err == nil || !strings.Contains(err.Error(), `unknown architecture "nope"`) || !strings.Contains(err.Error(), "convnet") {
		t.Errorf("unknown architecture: %v", err)
	}
}
