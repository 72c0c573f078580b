package train

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// Key is one setting of a [Config]: a leaf field of the Config struct.
//
// The Config struct is the only table of settings. Each leaf field carries
// three tags: toml (its name in a config file), flag (its command-line
// flag, without the dashes) and help (the flag's one-line help). The
// valid keys of a config file, the flags of asym train (and of the
// experiment commands) and the keys a sweep may vary are all derived from
// these tags, so adding a setting is adding one tagged field (plus its
// check in [Config.Validate] if some values are invalid).
type Key struct {
	// Path is the key's TOML path, e.g. "optim.lr" or
	// "optim.feedback.lr".
	Path string
	// Flag is the command-line flag that sets it, e.g. "lr".
	Flag string
	// Help is the flag's one-line help.
	Help string
	// Type is the field's Go type.
	Type reflect.Type

	index []int
}

// keys is the table derived from Config's tags.
var keys = sync.OnceValue(func() []Key {
	var out []Key
	var walk func(t reflect.Type, prefix string, index []int)
	walk = func(t reflect.Type, prefix string, index []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
			if name == "" || name == "-" {
				panic(fmt.Sprintf("train: Config field %s%s has no toml name", prefix, f.Name))
			}
			idx := append(slices.Clone(index), i)
			ft := f.Type
			if ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				walk(ft, prefix+name+".", idx)
				continue
			}
			out = append(out, Key{Path: prefix + name, Flag: f.Tag.Get("flag"), Help: f.Tag.Get("help"), Type: f.Type, index: idx})
		}
	}
	walk(reflect.TypeFor[Config](), "", nil)
	return out
})

// Keys returns every key of a Config, in the order of the struct's
// fields.
func Keys() []Key { return slices.Clone(keys()) }

// LookupKey returns the key with the given TOML path.
func LookupKey(path string) (Key, bool) {
	for _, k := range keys() {
		if k.Path == path {
			return k, true
		}
	}
	return Key{}, false
}

// Ways for field to handle a nil struct pointer on the way to a field.
const (
	noAlloc    = iota // stop: the field does not exist
	allocNil          // point it at a new zero struct
	copyOnPath        // point it at a new struct, a copy of the old one if any
)

// field returns k's field in c, handling the struct pointers on the way
// (Optim.Feedback) as mode says; copyOnPath makes writing the field
// never change a struct shared with another Config. ok is false when
// mode is noAlloc and such a pointer is nil.
func (k Key) field(c *Config, mode int) (v reflect.Value, ok bool) {
	v = reflect.ValueOf(c).Elem()
	for n, i := range k.index {
		if n > 0 && v.Kind() == reflect.Pointer {
			switch {
			case mode == copyOnPath || mode == allocNil && v.IsNil():
				p := reflect.New(v.Type().Elem())
				if !v.IsNil() {
					p.Elem().Set(v.Elem())
				}
				v.Set(p)
			case v.IsNil():
				return reflect.Value{}, false
			}
			v = v.Elem()
		}
		v = v.Field(i)
	}
	return v, true
}

// Ptr returns a pointer to k's field in c (for example a *float64 for
// optim.lr, a **float64 for optim.feedback.lr), allocating the nil
// structs on the way. Command-line flags bind to it.
func (k Key) Ptr(c *Config) any {
	v, _ := k.field(c, allocNil)
	return v.Addr().Interface()
}

// Copy sets k in dst to its value in src. Slices and pointers are copied,
// not shared; a map (rule.params) is merged: src's entries replace dst's
// of the same name, and dst's others stay.
func (k Key) Copy(dst, src *Config) {
	s, ok := k.field(src, noAlloc)
	if !ok {
		return
	}
	d, _ := k.field(dst, copyOnPath)
	switch s.Kind() {
	case reflect.Map:
		if s.IsNil() {
			return
		}
		m := reflect.MakeMap(s.Type())
		if !d.IsNil() {
			for it := d.MapRange(); it.Next(); {
				m.SetMapIndex(it.Key(), it.Value())
			}
		}
		for it := s.MapRange(); it.Next(); {
			m.SetMapIndex(it.Key(), it.Value())
		}
		d.Set(m)
	case reflect.Slice:
		if s.IsNil() {
			d.SetZero()
			return
		}
		d.Set(reflect.AppendSlice(reflect.MakeSlice(s.Type(), 0, s.Len()), s))
	case reflect.Pointer:
		if s.IsNil() {
			d.SetZero()
			return
		}
		p := reflect.New(s.Type().Elem())
		p.Elem().Set(s.Elem())
		d.Set(p)
	default:
		d.Set(s)
	}
}

// Numeric reports whether k holds one number (a float, an integer, or a
// pointer to one), so that [Key.SetNumber] can set it.
func (k Key) Numeric() bool {
	t := k.Type
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Float64, reflect.Int, reflect.Int64, reflect.Uint64:
		return true
	}
	return false
}

// SetNumber sets the numeric key k in c to x (integer keys need an
// integral x). Sweeps use it to vary any numeric key.
func (k Key) SetNumber(c *Config, x float64) error {
	if !k.Numeric() {
		return fmt.Errorf("%w: %s is not a number", ErrConfig, k.Path)
	}
	v, _ := k.field(c, copyOnPath)
	if v.Kind() == reflect.Pointer {
		v.Set(reflect.New(v.Type().Elem()))
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Float64:
		v.SetFloat(x)
	case reflect.Int, reflect.Int64, reflect.Uint64:
		if x != float64(int64(x)) || (v.Kind() == reflect.Uint64 && x < 0) {
			return fmt.Errorf("%w: %s = %v, want an integer", ErrConfig, k.Path, x)
		}
		if v.Kind() == reflect.Uint64 {
			v.SetUint(uint64(x))
		} else {
			v.SetInt(int64(x))
		}
	}
	return nil
}

// Value returns k's value in c (nil for an unset pointer).
func (k Key) Value(c Config) any {
	v, ok := k.field(&c, noAlloc)
	if !ok || (v.Kind() == reflect.Pointer && v.IsNil()) {
		return nil
	}
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	return v.Interface()
}

// validKeys lists the TOML paths of every key, sorted (a map's entries as
// <setting>).
func validKeys() []string {
	var out []string
	for _, k := range keys() {
		p := k.Path
		if k.Type.Kind() == reflect.Map {
			p += ".<setting>"
		}
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}
