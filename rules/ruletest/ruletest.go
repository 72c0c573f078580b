package ruletest

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path"
	"reflect"
	"strings"
	"testing"

	"github.com/asymlab/asym/engine"
	"github.com/asymlab/asym/models"
	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/rules"
	"github.com/asymlab/asym/tensor"
)

// SharedB lists the rules that keep B ≡ W (the layer's B is its W): exact
// backprop, and direct feedback alignment, which never uses the per-layer B.
// Every other rule must give each layer a B of its own.
var SharedB = map[string]bool{"bp": true, "dfa": true}

// Models returns the small models the suite binds rules to: an MLP, a
// ConvNet and CIFAR-style ResNet-8s (v1, and v2 with the official
// projection on every group's first block) at a quarter of the width, a
// two-block character GPT and a two-block ViT, on tiny inputs.
func Models() []models.Spec {
	return []models.Spec{
		{Arch: "mlp", In: []int{1, 4, 4}, Classes: 3, Hidden: []int{8, 6}},
		{Arch: "convnet", In: []int{1, 8, 8}, Classes: 3, Hidden: []int{4, 6, 8}},
		{Arch: "resnet", Depth: 8, Width: 0.25, In: []int{3, 8, 8}, Classes: 3},
		{Arch: "resnet8v2", Width: 0.25, In: []int{3, 8, 8}, Classes: 3, Shortcut: "first"},
		{Arch: "gpt", In: []int{6}, Classes: 5, Dim: 8, Heads: 2, Depth: 2, MLP: 12},
		{Arch: "vit", In: []int{1, 8, 8}, Classes: 3, Dim: 8, Heads: 2, Depth: 2, MLP: 12, Patch: 4},
	}
}

// Settings returns settings with which rules.New builds the rule: its
// defaults, or, if the defaults alone are rejected (a rule such as custom
// with every weight zero by default), every setting at 1e-3.
func Settings(info rules.Info) map[string]float64 {
	s := map[string]float64{}
	if _, err := rules.New(info.Name, nil); err == nil {
		return s
	}
	for _, st := range info.Settings {
		s[st.Name] = 1e-3
	}
	return s
}

// Run checks the registered rule called name. It runs subtests and may be
// called in parallel for different rules.
func Run(t *testing.T, name string) {
	t.Helper()
	info, ok := rules.Lookup(name)
	if !ok {
		t.Fatalf("rule %q is not registered", name)
	}
	t.Run("info", func(t *testing.T) { checkInfo(t, info) })
	t.Run("settings", func(t *testing.T) { checkSettings(t, info) })
	for _, spec := range Models() {
		t.Run("train/"+spec.Arch, func(t *testing.T) { checkTraining(t, info, spec) })
	}
	t.Run("select", func(t *testing.T) { checkSelect(t, info) })
	t.Run("binit", func(t *testing.T) { checkBInit(t, info) })
	t.Run("deterministic", func(t *testing.T) { checkDeterministic(t, info) })
}

func checkInfo(t *testing.T, info rules.Info) {
	for field, v := range map[string]string{"Summary": info.Summary, "Update": info.Update,
		"InputGrad": info.InputGrad, "Locality": info.Locality, "Source": info.Source} {
		if strings.TrimSpace(v) == "" {
			t.Errorf("Info.%s is empty", field)
		}
	}
	if !strings.HasPrefix(info.Locality, "local") && !strings.HasPrefix(info.Locality, "non-local") && info.Locality != "n/a" {
		t.Errorf("Info.Locality = %q, want it to start with local or non-local, or be n/a", info.Locality)
	}
	if !strings.ContainsAny(info.Source, "0123456789") {
		t.Errorf("Info.Source = %q does not cite a year or an arXiv number", info.Source)
	}
	seen := map[string]bool{}
	for _, s := range info.Settings {
		switch {
		case s.Name == "" || strings.ContainsAny(s.Name, " \t=,"):
			t.Errorf("setting name %q is not a config key", s.Name)
		case seen[s.Name]:
			t.Errorf("setting %s is listed twice", s.Name)
		case strings.TrimSpace(s.Doc) == "":
			t.Errorf("setting %s has no Doc", s.Name)
		case math.IsNaN(s.Default) || math.IsInf(s.Default, 0) || (s.NonNegative && s.Default < 0):
			t.Errorf("setting %s has an invalid default %v", s.Name, s.Default)
		}
		seen[s.Name] = true
	}
}

func checkSettings(t *testing.T, info rules.Info) {
	full, err := info.Resolve(nil)
	if err != nil {
		t.Fatalf("Resolve(nil): %v", err)
	}
	if len(full) != len(info.Settings) {
		t.Errorf("Resolve(nil) = %v, want one entry per setting (%d)", full, len(info.Settings))
	}
	for _, s := range info.Settings {
		if v, ok := full[s.Name]; !ok || v != s.Default {
			t.Errorf("Resolve(nil)[%s] = %v, want the default %v", s.Name, v, s.Default)
		}
	}

	base := Settings(info)
	r0, err := rules.New(info.Name, base)
	if err != nil {
		t.Fatalf("New(%s, %v): %v", info.Name, base, err)
	}
	if r0.Name() != info.Name {
		t.Errorf("New(%s).Name() = %q", info.Name, r0.Name())
	}
	if len(base) == 0 {
		// New fills in the defaults: the same rule as with them spelt out.
		explicit := map[string]float64{}
		for _, s := range info.Settings {
			explicit[s.Name] = s.Default
		}
		r1, err := rules.New(info.Name, explicit)
		if err != nil {
			t.Fatalf("New with the defaults spelt out: %v", err)
		}
		if !reflect.DeepEqual(r0, r1) {
			t.Errorf("New(nil) = %#v, New(defaults) = %#v", r0, r1)
		}
	} else if _, err := rules.New(info.Name, nil); err == nil || !strings.Contains(err.Error(), info.Name) {
		t.Errorf("New(%s, nil) rejects its defaults with an error that does not name the rule: %v", info.Name, err)
	}
	// Every setting reaches the rule.
	for _, s := range info.Settings {
		changed := clone(base)
		changed[s.Name] = base[s.Name] + s.Default + 0.5
		r, err := rules.New(info.Name, changed)
		if err != nil {
			t.Errorf("New with %s = %v: %v", s.Name, changed[s.Name], err)
			continue
		}
		if reflect.DeepEqual(r, r0) {
			t.Errorf("setting %s = %v gives the same rule as %v", s.Name, changed[s.Name], base[s.Name])
		}
	}
	// Unknown settings are rejected with the valid list.
	_, err = rules.New(info.Name, map[string]float64{"no_such_setting": 1})
	if err == nil {
		t.Fatal("unknown setting accepted")
	}
	if !strings.Contains(err.Error(), "no_such_setting") {
		t.Errorf("error %q does not name the unknown setting", err)
	}
	for _, s := range info.Settings {
		if !strings.Contains(err.Error(), s.Name) {
			t.Errorf("error %q does not list the valid setting %s", err, s.Name)
		}
	}
	if len(info.Settings) == 0 && !strings.Contains(err.Error(), "no settings") {
		t.Errorf("error %q does not say that the rule has no settings", err)
	}
	// Bad values.
	for _, s := range info.Settings {
		bad := []float64{math.NaN(), math.Inf(1), math.Inf(-1)}
		if s.NonNegative {
			bad = append(bad, -1e-3)
		}
		for _, v := range bad {
			m := clone(base)
			m[s.Name] = v
			if _, err := rules.New(info.Name, m); err == nil || !strings.Contains(err.Error(), s.Name) {
				t.Errorf("%s = %v: error %v, want one naming the setting", s.Name, v, err)
			}
		}
	}
}

func clone(m map[string]float64) map[string]float64 {
	c := make(map[string]float64, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// setup builds spec with model seed 1 and binds the rule with env seed
// seed.
func setup(t *testing.T, info rules.Info, spec models.Spec, opts rules.Options, seed uint64) (*nn.Network, *rules.Bound, error) {
	t.Helper()
	net, err := models.Build(spec, tensor.NewRand(1, 0))
	if err != nil {
		t.Fatalf("models.Build(%+v): %v", spec, err)
	}
	r, err := rules.New(info.Name, Settings(info))
	if err != nil {
		t.Fatal(err)
	}
	env := &rules.Env{Rand: tensor.NewRand(seed, 1), Seed: seed, WeightDecay: 1e-4}
	b, err := rules.Apply(net, r, opts, env)
	return net, b, err
}

// step runs one training step (forward, mean cross-entropy, backward with
// the rule, SGD with learning rate lr and weight decay 1e-4 on W) and
// returns the loss.
func step(c *nn.Ctx, net *nn.Network, x *tensor.Tensor, y []int32, lr float32) float64 {
	logits := net.Forward(c, x)
	var dl tensor.Tensor
	loss, _, _ := net.Head.Loss(c.E, &dl, logits, y, 0)
	net.Backward(c, &dl)
	for _, p := range net.Params() {
		if p.Grad == nil {
			continue
		}
		for i, g := range p.Grad.Data {
			if p.Kind == nn.KindWeight {
				g += 1e-4 * p.Value.Data[i]
			}
			p.Value.Data[i] -= lr * g
		}
	}
	return loss
}

// data returns a fixed batch of 4 samples for net: normal inputs, or
// token ids for a language model (a network whose head scores tokens),
// and one target per sample or position.
func data(net *nn.Network) (*tensor.Tensor, []int32) {
	return Batch(rand.New(rand.NewPCG(7, 7)), net, 4)
}

// Batch returns a random batch of n samples for net: inputs drawn from
// N(0, 1), or token ids in [0, Classes) when net's head is
// [nn.TokenCrossEntropy], and net.Head.Targets targets per sample.
func Batch(rng *rand.Rand, net *nn.Network, n int) (*tensor.Tensor, []int32) {
	x := tensor.New(append([]int{n}, net.In...)...)
	if _, tokens := net.Head.(nn.TokenCrossEntropy); tokens {
		for i := range x.Data {
			x.Data[i] = float32(rng.IntN(net.Classes))
		}
	} else {
		tensor.FillNormal(x, rng, 1)
	}
	y := make([]int32, n*net.Head.Targets(net.Out))
	for i := range y {
		y[i] = int32(rng.IntN(net.Classes))
	}
	return x, y
}

// Selectable returns the weight layers that "all" selects: every one but
// the lookups (embedding tables).
func Selectable(net *nn.Network) []nn.WeightLayer {
	var out []nn.WeightLayer
	for _, l := range net.WeightLayers() {
		if lk, ok := l.(nn.Lookup); !ok || !lk.IsLookup() {
			out = append(out, l)
		}
	}
	return out
}

func finite(t *testing.T, when string, ps []*nn.Param) {
	t.Helper()
	for _, p := range ps {
		if !tensor.AllFinite(p.Value.Data) {
			t.Fatalf("%s: %s has NaN or Inf values", when, p.Name)
		}
		if p.Grad != nil && !tensor.AllFinite(p.Grad.Data) {
			t.Fatalf("%s: %s has NaN or Inf gradients", when, p.Name)
		}
	}
}

func checkTraining(t *testing.T, info rules.Info, spec models.Spec) {
	net, b, err := setup(t, info, spec, rules.Options{}, 2)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if b.Rule == nil || b.Rule.Name() != info.Name {
		t.Errorf("Bound.Rule = %v", b.Rule)
	}
	all := Selectable(net)
	if len(b.Layers) != len(all) || len(b.Feedbacks) != len(b.Layers) {
		t.Fatalf("bound %d layers (%d feedbacks), the model has %d", len(b.Layers), len(b.Feedbacks), len(all))
	}
	names := map[string]bool{}
	for _, p := range net.Params() {
		if names[p.Name] {
			t.Errorf("parameter name %s is used twice", p.Name)
		}
		names[p.Name] = true
	}
	for _, p := range b.State {
		if p.Name == "" || names[p.Name] {
			t.Errorf("rule state %q has no name of its own", p.Name)
		}
		names[p.Name] = true
	}
	var trained []*nn.Param
	before := map[*nn.Param]*tensor.Tensor{}
	for i, l := range all {
		if b.Layers[i] != l {
			t.Errorf("Bound.Layers[%d] = %s, want %s", i, b.Layers[i].Name(), l.Name())
		}
		w, fb := l.Weight(), l.Feedback()
		if !tensor.SameShape(w.Value.Shape, fb.Value.Shape) {
			t.Fatalf("%s: B has shape %v, W %v", l.Name(), fb.Value.Shape, w.Value.Shape)
		}
		if SharedB[info.Name] {
			if fb != w {
				t.Errorf("%s: %s should keep B ≡ W", l.Name(), info.Name)
			}
			continue
		}
		if fb == w {
			t.Fatalf("%s: %s left the layer's B ≡ W", l.Name(), info.Name)
		}
		if fb.Kind != nn.KindFeedback {
			t.Errorf("%s: B has kind %v, want feedback", fb.Name, fb.Kind)
		}
		if tensor.Equal(fb.Value, w.Value) {
			t.Errorf("%s: B equals W after binding", l.Name())
		}
		if fb.Grad != nil {
			if !tensor.SameShape(fb.Grad.Shape, fb.Value.Shape) {
				t.Errorf("%s: B.Grad has shape %v", fb.Name, fb.Grad.Shape)
			}
			trained = append(trained, fb)
		}
		before[fb] = fb.Value.Clone()
		before[w] = w.Value.Clone()
	}
	finite(t, "after binding", append(net.Params(), b.State...))

	c := &nn.Ctx{E: engine.NewCPU(2), Train: true, Seed: 3}
	x, y := data(net)
	for s := 0; s < 3; s++ {
		c.Step = uint64(s)
		loss := step(c, net, x, y, 0.05)
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			t.Fatalf("step %d: loss %v", s, loss)
		}
		finite(t, fmt.Sprintf("step %d", s), append(net.Params(), b.State...))
		if l := b.Loss(c); math.IsNaN(l) || math.IsInf(l, 0) {
			t.Fatalf("step %d: rule loss %v", s, l)
		}
	}
	w0 := all[0].Weight()
	if SharedB[info.Name] {
		return
	}
	if tensor.Equal(before[w0], w0.Value) {
		t.Errorf("%s: W did not train", all[0].Name())
	}
	for _, fb := range trained {
		if tensor.Equal(before[fb], fb.Value) {
			t.Errorf("%s has a gradient but did not change in 3 steps", fb.Name)
		}
	}
}

func boundNames(b *rules.Bound) []string {
	var n []string
	for _, l := range b.Layers {
		n = append(n, l.Name())
	}
	return n
}

func checkSelect(t *testing.T, info rules.Info) {
	spec := Models()[1] // convnet: conv1, conv2, fc1, fc2
	r, err := rules.New(info.Name, Settings(info))
	if err != nil {
		t.Fatal(err)
	}
	_, isNetworkRule := r.(rules.NetworkRule)
	cases := []struct {
		opts rules.Options
		want []string // nil: an error
	}{
		{rules.Options{Layers: "all"}, []string{"conv1", "conv2", "fc1", "fc2"}},
		{rules.Options{Layers: " hidden "}, []string{"conv1", "conv2", "fc1"}},
		{rules.Options{Layers: "conv*"}, []string{"conv1", "conv2"}},
		{rules.Options{Layers: "fc1, conv2"}, []string{"conv2", "fc1"}},
		{rules.Options{Exclude: "fc2"}, []string{"conv1", "conv2", "fc1"}},
		{rules.Options{Layers: "hidden", Exclude: "conv?"}, []string{"fc1"}},
		{rules.Options{Layers: "conv["}, nil},
		{rules.Options{Exclude: "fc["}, nil},
		{rules.Options{Layers: "conv1,nosuch"}, nil},
		{rules.Options{Layers: " , "}, nil},
	}
	for _, tc := range cases {
		want := tc.want
		sel := strings.TrimSpace(tc.opts.Layers)
		custom := (sel != "" && sel != "all" && sel != "hidden") || tc.opts.Exclude != ""
		if isNetworkRule && custom {
			want = nil // network rules act on every hidden block
		}
		net, b, err := setup(t, info, spec, tc.opts, 2)
		if want == nil {
			if err == nil {
				t.Errorf("%+v: bound %v, want an error", tc.opts, boundNames(b))
			} else if isNetworkRule {
				if !strings.Contains(err.Error(), info.Name) {
					t.Errorf("%+v: error %v does not name the rule", tc.opts, err)
				}
			} else if strings.Contains(tc.opts.Layers+tc.opts.Exclude, "[") && !errors.Is(err, path.ErrBadPattern) {
				t.Errorf("%+v: error %v does not wrap path.ErrBadPattern", tc.opts, err)
			} else if strings.Contains(tc.opts.Layers, "nosuch") && !strings.Contains(err.Error(), "fc2") {
				t.Errorf("%+v: error %v does not list the model's layers", tc.opts, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%+v: %v", tc.opts, err)
			continue
		}
		if got := boundNames(b); !reflect.DeepEqual(got, want) {
			t.Errorf("%+v: bound %v, want %v", tc.opts, got, want)
		}
		picked, err := rules.Select(net, tc.opts)
		if err != nil || len(picked) != len(want) {
			t.Errorf("Select(%+v) = %d layers, %v; want %d", tc.opts, len(picked), err, len(want))
		}
		chosen := map[string]bool{}
		for _, n := range want {
			chosen[n] = true
		}
		for _, l := range net.WeightLayers() {
			own := l.Feedback() != l.Weight()
			if !chosen[l.Name()] && own {
				t.Errorf("%+v: unselected %s got a B of its own", tc.opts, l.Name())
			}
			if chosen[l.Name()] && !SharedB[info.Name] && !own {
				t.Errorf("%+v: selected %s kept B ≡ W", tc.opts, l.Name())
			}
		}
	}
}

func checkBInit(t *testing.T, info rules.Info) {
	spec := Models()[0]
	for _, opts := range []rules.Options{{BInit: "bogus"}, {BScale: -1}, {BScale: math.NaN()}, {BScale: math.Inf(1)}} {
		if _, _, err := setup(t, info, spec, opts, 2); err == nil {
			t.Errorf("%+v accepted", opts)
		}
	}
	if SharedB[info.Name] {
		return
	}
	for _, tc := range []struct{ scale, factor float32 }{{0, 1}, {1, 1}, {0.5, 0.5}} { // b_scale 0 means 1
		net, _, err := setup(t, info, spec, rules.Options{BInit: "copy", BScale: float64(tc.scale)}, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range net.WeightLayers() {
			want := l.Weight().Value.Clone()
			for i := range want.Data {
				want.Data[i] *= tc.factor // exact in float32
			}
			if !tensor.Equal(l.Feedback().Value, want) {
				t.Errorf("b_init copy, b_scale %v: %s's B is not %v·W", tc.scale, l.Name(), tc.factor)
			}
		}
	}
}

func checkDeterministic(t *testing.T, info rules.Info) {
	spec := Models()[1]
	run := func() []*nn.Param {
		net, b, err := setup(t, info, spec, rules.Options{}, 5)
		if err != nil {
			t.Fatal(err)
		}
		c := &nn.Ctx{E: engine.NewCPU(2), Train: true, Seed: 3}
		x, y := data(net)
		for s := 0; s < 2; s++ {
			c.Step = uint64(s)
			step(c, net, x, y, 0.05)
		}
		return append(net.Params(), b.State...)
	}
	a, b := run(), run()
	if len(a) != len(b) {
		t.Fatalf("%d parameters, then %d", len(a), len(b))
	}
	for i := range a {
		if a[i].Name != b[i].Name || !tensor.Equal(a[i].Value, b[i].Value) {
			t.Errorf("%s differs between two runs with the same seeds (max diff %g)", a[i].Name, tensor.MaxAbsDiff(a[i].Value, b[i].Value))
		}
	}
}
