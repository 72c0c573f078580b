package data

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // decoders for image.Decode
	_ "image/png"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"golang.org/x/image/draw"
)

// DefaultImageSize is the side S of the S×S samples of an [ImageFolder]
// whose options leave it at 0 (the paper's 224).
const DefaultImageSize = 224

// Limits on the image files an [ImageFolder] decodes: a file or image above
// them is an unreadable sample. ImageNet's largest images have a few tens
// of megapixels.
const (
	// MaxImageFileBytes bounds the size of an image file (256 MiB).
	MaxImageFileBytes = 1 << 28
	// MaxImagePixels bounds width·height of an image (64 Mi pixels), checked
	// from the header before the image is decoded.
	MaxImagePixels = 1 << 26
)

// imageExts are the file name extensions an [ImageFolder] lists (compared
// in lower case). The decoder is chosen from the file's contents, not its
// name.
var imageExts = []string{".jpg", ".jpeg", ".png"}

// ImageFolderOptions configures an [ImageFolder]; the zero value gives the
// paper's (torchvision's) preprocessing at 224×224.
type ImageFolderOptions struct {
	// Size is the side S of the S×S samples (0: DefaultImageSize).
	Size int
	// ResizeShort is the length the evaluation transform resizes the short
	// side to before cutting the centre S×S (0: round(256·S/224), which is
	// 256 for S = 224). It must be at least S.
	ResizeShort int
	// Scale bounds the area of a random-resized crop as a fraction of the
	// image's area (zero value: [0.08, 1]).
	Scale [2]float64
	// Ratio bounds the aspect ratio (width/height) of a random-resized crop
	// (zero value: [3/4, 4/3]); it is drawn log-uniformly.
	Ratio [2]float64
	// NoFlip disables the random horizontal flip of the training transform.
	NoFlip bool
}

// withDefaults fills in the zero fields of o and checks it.
func (o ImageFolderOptions) withDefaults() (ImageFolderOptions, error) {
	o.Size = cmp.Or(o.Size, DefaultImageSize)
	if o.ResizeShort == 0 {
		o.ResizeShort = int(math.Round(256 * float64(o.Size) / 224))
	}
	if o.Scale == [2]float64{} {
		o.Scale = [2]float64{0.08, 1}
	}
	if o.Ratio == [2]float64{} {
		o.Ratio = [2]float64{3.0 / 4, 4.0 / 3}
	}
	switch {
	case o.Size < 1 || o.Size > 4096:
		return o, fmt.Errorf("image size %d, want 1..4096", o.Size)
	case o.ResizeShort < o.Size || o.ResizeShort > 8192:
		return o, fmt.Errorf("evaluation resize %d, want %d..8192 (at least the image size)", o.ResizeShort, o.Size)
	case !(o.Scale[0] > 0 && o.Scale[0] <= o.Scale[1] && o.Scale[1] <= 1):
		return o, fmt.Errorf("crop scale %v, want 0 < min <= max <= 1", o.Scale)
	case !(o.Ratio[0] > 0 && o.Ratio[0] <= o.Ratio[1] && !math.IsInf(o.Ratio[1], 0)):
		return o, fmt.Errorf("crop aspect ratio %v, want 0 < min <= max", o.Ratio)
	}
	return o, nil
}

// ImageFolder is a [Dataset] of image files arranged one folder per class,
// as ImageNet is: DIR/<class>/<image>.{jpg,jpeg,png} (any case; sub-folders
// of a class folder are searched too). Images are decoded when read, so
// that only the file list is held in memory. Samples have shape (3, S, S),
// raw values 0..255 (R, G, B planes; grey images give three equal planes,
// transparent pixels are composited onto black).
//
// Read gives the evaluation transform: resize so that the short side is
// ResizeShort (256 for S = 224), then cut the centre S×S. ReadAugmented
// (see [Augmenter]) gives the training transform: a random-resized crop
// ([RandomResizedCrop]) scaled to S×S, then a horizontal flip with
// probability 1/2. Both resample with x/image/draw's bilinear kernel,
// which widens when shrinking (antialiasing, like PIL's resize).
//
// A file that cannot be read or decoded gives an error that wraps
// [ErrBadSample] and names it, so that a [Loader] skips it and reports it.
// Methods may be called concurrently.
type ImageFolder struct {
	dir     string
	classes []string
	files   []string // relative to dir
	labels  []int32
	opt     ImageFolderOptions
	shape   []int
	canvas  sync.Pool // *image.RGBA of S×S
}

// NewImageFolder lists the images of the folder dir, whose sub-folders are
// the classes. With classes nil, the classes are the sub-folders' names in
// sorted order; otherwise each sub-folder must be one of classes (the
// labels are their indices), as for a validation split that shares the
// training split's classes. It returns an error wrapping [ErrNotFound] if
// dir has no class folders or no images, and [ErrBadConfig] for invalid
// options.
func NewImageFolder(dir string, classes []string, opt ImageFolderOptions) (*ImageFolder, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("data: %w: %v", ErrBadConfig, err)
	}
	const layout = "want one folder per class holding its images (.jpg, .jpeg, .png)"
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("data: %s: %w; %s", dir, ErrNotFound, layout)
		}
		return nil, fmt.Errorf("data: %w", err)
	}
	var found []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if st, err := os.Stat(filepath.Join(dir, e.Name())); err == nil && st.IsDir() { // follows links
			found = append(found, e.Name())
		}
	}
	if len(found) == 0 {
		return nil, fmt.Errorf("data: %s: no class folders: %w; %s", dir, ErrNotFound, layout)
	}
	if classes == nil {
		classes = found // ReadDir sorts by name
	} else {
		for _, c := range found {
			if !slices.Contains(classes, c) {
				return nil, fmt.Errorf("data: %s: folder %q is not one of the %d training classes (%w); the splits must share their class folders",
					dir, c, len(classes), ErrNotFound)
			}
		}
	}
	f := &ImageFolder{dir: dir, classes: slices.Clone(classes), opt: opt, shape: []int{3, opt.Size, opt.Size}}
	for _, c := range found {
		label := int32(slices.Index(classes, c))
		root := filepath.Join(dir, c)
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			name := d.Name()
			if d.IsDir() || strings.HasPrefix(name, ".") || !slices.Contains(imageExts, strings.ToLower(filepath.Ext(name))) {
				return nil
			}
			rel, err := filepath.Rel(dir, p)
			if err != nil {
				return err
			}
			f.files = append(f.files, rel)
			f.labels = append(f.labels, label)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("data: listing %s: %w", root, err)
		}
	}
	if len(f.files) == 0 {
		return nil, fmt.Errorf("data: %s: no images in its %d class folders: %w; %s", dir, len(found), ErrNotFound, layout)
	}
	s := opt.Size
	f.canvas.New = func() any { return image.NewRGBA(image.Rect(0, 0, s, s)) }
	return f, nil
}

// LoadImageFolders reads the training and validation splits of an image
// folder data set: root/train/<class>/... and root/val/<class>/..., the
// classes being the training split's sub-folders in sorted order.
func LoadImageFolders(root string, opt ImageFolderOptions) (train, val *ImageFolder, err error) {
	if train, err = NewImageFolder(filepath.Join(root, "train"), nil, opt); err != nil {
		return nil, nil, err
	}
	if val, err = NewImageFolder(filepath.Join(root, "val"), train.classes, opt); err != nil {
		return nil, nil, err
	}
	return train, val, nil
}

// Len returns the number of images.
func (f *ImageFolder) Len() int { return len(f.files) }

// Shape returns (3, S, S).
func (f *ImageFolder) Shape() []int { return f.shape }

// Classes returns the number of classes.
func (f *ImageFolder) Classes() int { return len(f.classes) }

// ClassNames returns the class folder names, index = label (do not modify).
func (f *ImageFolder) ClassNames() []string { return f.classes }

// Label returns the label of image i.
func (f *ImageFolder) Label(i int) int32 { return f.labels[i] }

// Path returns the path of image i's file.
func (f *ImageFolder) Path(i int) string { return filepath.Join(f.dir, f.files[i]) }

// Options returns the options in use, defaults filled in.
func (f *ImageFolder) Options() ImageFolderOptions { return f.opt }

// Read writes the evaluation transform of image i into dst: short side
// resized to ResizeShort, centre S×S crop.
func (f *ImageFolder) Read(i int, dst []float32) error {
	f.checkDst(dst)
	img, err := f.decode(i)
	if err != nil {
		return err
	}
	b := img.Bounds()
	rs, crop := ResizeCenterCrop(b.Dx(), b.Dy(), f.opt.ResizeShort, f.opt.Size)
	c := f.canvas.Get().(*image.RGBA)
	defer f.canvas.Put(c)
	// Scaling the whole image onto the canvas shifted by the crop's corner
	// computes the crop of the resized image exactly: draw clips to the
	// canvas.
	draw.BiLinear.Scale(c, image.Rectangle{Max: rs}.Sub(crop.Min), img, b, draw.Src, nil)
	planes(dst, c, false)
	return nil
}

// ReadAugmented writes the training transform of image i into dst: a
// random-resized crop drawn from rng, scaled to S×S, flipped left–right if
// a further draw says so (unless NoFlip).
func (f *ImageFolder) ReadAugmented(i int, dst []float32, rng *rand.Rand) error {
	f.checkDst(dst)
	img, err := f.decode(i)
	if err != nil {
		return err
	}
	b := img.Bounds()
	r := RandomResizedCrop(b.Dx(), b.Dy(), f.opt.Scale, f.opt.Ratio, rng).Add(b.Min)
	flip := rng.Uint64()>>63 == 1 && !f.opt.NoFlip
	c := f.canvas.Get().(*image.RGBA)
	defer f.canvas.Put(c)
	draw.BiLinear.Scale(c, c.Bounds(), img, r, draw.Src, nil)
	planes(dst, c, flip)
	return nil
}

func (f *ImageFolder) checkDst(dst []float32) {
	if len(dst) != 3*f.opt.Size*f.opt.Size {
		panic(fmt.Sprintf("data: ImageFolder.Read: dst has %d values, sample has %d", len(dst), 3*f.opt.Size*f.opt.Size))
	}
}

// decode reads and decodes image i, checking its size from the header
// first. Every failure wraps ErrBadSample and names the file.
func (f *ImageFolder) decode(i int) (image.Image, error) {
	path := f.Path(i)
	bad := func(format string, a ...any) error {
		return fmt.Errorf("data: %s: %w: %s; replace or delete the file", path, ErrBadSample, fmt.Sprintf(format, a...))
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, bad("%v", err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	switch {
	case err != nil:
		return nil, bad("%v", err)
	case !st.Mode().IsRegular():
		return nil, bad("not a regular file")
	case st.Size() == 0:
		return nil, bad("empty file")
	case st.Size() > MaxImageFileBytes:
		return nil, bad("%d bytes, more than the %d an image file may have", st.Size(), MaxImageFileBytes)
	}
	buf := make([]byte, st.Size())
	if _, err := io.ReadFull(fh, buf); err != nil {
		return nil, bad("reading: %v", err)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(buf))
	if err != nil {
		return nil, bad("not a decodable JPEG or PNG image: %v", err)
	}
	if cfg.Width < 1 || cfg.Height < 1 || int64(cfg.Width)*int64(cfg.Height) > MaxImagePixels {
		return nil, bad("%s image of %d×%d pixels, want 1 to %d pixels", format, cfg.Width, cfg.Height, MaxImagePixels)
	}
	img, _, err := image.Decode(bytes.NewReader(buf))
	if err != nil {
		return nil, bad("decoding %s: %v", format, err)
	}
	return img, nil
}

// planes writes the RGB values of the S×S canvas c into dst as three
// planes, each row reversed if flip.
func planes(dst []float32, c *image.RGBA, flip bool) {
	s := c.Rect.Dx()
	plane := s * s
	r, g, b := dst[:plane], dst[plane:2*plane], dst[2*plane:3*plane]
	for y := range s {
		px := c.Pix[y*c.Stride:][:4*s]
		o := y * s
		for x := range s {
			sx := x
			if flip {
				sx = s - 1 - x
			}
			p := px[4*sx : 4*sx+3 : 4*sx+3]
			r[o+x], g[o+x], b[o+x] = float32(p[0]), float32(p[1]), float32(p[2])
		}
	}
}

// unit maps a uniform 64-bit value to [0, 1) with 53 bits.
func unit(u uint64) float64 { return float64(u>>11) * 0x1p-53 }

// RandomResizedCrop returns the region of a w×h image (origin at 0, 0)
// that torchvision's RandomResizedCrop(scale, ratio) picks, with draws
// from rng: up to 10 times, draw an area fraction uniformly in scale and
// an aspect ratio (width/height) log-uniformly in ratio, and return a crop
// of that area and ratio (sides rounded to integers, half to even) at a
// uniform position if it fits in the image; after 10 misses, return the
// centre crop of the whole image clamped to the ratio bounds. Each try
// draws 2 values, and a hit 2 more (row, then column offset).
func RandomResizedCrop(w, h int, scale, ratio [2]float64, rng *rand.Rand) image.Rectangle {
	if w < 1 || h < 1 {
		panic(fmt.Sprintf("data: RandomResizedCrop of a %d×%d image", w, h))
	}
	area := float64(w) * float64(h)
	lr0, lr1 := math.Log(ratio[0]), math.Log(ratio[1])
	for range 10 {
		target := area * (scale[0] + (scale[1]-scale[0])*unit(rng.Uint64()))
		aspect := math.Exp(lr0 + (lr1-lr0)*unit(rng.Uint64()))
		cw := int(math.RoundToEven(math.Sqrt(target * aspect)))
		ch := int(math.RoundToEven(math.Sqrt(target / aspect)))
		if 0 < cw && cw <= w && 0 < ch && ch <= h {
			y := below(rng.Uint64(), h-ch+1)
			x := below(rng.Uint64(), w-cw+1)
			return image.Rect(x, y, x+cw, y+ch)
		}
	}
	cw, ch := w, h
	switch in := float64(w) / float64(h); {
	case in < ratio[0]:
		ch = int(math.RoundToEven(float64(w) / ratio[0]))
	case in > ratio[1]:
		cw = int(math.RoundToEven(float64(h) * ratio[1]))
	}
	cw, ch = max(1, min(cw, w)), max(1, min(ch, h))
	x, y := (w-cw)/2, (h-ch)/2
	return image.Rect(x, y, x+cw, y+ch)
}

// ResizeCenterCrop returns the geometry of the evaluation transform of a
// w×h image, as torchvision's Resize(short) then CenterCrop(size) computes
// it: the size of the image resized so that its short side is short (the
// long side scaled and truncated), and the size×size centre crop within
// it (offsets rounded half to even). It panics unless 1 <= size <= short.
func ResizeCenterCrop(w, h, short, size int) (resized image.Point, crop image.Rectangle) {
	if w < 1 || h < 1 || size < 1 || short < size {
		panic(fmt.Sprintf("data: ResizeCenterCrop(%d, %d, %d, %d)", w, h, short, size))
	}
	if w <= h {
		resized = image.Pt(short, int(float64(short)*float64(h)/float64(w)))
	} else {
		resized = image.Pt(int(float64(short)*float64(w)/float64(h)), short)
	}
	resized.X, resized.Y = max(resized.X, size), max(resized.Y, size)
	x := int(math.RoundToEven(float64(resized.X-size) / 2))
	y := int(math.RoundToEven(float64(resized.Y-size) / 2))
	return resized, image.Rect(x, y, x+size, y+size)
}
