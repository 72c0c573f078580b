package interop

import (
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/asymlab/asym/checkpoint"
	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/safetensors"
)

// ErrImport marks a file that does not fit the model.
var ErrImport = errors.New("interop: weights do not fit the model")

// Export writes net's parameters with PyTorch names to path (atomically),
// adding meta as the file's metadata.
func Export(path string, net *nn.Network, feedback bool, meta map[string]string) error {
	var ts []safetensors.Tensor
	bn := map[string]bool{}
	for _, p := range net.Params() {
		switch {
		case p.Kind == nn.KindFeedback && !feedback:
			continue
		case p.Kind == nn.KindBuffer && strings.HasSuffix(p.Name, ".running_mean"):
			bn[strings.TrimSuffix(p.Name, ".running_mean")] = true
		}
		if p.Kind == nn.KindBuffer && !strings.HasSuffix(p.Name, ".running_mean") && !strings.HasSuffix(p.Name, ".running_var") {
			continue // rule state (fixed random matrices) is not a PyTorch parameter
		}
		ts = append(ts, safetensors.FromTensor(p.Name, p.Value))
	}
	for _, prefix := range sortedKeys(bn) {
		ts = append(ts, safetensors.Int64s(prefix+".num_batches_tracked", []int{}, []int64{0}))
	}
	m := map[string]string{"format": "pt"}
	for k, v := range meta {
		m[k] = v
	}
	return checkpoint.Save(path, ts, m)
}

// Report lists what an Import did.
type Report struct {
	// Loaded are the parameters set from the file.
	Loaded []string
	// Skipped are the parameters left as they were (skip patterns).
	Skipped []string
	// Unused are the file's tensors the model has no parameter for.
	Unused []string
}

// Import sets net's forward parameters (weights, biases, batch-norm
// parameters and statistics) from the safetensors file at path. Parameters
// whose names match a skip pattern (path.Match syntax) keep their values.
// Backward weights are taken from the file when it has them
// ("<layer>.backward_weight") and the network has them bound already, and
// otherwise keep theirs. A parameter
// missing from the file, or with another shape, is an error wrapping
// ErrImport that lists every problem.
func Import(file string, net *nn.Network, skip []string) (Report, error) {
	var rep Report
	for _, p := range skip {
		if _, err := path.Match(p, ""); err != nil {
			return rep, fmt.Errorf("interop: bad skip pattern %q: %w", p, err)
		}
	}
	f, err := safetensors.Open(file)
	if err != nil {
		return rep, err
	}
	defer f.Close()
	used := map[string]bool{}
	var problems []string
	for _, p := range net.Params() {
		if matchAny(skip, p.Name) {
			rep.Skipped = append(rep.Skipped, p.Name)
			continue
		}
		info, ok := f.Info(p.Name)
		if !ok {
			if p.Kind == nn.KindFeedback || (p.Kind == nn.KindBuffer && !isBNStat(p.Name)) {
				continue // B and rule state come from the rule unless given
			}
			problems = append(problems, fmt.Sprintf("%s: missing from the file", p.Name))
			continue
		}
		used[p.Name] = true
		if !sameShape(info.Shape, p.Value.Shape) {
			problems = append(problems, fmt.Sprintf("%s: shape %v in the file, %v in the model", p.Name, info.Shape, p.Value.Shape))
			continue
		}
		if err := f.Float32Into(p.Name, p.Value); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", p.Name, err))
			continue
		}
		rep.Loaded = append(rep.Loaded, p.Name)
	}
	for _, n := range f.Names() {
		if !used[n] && !strings.HasSuffix(n, ".num_batches_tracked") {
			rep.Unused = append(rep.Unused, n)
		}
	}
	if len(problems) > 0 {
		hint := ""
		if len(problems) > 0 && anyFC(problems) {
			hint = " (a classifier with another number of classes can be skipped with --init-skip 'fc.*')"
		}
		return rep, fmt.Errorf("%w: %s: %s%s", ErrImport, file, strings.Join(problems, "; "), hint)
	}
	return rep, nil
}

func isBNStat(name string) bool {
	return strings.HasSuffix(name, ".running_mean") || strings.HasSuffix(name, ".running_var")
}

func anyFC(problems []string) bool {
	for _, p := range problems {
		if strings.HasPrefix(p, "fc.") {
			return true
		}
	}
	return false
}

func matchAny(patterns []string, name string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func sortedKeys(m map[string]bool) []string {
	k := make([]string, 0, len(m))
	for n := range m {
		k = append(k, n)
	}
	sort.Strings(k)
	return k
}
