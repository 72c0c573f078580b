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
	// training split's raw values, from [ComputeNorm] (for image folders,
	// whose statistics would take an epoch of decoding: [ImageNetNorm]).
	Norm Norm
	// Augment is the data set's standard training augmentation for a
	// [Loader]: pad-4 crops and flips for CIFAR, none for the others
	// (image folders augment themselves, as [Augmenter]s).
	Augment Augment
	// Source says where the data came from: "embedded" or a directory
	// (a file for "text").
	Source string
	// Vocab is the character vocabulary of the "text" data set (nil for
	// the others); ClassNames holds the same characters.
	Vocab *Vocab
}

// Options are the settings of [OpenWith].
type Options struct {
	// Dir is the directory holding the data set (see [Open]).
	Dir string
	// ImageSize is the side S of the S×S samples of an image folder (0:
	// DefaultImageSize); other data sets have a fixed size and ignore it.
	ImageSize int
	// Context is the window length of the "text" data set (0:
	// DefaultContext); the others ignore it.
	Context int
}

// source is an entry of the registry.
type source struct {
	name       string
	defaultDir string
	hint       string // how to get the data set when it is missing
	// optionalDir: the data set is embedded unless Options.Dir names
	// another source (for "text", a file).
	optionalDir bool
	augment     Augment
	// open returns the splits and class names read from dir (not empty
	// unless the data set is embedded).
	open func(dir string, o Options) (train, test Dataset, classes []string, norm *Norm, err error)
}

// textSource opens the text data set: dir is "embedded" (Newton's
// Opticks) or a UTF-8 text file. Its windows are token ids, so its
// normalisation is the identity.
func textSource(dir string, o Options) (Dataset, Dataset, []string, *Norm, error) {
	ctx := o.Context
	if ctx == 0 {
		ctx = DefaultContext
	}
	if ctx < 1 {
		return nil, nil, nil, nil, fmt.Errorf("data: text: context %d, want >= 1", ctx)
	}
	var t *Text
	if dir == "embedded" {
		var err error
		if t, err = ParseText("Opticks (embedded)", opticksText(), ctx); err != nil {
			return nil, nil, nil, nil, err
		}
	} else {
		var err error
		if t, err = ReadTextFile(dir, ctx); err != nil {
			return nil, nil, nil, nil, err
		}
	}
	norm := Norm{Mean: []float32{0, 0}, Std: []float32{1, 1}}
	return t.Train, t.Val, t.Vocab.Names(), &norm, nil
}

var idxFileList = strings.Join(idxFiles[:], "[.gz], ") + "[.gz]"

// idxSource is an MNIST-format data set with the given class names.
func idxSource(classes []string) func(string, Options) (Dataset, Dataset, []string, *Norm, error) {
	return func(dir string, _ Options) (Dataset, Dataset, []string, *Norm, error) {
		tr, te, err := LoadIDXDir(dir, len(classes))
		if err != nil {
			return nil, nil, nil, nil, err
		}
		return tr, te, classes, nil, nil
	}
}

// cifarSource is a CIFAR data set.
func cifarSource(kind CIFARKind) func(string, Options) (Dataset, Dataset, []string, *Norm, error) {
	return func(dir string, _ Options) (Dataset, Dataset, []string, *Norm, error) {
		tr, te, names, err := LoadCIFARDir(dir, kind)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		return tr, te, names, nil, nil
	}
}

var digitNames = strings.Split("0 1 2 3 4 5 6 7 8 9", " ")

var sources = []source{
	{name: "digits", open: func(string, Options) (Dataset, Dataset, []string, *Norm, error) {
		tr, te := Digits()
		return tr, te, digitNames, nil, nil
	}},
	{
		name:       "fashion-mnist",
		defaultDir: FashionMNISTDir,
		hint: "install it with `apt-get install dataset-fashion-mnist`, or `asym data fetch fashion-mnist --to DIR` " +
			"and pass --data-dir DIR, a directory holding " + idxFileList,
		open: idxSource([]string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}),
	},
	{
		name: "mnist",
		hint: "run `asym data fetch mnist --to DIR` and pass --data-dir DIR, a directory holding " + idxFileList,
		open: idxSource(digitNames),
	},
	{
		name:    "cifar10",
		hint:    "run `asym data fetch cifar10 --to DIR` and pass --data-dir DIR (the files of cifar-10-binary.tar.gz, or its cifar-10-batches-bin folder)",
		augment: Augment{Pad: 4, FlipH: true},
		open:    cifarSource(CIFAR10),
	},
	{
		name:    "cifar100",
		hint:    "run `asym data fetch cifar100 --to DIR` and pass --data-dir DIR (the files of cifar-100-binary.tar.gz, or its cifar-100-binary folder)",
		augment: Augment{Pad: 4, FlipH: true},
		open:    cifarSource(CIFAR100),
	},
	{
		name: "imagefolder",
		hint: "pass --data-dir DIR with DIR/train/<class>/*.jpg and DIR/val/<class>/*.jpg (JPEG or PNG; ImageNet's layout)",
		open: func(dir string, o Options) (Dataset, Dataset, []string, *Norm, error) {
			tr, va, err := LoadImageFolders(dir, ImageFolderOptions{Size: o.ImageSize})
			if err != nil {
				return nil, nil, nil, nil, err
			}
			norm := Norm{Mean: slices.Clone(ImageNetNorm.Mean), Std: slices.Clone(ImageNetNorm.Std)}
			return tr, va, tr.ClassNames(), &norm, nil
		},
	},
	{name: "text", optionalDir: true, open: textSource},
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
// files in dir, by default [FashionMNISTDir]), "mnist" (IDX files in dir,
// which it needs), "cifar10" and "cifar100" (official binary files in dir
// or in its cifar-10-batches-bin or cifar-100-binary sub-directory; see
// [LoadCIFARDir]) and "imagefolder" (dir/train/<class>/ and
// dir/val/<class>/ image folders at 224×224, see [LoadImageFolders]; the
// test split is val) and "text" (a character-level text: Newton's Opticks,
// embedded, or the UTF-8 text file dir; windows of Options.Context
// characters, see [ParseText]; the test split is the last 10%). A missing data set gives an error wrapping
// [ErrNotFound] that says how to get it; an unknown name one wrapping
// [ErrUnknownDataset] that lists the valid names. It is OpenWith(name,
// Options{Dir: dir}).
func Open(name, dir string) (train, test Dataset, info Info, err error) {
	return OpenWith(name, Options{Dir: dir})
}

// OpenWith is [Open] with further settings.
func OpenWith(name string, o Options) (train, test Dataset, info Info, err error) {
	i := slices.IndexFunc(sources, func(s source) bool { return s.name == name })
	if i < 0 {
		return nil, nil, Info{}, fmt.Errorf("data: %w %q; valid names: %s", ErrUnknownDataset, name, strings.Join(Names(), ", "))
	}
	s := sources[i]
	src := "embedded"
	if s.optionalDir && o.Dir != "" {
		src = o.Dir
	} else if s.hint != "" {
		if src = cmp.Or(o.Dir, s.defaultDir); src == "" {
			return nil, nil, Info{}, fmt.Errorf("data: %s has no default location: %w; %s", name, ErrNotFound, s.hint)
		}
	}
	train, test, classes, norm, err := s.open(src, o)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			err = fmt.Errorf("%w; %s", err, s.hint)
		}
		return nil, nil, Info{}, err
	}
	if norm == nil {
		n, err := ComputeNorm(train)
		if err != nil {
			return nil, nil, Info{}, fmt.Errorf("data: %s: %w", name, err)
		}
		norm = &n
	}
	info = Info{Name: name, Shape: slices.Clone(train.Shape()), Classes: train.Classes(), ClassNames: slices.Clone(classes),
		Norm: *norm, Augment: s.augment, Source: src}
	if name == "text" {
		info.Vocab = vocabOf([]rune(strings.Join(classes, "")))
	}
	return train, test, info, nil
}
