package cli

import (
	"reflect"
	"testing"

	"github.com/spf13/pflag"

	"github.com/asymlab/asym/train"
)

// flagSample returns a command-line value for a key of type t, different
// from def (the key's default), and the value it should give.
func flagSample(t reflect.Type, def any) (string, any) {
	switch t.Kind() {
	case reflect.Pointer:
		return flagSample(t.Elem(), nil)
	case reflect.String:
		return "x1", "x1"
	case reflect.Int:
		return "7", 7
	case reflect.Int64:
		return "7", int64(7)
	case reflect.Uint64:
		return "7", uint64(7)
	case reflect.Float64:
		return "0.125", 0.125
	case reflect.Bool:
		if def == true {
			return "false", false
		}
		return "true", true
	case reflect.Slice:
		switch t.Elem().Kind() {
		case reflect.Int:
			return "3,4", []int{3, 4}
		case reflect.Float64:
			return "0.5,1.5", []float64{0.5, 1.5}
		case reflect.String:
			return "a,b", []string{"a", "b"}
		}
	case reflect.Map:
		return "alpha=0.5", map[string]float64{"alpha": 0.5}
	}
	panic("no sample for " + t.String())
}

// TestConfigFlags: every key of train.Config has its flag, and the flag
// given on the command line sets that key and no other (but --optimizer,
// which brings its method's momentum).
func TestConfigFlags(t *testing.T) {
	base := train.Default()
	for _, k := range train.Keys() {
		t.Run(k.Flag, func(t *testing.T) {
			fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
			f := addConfigFlags(fs, base)
			arg, want := flagSample(k.Type, k.Value(base))
			if err := fs.Parse([]string{"--" + k.Flag + "=" + arg}); err != nil {
				t.Fatal(err)
			}
			cfg := base
			if err := f.apply(&cfg); err != nil {
				t.Fatal(err)
			}
			if got := k.Value(cfg); !reflect.DeepEqual(got, want) {
				t.Errorf("--%s=%s sets %s to %#v, want %#v", k.Flag, arg, k.Path, got, want)
			}
			for _, o := range train.Keys() {
				if k.Flag == "optimizer" && (o.Path == "optim.momentum" || o.Path == "optim.nesterov") {
					// The one coupling: a method brings its own momentum.
					if m, n := train.MethodMomentum(cfg.Optim.Method); cfg.Optim.Momentum != m || cfg.Optim.Nesterov != n {
						t.Errorf("--optimizer=%s: momentum %v nesterov %v, want %v %v", arg, cfg.Optim.Momentum, cfg.Optim.Nesterov, m, n)
					}
					continue
				}
				if o.Path != k.Path && !reflect.DeepEqual(o.Value(cfg), o.Value(base)) {
					t.Errorf("--%s changed %s", k.Flag, o.Path)
				}
			}
		})
	}
}

// TestConfigFlagsUnchanged: flags not given leave the config as it is,
// and --rule-param merges into the config's settings.
func TestConfigFlagsUnchanged(t *testing.T) {
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	f := addConfigFlags(fs, train.Default())
	if err := fs.Parse([]string{"--rule-param", "beta=2", "--rule-param", "alpha=1"}); err != nil {
		t.Fatal(err)
	}
	cfg := train.Default()
	cfg.Model.Arch = "convnet"
	cfg.Rule.Name = "sa"
	cfg.Rule.Params = map[string]float64{"alpha": 3, "gamma": 4}
	if err := f.apply(&cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Model.Arch != "convnet" {
		t.Errorf("arch = %q: a flag not given overrode the config", cfg.Model.Arch)
	}
	if want := map[string]float64{"alpha": 1, "beta": 2, "gamma": 4}; !reflect.DeepEqual(cfg.Rule.Params, want) {
		t.Errorf("params = %v, want %v", cfg.Rule.Params, want)
	}
}

// TestRuleFlagDefaults: a rule chosen on the command line starts from
// train.RuleDefaults, and --rule-param overrides them.
func TestRuleFlagDefaults(t *testing.T) {
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	f := addConfigFlags(fs, train.Default())
	if err := fs.Parse([]string{"--rule", "sa", "--rule-param", "beta=0.3"}); err != nil {
		t.Fatal(err)
	}
	cfg := train.Default()
	if err := f.apply(&cfg); err != nil {
		t.Fatal(err)
	}
	want := train.RuleDefaults("sa")
	want["beta"] = 0.3
	if !reflect.DeepEqual(cfg.Rule.Params, want) {
		t.Errorf("params = %v, want %v", cfg.Rule.Params, want)
	}
}

// TestEvalFlags: eval takes its data and thread settings from the table,
// and a flag not given keeps the checkpoint's value.
func TestEvalFlags(t *testing.T) {
	cmd := newEvalCmd(&IO{})
	for _, name := range []string{"data", "data-dir", "eval-batch", "workers", "threads"} {
		k, _ := train.LookupKey(map[string]string{"data": "data.name", "data-dir": "data.dir", "eval-batch": "data.eval_batch",
			"workers": "data.workers", "threads": "run.threads"}[name])
		if f := cmd.Flags().Lookup(name); f == nil || f.Usage != k.Help {
			t.Errorf("eval --%s: %v, want the help of %s", name, f, k.Path)
		}
	}
	if cmd.Flags().Lookup("lr") != nil {
		t.Error("eval has training flags")
	}
}
