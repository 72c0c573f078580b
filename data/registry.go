package data

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// FashionMNISTDir is where Debian's dataset-fashion-mnist package installs
// Fashion-MNIST; [Open] reads "fashion-mnist" from there when given no
// directory.
const FashionMNISTDir = "/usr/share/datasets/fashion-mnist"

// ErrUnknownDataset: [Open] was given a name it does not know.
var ErrUnknownDataset = errors.New("unknown data set")

// Info describes a data set returned by [Open].
type Info struct {
	// Name is the data set's registry name.
	Name string
	// Shape is the shape of one sample, (C, H, W).
	Shape []int
	// Classes is the number of classes.
	Classes int
	// ClassNames names the classes, index = label.
	ClassNames []string
	// Norm holds the per-channel mean and standard deviation of the
	// training split's raw values, from [ComputeNorm].
	Norm Norm
	// Source says where the data came from: "embedded" or a directory.
	Source string
}

// source is an entry of the registry: the embedded digits (no hint) or an
// MNIST-format data set read from a directory (with a hint saying how to
// get it).
type source struct {
	name, defaultDir, hint string
	classes                []string
}

var idxFileList = strings.Join(idxFiles[:], "[.gz], ") + "[.gz]"

var sources = []source{
	{name: "digits", classes: strings.Split("0 1 2 3 4 5 6 7 8 9", " ")},
	{
		name:       "fashion-mnist",
		defaultDir: FashionMNISTDir,
		hint:       "install it with `apt-get install dataset-fashion-mnist` or pass --data-dir with a directory holding " + idxFileList,
		classes:    []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"},
	},
	{
		name:    "mnist",
		hint:    "pass --data-dir with a directory holding " + idxFileList,
		classes: strings.Split("0 1 2 3 4 5 6 7 8 9", " "),
	},
}

// Names returns the names [Open] accepts.
func Names() []string {
	names := make([]string, len(sources))
	for i, s := range sources {
		names[i] = s.name
	}
	return names
}

// Open returns the training and test splits of the named data set and its
// description, with normalisation constants computed from the training
// split. Names: "digits" (embedded; dir is ignored), "fashion-mnist" (IDX
// files in dir, by default [FashionMNISTDir]) and "mnist" (IDX files in dir,
// which it needs). A missing data set gives an error wrapping
// [ErrNotFound] that says how to get it; an unknown name one wrapping
// [ErrUnknownDataset] that lists the valid names.
func Open(name, dir string) (train, test Dataset, info Info, err error) {
	i := slices.IndexFunc(sources, func(s source) bool { return s.name == name })
	if i < 0 {
		return nil, nil, Info{}, fmt.Errorf("data: %w %q; valid names: %s", ErrUnknownDataset, name, strings.Join(Names(), ", "))
	}
	s := sources[i]
	src := "embedded"
	if s.hint == "" {
		train, test = Digits()
	} else {
		if src = cmp.Or(dir, s.defaultDir); src == "" {
			return nil, nil, Info{}, fmt.Errorf("data: %s has no default location: %w; %s", name, ErrNotFound, s.hint)
		}
		tr, te, err := LoadIDXDir(src, len(s.classes))
		if err != nil {
			if errors.Is(err, ErrNotFound) {
				err = fmt.Errorf("%w; %s", err, s.hint)
			}
			return nil, nil, Info{}, err
		}
		train, test = tr, te
	}
	norm, err := ComputeNorm(train)
	if err != nil {
		return nil, nil, Info{}, fmt.Errorf("data: %s: %w", name, err)
	}
	info = Info{Name: name, Shape: slices.Clone(train.Shape()), Classes: train.Classes(), ClassNames: slices.Clone(s.classes), Norm: norm, Source: src}
	return train, test, info, nil
}
