package rules

import (
	"fmt"
	"math"
	"strings"
	"sync"
)

// Setting describes one numeric setting of a rule.
type Setting struct {
	// Name is the key in configs ("alpha").
	Name string
	// Default is the value used when the setting is not given.
	Default float64
	// Doc says what the setting does.
	Doc string
	// NonNegative rejects negative values.
	NonNegative bool
}

// Info describes a registered rule.
type Info struct {
	// Name is the rule's name in configs and on the command line.
	Name string
	// Summary is a one-line description.
	Summary string
	// Update is the update of B, as a formula.
	Update string
	// InputGrad is how the input gradient is formed, as a formula.
	InputGrad string
	// Locality is "local", "non-local" or "n/a".
	Locality string
	// Source cites the paper.
	Source string
	// Settings lists the rule's settings with their defaults.
	Settings []Setting
	// NoB marks a rule without per-layer backward weights (direct
	// feedback alignment): the layers keep B ≡ W but never send an error
	// through it, so the metrics of B (weight, projection and layer-local
	// gradient angles, norm ratio) are not defined for it.
	NoB bool
	// GlobalNoiseOnB marks the rules under which the official code's
	// global noisy updates (use_noisy_global_opt) perturb only the backward
	// weights (Kolen–Pollack, whose B follows W's updates); under the
	// others they perturb every trained parameter.
	GlobalNoiseOnB bool
	// New builds the rule from complete settings (defaults filled in).
	New func(s map[string]float64) (Rule, error)
}

var (
	regMu    sync.Mutex
	registry = map[string]Info{}
)

// Register adds a rule to the registry. It panics if the name is taken or
// the info is incomplete (a programmer error).
func Register(info Info) {
	regMu.Lock()
	defer regMu.Unlock()
	if info.Name == "" || info.New == nil {
		panic("rules: Register: incomplete info for " + info.Name)
	}
	if _, dup := registry[info.Name]; dup {
		panic("rules: Register: duplicate rule " + info.Name)
	}
	registry[info.Name] = info
}

// Names returns the registered rule names, sorted.
func Names() []string {
	regMu.Lock()
	defer regMu.Unlock()
	return sortedKeys(registry)
}

// Lookup returns the info of the rule called name.
func Lookup(name string) (Info, bool) {
	regMu.Lock()
	defer regMu.Unlock()
	i, ok := registry[name]
	return i, ok
}

// New builds the rule called name with the given settings; settings not
// given take their defaults. Unknown names and settings, and bad values,
// are errors that list the valid choices.
func New(name string, settings map[string]float64) (Rule, error) {
	info, ok := Lookup(name)
	if !ok {
		return nil, fmt.Errorf("rules: unknown rule %q; valid: %s", name, strings.Join(Names(), ", "))
	}
	full, err := info.Resolve(settings)
	if err != nil {
		return nil, err
	}
	return info.New(full)
}

// Resolve validates settings against the rule's and fills in defaults.
func (info Info) Resolve(settings map[string]float64) (map[string]float64, error) {
	full := map[string]float64{}
	valid := make([]string, 0, len(info.Settings))
	for _, s := range info.Settings {
		full[s.Name] = s.Default
		valid = append(valid, s.Name)
	}
	for _, k := range sortedKeys(settings) {
		v := settings[k]
		spec, ok := info.setting(k)
		if !ok {
			if len(valid) == 0 {
				return nil, fmt.Errorf("rules: %s: unknown setting %q; this rule has no settings", info.Name, k)
			}
			return nil, fmt.Errorf("rules: %s: unknown setting %q; valid: %s", info.Name, k, strings.Join(valid, ", "))
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("rules: %s: setting %s = %v is not a finite number", info.Name, k, v)
		}
		if spec.NonNegative && v < 0 {
			return nil, fmt.Errorf("rules: %s: setting %s = %v, want ≥ 0", info.Name, k, v)
		}
		full[k] = v
	}
	return full, nil
}

func (info Info) setting(name string) (Setting, bool) {
	for _, s := range info.Settings {
		if s.Name == name {
			return s, true
		}
	}
	return Setting{}, false
}
