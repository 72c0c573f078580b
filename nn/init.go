package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/asymlab/asym/tensor"
)

// Initializer draws the initial value of a weight tensor whose outputs
// each see fanIn inputs.
type Initializer func(t *tensor.Tensor, rng *rand.Rand, fanIn int)

// HeNormal draws from N(0, 2/fanIn) (He et al. 2015), the usual choice for
// ReLU networks.
func HeNormal(t *tensor.Tensor, rng *rand.Rand, fanIn int) {
	tensor.FillNormal(t, rng, math.Sqrt(2/float64(fanIn)))
}

// LeCunTruncNormal draws from a normal truncated at ±2σ with standard
// deviation √(1/fanIn): TensorFlow's variance_scaling(1, fan_in,
// truncated_normal), used by the official code of Kunin et al. (2020).
func LeCunTruncNormal(t *tensor.Tensor, rng *rand.Rand, fanIn int) {
	tensor.FillTruncNormal(t, rng, math.Sqrt(1/float64(fanIn)))
}

// TorchUniform draws from U(±1/√fanIn), PyTorch's default for Linear and
// Conv2d weights and biases.
func TorchUniform(t *tensor.Tensor, rng *rand.Rand, fanIn int) {
	tensor.FillUniform(t, rng, 1/math.Sqrt(float64(fanIn)))
}

var initializers = map[string]Initializer{
	"he":     HeNormal,
	"lecun":  LeCunTruncNormal,
	"torch":  TorchUniform,
	"glorot": nil, // set in init: needs fan-out
}

func init() { delete(initializers, "glorot") }

// InitializerNames returns the names accepted by [InitializerByName].
func InitializerNames() []string {
	var n []string
	for k := range initializers {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// InitializerByName returns the initializer called name ("he", "lecun",
// "torch") or an error listing the valid names.
func InitializerByName(name string) (Initializer, error) {
	if f, ok := initializers[name]; ok {
		return f, nil
	}
	return nil, fmt.Errorf("nn: unknown initializer %q; valid: %s", name, strings.Join(InitializerNames(), ", "))
}
