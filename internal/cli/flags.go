package cli

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/asymlab/asym/train"
)

// configFlags are the flags that override keys of a train.Config, one per
// key of train.Keys (the Config struct's flag and help tags). Only flags
// given on the command line override the config file.
type configFlags struct {
	fs   *pflag.FlagSet
	c    train.Config // holds the flag values
	keys []train.Key  // the keys that have a flag in fs
}

// addConfigFlags adds a flag for every key of a train.Config except the
// ones in skip (TOML paths), with base's values as their defaults.
func addConfigFlags(fs *pflag.FlagSet, base train.Config, skip ...string) *configFlags {
	return addFlagsFor(fs, base, func(k train.Key) bool { return !slices.Contains(skip, k.Path) })
}

// addSomeConfigFlags adds the flags of the given keys (TOML paths) only.
func addSomeConfigFlags(fs *pflag.FlagSet, base train.Config, paths ...string) *configFlags {
	for _, p := range paths {
		if _, ok := train.LookupKey(p); !ok {
			panic("cli: no config key " + p)
		}
	}
	return addFlagsFor(fs, base, func(k train.Key) bool { return slices.Contains(paths, k.Path) })
}

func addFlagsFor(fs *pflag.FlagSet, base train.Config, want func(train.Key) bool) *configFlags {
	f := &configFlags{fs: fs, c: base}
	for _, k := range train.Keys() {
		if want(k) {
			addKeyFlag(fs, k, &f.c)
			f.keys = append(f.keys, k)
		}
	}
	return f
}

// addKeyFlag binds the flag of key k to its field in c.
func addKeyFlag(fs *pflag.FlagSet, k train.Key, c *train.Config) {
	name, help := k.Flag, k.Help
	switch p := k.Ptr(c).(type) {
	case *string:
		fs.StringVar(p, name, *p, help)
	case *int:
		fs.IntVar(p, name, *p, help)
	case *int64:
		fs.Int64Var(p, name, *p, help)
	case *uint64:
		fs.Uint64Var(p, name, *p, help)
	case *float64:
		fs.Float64Var(p, name, *p, help)
	case *bool:
		fs.BoolVar(p, name, *p, help)
	case *[]int:
		fs.IntSliceVar(p, name, *p, help)
	case *[]float64:
		fs.Float64SliceVar(p, name, *p, help)
	case *[]string:
		fs.StringSliceVar(p, name, *p, help)
	case **float64:
		fs.Var(&optValue[float64]{p: p, typ: "float", parse: func(s string) (float64, error) { return strconv.ParseFloat(s, 64) }}, name, help)
	case **bool:
		fs.Var(&optValue[bool]{p: p, typ: "bool", parse: strconv.ParseBool}, name, help)
		fs.Lookup(name).NoOptDefVal = "true"
	case **string:
		fs.Var(&optValue[string]{p: p, typ: "string", parse: func(s string) (string, error) { return s, nil }}, name, help)
	case *map[string]float64:
		*p = nil // the flag's entries, merged into the config's
		fs.Var(&paramsValue{p: p}, name, help)
	default:
		panic(fmt.Sprintf("cli: config key %s has type %T, which has no flag type", k.Path, p))
	}
}

// apply copies the flags given on the command line into cfg.
func (f *configFlags) apply(cfg *train.Config) error {
	if f.fs.Changed("rule") && f.c.Rule.Name != cfg.Rule.Name {
		// A different rule chosen on the command line starts from its own
		// defaults for a plain run, not from the settings of the config
		// file's rule.
		cfg.Rule.Params = train.RuleDefaults(f.c.Rule.Name)
	}
	if f.fs.Changed("optimizer") && f.c.Optim.Method != cfg.Optim.Method {
		// Likewise a different optimizer starts from its own momentum
		// (none but sgd's); --momentum and --nesterov, if given, follow.
		cfg.Optim.Momentum, cfg.Optim.Nesterov = train.MethodMomentum(f.c.Optim.Method)
	}
	for _, k := range f.keys {
		if f.fs.Changed(k.Flag) {
			k.Copy(cfg, &f.c)
		}
	}
	return nil
}

// optValue is the flag of an optional setting (a pointer field: unset is
// nil).
type optValue[T any] struct {
	p     **T
	typ   string
	parse func(string) (T, error)
}

func (v *optValue[T]) Set(s string) error {
	x, err := v.parse(s)
	if err != nil {
		return err
	}
	*v.p = &x
	return nil
}

func (v *optValue[T]) String() string {
	if v.p == nil || *v.p == nil {
		return ""
	}
	return fmt.Sprint(**v.p)
}

func (v *optValue[T]) Type() string { return v.typ }

// paramsValue is the repeatable NAME=VALUE flag of a map of settings.
type paramsValue struct{ p *map[string]float64 }

func (v *paramsValue) Set(s string) error {
	k, val, ok := strings.Cut(s, "=")
	if !ok {
		return fmt.Errorf("%q: want NAME=VALUE", s)
	}
	x, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
	if err != nil {
		return fmt.Errorf("%s: %q is not a number", k, val)
	}
	if *v.p == nil {
		*v.p = map[string]float64{}
	}
	(*v.p)[strings.TrimSpace(k)] = x
	return nil
}

func (v *paramsValue) String() string {
	if v.p == nil || len(*v.p) == 0 {
		return ""
	}
	var out []string
	for _, k := range slices.Sorted(maps.Keys(*v.p)) {
		out = append(out, fmt.Sprintf("%s=%g", k, (*v.p)[k]))
	}
	return strings.Join(out, ",")
}

func (v *paramsValue) Type() string { return "NAME=VALUE" }
