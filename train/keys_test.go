package train

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// sampleValue returns a value of type t that differs from zero, as Go
// value and as TOML literal.
func sampleValue(t reflect.Type) (any, string) {
	switch t.Kind() {
	case reflect.Pointer:
		v, lit := sampleValue(t.Elem())
		p := reflect.New(t.Elem())
		p.Elem().Set(reflect.ValueOf(v))
		return p.Interface(), lit
	case reflect.String:
		return "x1", `"x1"`
	case reflect.Int:
		return 7, "7"
	case reflect.Int64:
		return int64(7), "7"
	case reflect.Uint64:
		return uint64(7), "7"
	case reflect.Float64:
		return 0.125, "0.125"
	case reflect.Bool:
		return true, "true"
	case reflect.Slice:
		switch t.Elem().Kind() {
		case reflect.Int:
			return []int{3, 4}, "[3, 4]"
		case reflect.Float64:
			return []float64{0.5, 1.5}, "[0.5, 1.5]"
		case reflect.String:
			return []string{"a", "b"}, `["a", "b"]`
		}
	case reflect.Map:
		return map[string]float64{"alpha": 0.5}, "{alpha = 0.5}"
	}
	panic(fmt.Sprintf("no sample value of type %v", t))
}

// TestKeysTable ties the table of keys to the Config struct: every leaf
// field is a key with a TOML path, a flag and a help text, paths and flags
// are unique, and a config file setting a key's path sets that field and
// no other.
func TestKeysTable(t *testing.T) {
	ks := Keys()
	// Count the leaf fields independently of the table.
	var leaves func(reflect.Type) int
	leaves = func(t reflect.Type) int {
		n := 0
		for i := range t.NumField() {
			ft := t.Field(i).Type
			if ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				n += leaves(ft)
			} else {
				n++
			}
		}
		return n
	}
	if n := leaves(reflect.TypeFor[Config]()); len(ks) != n {
		t.Fatalf("%d keys for %d leaf fields of Config", len(ks), n)
	}
	flagRE := regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)
	paths, flags := map[string]bool{}, map[string]bool{}
	for _, k := range ks {
		if paths[k.Path] || flags[k.Flag] {
			t.Errorf("%s (--%s): duplicate path or flag", k.Path, k.Flag)
		}
		paths[k.Path], flags[k.Flag] = true, true
		if !flagRE.MatchString(k.Flag) {
			t.Errorf("%s: flag %q is not a lower-case dashed name", k.Path, k.Flag)
		}
		if k.Help == "" {
			t.Errorf("%s: no help tag", k.Path)
		}
		if got, ok := LookupKey(k.Path); !ok || got.Flag != k.Flag {
			t.Errorf("LookupKey(%q) = %v, %v", k.Path, got, ok)
		}
		// A file setting the key sets that field and leaves every other
		// key at its default (but optim.method's momentum).
		want, lit := sampleValue(k.Type)
		sec, name, _ := strings.Cut(k.Path, ".")
		if i := strings.LastIndex(name, "."); i >= 0 {
			sec, name = sec+"."+name[:i], name[i+1:]
		}
		doc := fmt.Sprintf("[%s]\n%s = %s\n", sec, name, lit)
		c, err := Decode(strings.NewReader(doc), "keys.toml", Default())
		if err != nil {
			t.Errorf("%s: %v", k.Path, err)
			continue
		}
		wantV := want
		if reflect.TypeOf(want).Kind() == reflect.Pointer {
			wantV = reflect.ValueOf(want).Elem().Interface()
		}
		if got := k.Value(c); !reflect.DeepEqual(got, wantV) {
			t.Errorf("%s: file %q gives %#v, want %#v", k.Path, doc, got, wantV)
		}
		for _, o := range ks {
			if k.Path == "optim.method" && (o.Path == "optim.momentum" || o.Path == "optim.nesterov") {
				// The one coupling: a method brings its own momentum.
				m, n := MethodMomentum(c.Optim.Method)
				if c.Optim.Momentum != m || c.Optim.Nesterov != n {
					t.Errorf("optim.method %q: momentum %v nesterov %v, want MethodMomentum's %v %v", c.Optim.Method, c.Optim.Momentum, c.Optim.Nesterov, m, n)
				}
				continue
			}
			if o.Path != k.Path && !reflect.DeepEqual(o.Value(c), o.Value(Default())) {
				t.Errorf("%s: setting it changed %s", k.Path, o.Path)
			}
		}
	}
	// Every key is a valid key of the decoder's error message.
	vk := validKeys()
	for _, k := range ks {
		if !slices.Contains(vk, k.Path) && !slices.Contains(vk, k.Path+".<setting>") {
			t.Errorf("%s missing from validKeys", k.Path)
		}
	}
}

// TestKeyCopy: Copy copies one key without sharing memory with the source
// and merges maps.
func TestKeyCopy(t *testing.T) {
	src, dst := Default(), Default()
	lr := 0.5
	src.Optim.Feedback = &FeedbackOpt{LR: &lr}
	src.Model.Hidden = []int{8}
	src.Rule.Params = map[string]float64{"alpha": 1}
	dst.Rule.Params = map[string]float64{"beta": 2}
	shared := &FeedbackOpt{}
	dst.Optim.Feedback = shared
	for _, p := range []string{"optim.feedback.lr", "model.hidden", "rule.params"} {
		k, _ := LookupKey(p)
		k.Copy(&dst, &src)
	}
	if dst.Optim.Feedback.LR == nil || *dst.Optim.Feedback.LR != 0.5 || dst.Optim.Feedback.LR == src.Optim.Feedback.LR {
		t.Errorf("feedback lr not copied by value: %v", dst.Optim.Feedback.LR)
	}
	if shared.LR != nil {
		t.Error("Copy wrote into a FeedbackOpt shared with another config")
	}
	src.Model.Hidden[0] = 9
	if dst.Model.Hidden[0] != 8 {
		t.Error("Copy shares the slice")
	}
	if !reflect.DeepEqual(dst.Rule.Params, map[string]float64{"alpha": 1, "beta": 2}) {
		t.Errorf("params = %v, want merged", dst.Rule.Params)
	}
}

func TestKeySetNumber(t *testing.T) {
	cases := []struct {
		path string
		x    float64
		ok   bool
	}{
		{"optim.lr", 0.3, true},
		{"optim.feedback.lr", 0.2, true},
		{"data.batch", 16, true},
		{"data.batch", 16.5, false},
		{"run.seed", -1, false},
		{"model.arch", 1, false},
	}
	for _, tc := range cases {
		k, _ := LookupKey(tc.path)
		c := Default()
		err := k.SetNumber(&c, tc.x)
		if (err == nil) != tc.ok {
			t.Errorf("%s = %v: err %v, want ok %v", tc.path, tc.x, err, tc.ok)
			continue
		}
		if tc.ok && fmt.Sprint(k.Value(c)) != fmt.Sprint(tc.x) {
			t.Errorf("%s = %v: got %v", tc.path, tc.x, k.Value(c))
		}
	}
}

// TestConfigZeroRoundTrip: a saved config reads back as itself over the
// defaults, whatever the value of each key — in particular a key whose
// default is not its zero value is written even when it is zero (a
// omitempty tag on it would make a saved false or 0 read back as the
// default).
func TestConfigZeroRoundTrip(t *testing.T) {
	for _, k := range Keys() {
		c := Default()
		v, _ := k.field(&c, copyOnPath)
		v.SetZero()
		got, err := Decode(strings.NewReader(c.String()), "saved.toml", Default())
		if err != nil {
			t.Fatalf("%s: %v", k.Path, err)
		}
		if !reflect.DeepEqual(k.Value(got), k.Value(c)) {
			t.Errorf("%s = %#v reads back as %#v", k.Path, k.Value(c), k.Value(got))
		}
	}
}
