package rules_test

import (
	"fmt"

	"github.com/asymlab/asym/models"
	"github.com/asymlab/asym/rules"
	"github.com/asymlab/asym/tensor"
)

// Build information alignment by name, with one setting changed, and bind
// it to every weight layer of a ConvNet but the classifier, which stays
// exact backprop.
func ExampleApply() {
	net, err := models.Build(models.Spec{Arch: "convnet", In: []int{1, 28, 28}, Classes: 10}, tensor.NewRand(1, 0))
	if err != nil {
		panic(err)
	}
	rule, err := rules.New("ia", map[string]float64{"gamma": 2e-3})
	if err != nil {
		panic(err)
	}
	env := &rules.Env{Rand: tensor.NewRand(1, 1), Seed: 1, WeightDecay: 1e-4}
	bound, err := rules.Apply(net, rule, rules.Options{Layers: "hidden"}, env)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s = %+v\n", rule.Name(), rule)
	for _, l := range bound.Layers {
		b := l.Feedback()
		fmt.Printf("%-5s B = %s %v\n", l.Name(), b.Name, b.Value.Shape)
	}
	fc2 := net.WeightLayer("fc2")
	fmt.Println("fc2 exact:", fc2.Feedback() == fc2.Weight())
	// Output:
	// ia = {Alpha:0.002 Beta:0.001 Gamma:0.002}
	// conv1 B = conv1.backward_weight [32 1 3 3]
	// conv2 B = conv2.backward_weight [64 32 3 3]
	// fc1   B = fc1.backward_weight [128 3136]
	// fc2 exact: true
}

// List the registered rules with their locality.
func ExampleNames() {
	for _, name := range rules.Names() {
		info, _ := rules.Lookup(name)
		fmt.Printf("%-6s %-24s %s\n", name, info.Locality, info.Summary)
	}
	// Output:
	// aa     non-local                activation alignment: α·Sparse + β·Amp
	// bp     n/a                      backpropagation: B ≡ W (weight transport)
	// brsf   non-local (one bit of W) sign symmetry with random magnitudes redrawn every batch
	// custom local unless sparse or self ≠ 0 any weighted sum of the primitives decay, amp, null, sparse, self
	// dfa    local (broadcast error)  direct feedback alignment: output error to every hidden block via fixed random D_k
	// fa     local                    feedback alignment: B fixed at a random draw
	// frsf   non-local (one bit of W) sign symmetry with fixed random magnitudes
	// ia     local                    information alignment: α·Amp + β·Null + γ·Decay
	// kp     non-local                Kolen–Pollack: B receives W's gradient, both decay
	// sa     non-local                symmetric alignment: α·Decay + β·Self
	// sign   non-local (one bit of W) sign symmetry: B = s·sign(W), s fixed per layer
	// wm     local                    weight mirror: α·Decay + β·Amp (optionally driven by noise input)
}

// Settings not given take their defaults; unknown ones are rejected with
// the valid choices.
func ExampleNew() {
	r, err := rules.New("wm", map[string]float64{"beta": 2e-3})
	fmt.Printf("%+v %v\n", r, err)
	_, err = rules.New("wm", map[string]float64{"lambda": 1})
	fmt.Println(err)
	_, err = rules.New("mirror", nil)
	fmt.Println(err)
	// Output:
	// {Alpha:0.001 Beta:0.002 Noise:1} <nil>
	// rules: wm: unknown setting "lambda"; valid: alpha, beta, noise
	// rules: unknown rule "mirror"; valid: aa, bp, brsf, custom, dfa, fa, frsf, ia, kp, sa, sign, wm
}
