package data

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/image/draw"

	"github.com/asymlab/asym/tensor"
)

// gradient returns a w×h image whose pixel (x, y) has red growing with x,
// green growing with y and the given blue, so that a transform's
// orientation shows.
func gradient(w, h int, blue uint8) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetRGBA(x, y, color.RGBA{uint8(x * 255 / max(w-1, 1)), uint8(y * 255 / max(h-1, 1)), blue, 255})
		}
	}
	return img
}

func encodePNG(t testing.TB, img image.Image) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeJPEG(t testing.TB, img image.Image, quality int) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: quality}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pngHeader returns the signature and IHDR chunk of a w×h RGBA PNG: enough
// for image.DecodeConfig, not for decoding.
func pngHeader(w, h uint32) []byte {
	ihdr := binary.BigEndian.AppendUint32([]byte("IHDR"), w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 6, 0, 0, 0)
	b := []byte("\x89PNG\r\n\x1a\n")
	b = binary.BigEndian.AppendUint32(b, 13)
	b = append(b, ihdr...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(ihdr))
}

// writeImageFolder writes a small image folder data set under root and
// returns it. Training split, in listing order (classes bird, cat, zebra):
//
//	0 bird/a.jpg          40×30 JPEG
//	1 bird/b.PNG          30×40 PNG
//	2 bird/nested/c.jpeg  64×48 PNG (named .jpeg: decoded by content)
//	3 cat/bad.jpg         random bytes
//	4 cat/d.JPG           20×20 JPEG
//	5 cat/empty.png       0 bytes
//	6 cat/gray.png        50×30 grey PNG
//	7 zebra/e.jpg         35×25 JPEG
//
// plus files that are not listed (notes.txt, .hidden.jpg). Validation
// split: bird/f.jpg, cat/g.png, cat/huge.png (a header declaring
// 100000×100000 pixels), cat/truncated.jpg (half a JPEG).
func writeImageFolder(t testing.TB) string {
	root := t.TempDir()
	rng := rand.New(rand.NewPCG(5, 5))
	noise := make([]byte, 2000)
	for i := range noise {
		noise[i] = byte(rng.Uint32())
	}
	grey := image.NewGray(image.Rect(0, 0, 50, 30))
	for i := range grey.Pix {
		grey.Pix[i] = byte(i % 251)
	}
	j := encodeJPEG(t, syntheticPhoto(120, 90, 1), 90)
	if len(j) < 2000 { // half of it must hold the header
		t.Fatalf("the JPEG to truncate has only %d bytes", len(j))
	}
	for name, b := range map[string][]byte{
		"train/bird/a.jpg":          encodeJPEG(t, gradient(40, 30, 10), 95),
		"train/bird/b.PNG":          encodePNG(t, gradient(30, 40, 20)),
		"train/bird/nested/c.jpeg":  encodePNG(t, gradient(64, 48, 30)),
		"train/bird/notes.txt":      []byte("not an image"),
		"train/bird/.hidden.jpg":    noise,
		"train/cat/bad.jpg":         noise,
		"train/cat/d.JPG":           encodeJPEG(t, gradient(20, 20, 40), 95),
		"train/cat/empty.png":       {},
		"train/cat/gray.png":        encodePNG(t, grey),
		"train/zebra/e.jpg":         encodeJPEG(t, gradient(35, 25, 50), 95),
		"val/bird/f.jpg":            encodeJPEG(t, gradient(33, 44, 60), 95),
		"val/cat/g.png":             encodePNG(t, gradient(50, 50, 70)),
		"val/cat/huge.png":          pngHeader(100000, 100000),
		"val/cat/truncated.jpg":     j[:len(j)/2],
		"val/.cache/should-be.jpg":  noise, // hidden folders are not classes
		"train/.DS_Store/whatever":  noise,
		"train/zebra/sub/.keep.png": noise,
	} {
		writeFile(t, filepath.Join(root, filepath.FromSlash(name)), b)
	}
	return root
}

func TestImageFolderList(t *testing.T) {
	root := writeImageFolder(t)
	train, val, err := LoadImageFolders(root, ImageFolderOptions{Size: 16})
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	var labels []int32
	for i := range train.Len() {
		rel, _ := filepath.Rel(root, train.Path(i))
		files = append(files, filepath.ToSlash(rel))
		labels = append(labels, train.Label(i))
	}
	wantFiles := []string{"train/bird/a.jpg", "train/bird/b.PNG", "train/bird/nested/c.jpeg", "train/cat/bad.jpg",
		"train/cat/d.JPG", "train/cat/empty.png", "train/cat/gray.png", "train/zebra/e.jpg"}
	if !slices.Equal(files, wantFiles) || !slices.Equal(labels, []int32{0, 0, 0, 1, 1, 1, 1, 2}) {
		t.Errorf("files %v, labels %v", files, labels)
	}
	if !slices.Equal(train.ClassNames(), []string{"bird", "cat", "zebra"}) || train.Classes() != 3 || val.Classes() != 3 ||
		val.Len() != 4 || val.Label(0) != 0 || val.Label(3) != 1 || !slices.Equal(train.Shape(), []int{3, 16, 16}) {
		t.Errorf("classes %v, val %d images", train.ClassNames(), val.Len())
	}
	if o := train.Options(); o.ResizeShort != 18 || o.Scale != [2]float64{0.08, 1} || o.Ratio != [2]float64{0.75, 4.0 / 3} {
		t.Errorf("default options %+v", o)
	}

	// Errors.
	extra := writeImageFolder(t)
	writeFile(t, filepath.Join(extra, "val", "dog", "x.png"), encodePNG(t, gradient(4, 4, 0)))
	noImages := t.TempDir()
	writeFile(t, filepath.Join(noImages, "train", "a", "readme.txt"), []byte("x"))
	for _, tc := range []struct {
		name, root string
		opt        ImageFolderOptions
		err        error
		msg        string
	}{
		{"extra class", extra, ImageFolderOptions{}, ErrNotFound, `folder "dog" is not one of the 3 training classes`},
		{"no train", t.TempDir(), ImageFolderOptions{}, ErrNotFound, "train"},
		{"no images", noImages, ImageFolderOptions{}, ErrNotFound, "no images"},
		{"size", root, ImageFolderOptions{Size: -1}, ErrBadConfig, "image size"},
		{"resize", root, ImageFolderOptions{Size: 32, ResizeShort: 31}, ErrBadConfig, "evaluation resize"},
		{"scale", root, ImageFolderOptions{Scale: [2]float64{0.5, 0.2}}, ErrBadConfig, "crop scale"},
		{"ratio", root, ImageFolderOptions{Ratio: [2]float64{0, 1}}, ErrBadConfig, "aspect ratio"},
	} {
		_, _, err := LoadImageFolders(tc.root, tc.opt)
		if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: error %v, want %v with %q", tc.name, err, tc.err, tc.msg)
		}
	}
}

// scaled returns the S×S planes of src's region r scaled with the
// bilinear kernel, flipped if flip: the reference for the transforms.
func scaled(src image.Image, dr, r image.Rectangle, s int, flip bool) []float32 {
	c := image.NewRGBA(image.Rect(0, 0, s, s))
	draw.BiLinear.Scale(c, dr, src, r, draw.Src, nil)
	out := make([]float32, 3*s*s)
	for y := range s {
		for x := range s {
			sx := x
			if flip {
				sx = s - 1 - x
			}
			p := c.RGBAAt(sx, y)
			out[y*s+x], out[s*s+y*s+x], out[2*s*s+y*s+x] = float32(p.R), float32(p.G), float32(p.B)
		}
	}
	return out
}

func TestImageFolderRead(t *testing.T) {
	root := writeImageFolder(t)
	const s = 16
	train, val, err := LoadImageFolders(root, ImageFolderOptions{Size: s})
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, 3*s*s)

	// Evaluation: scaling the whole image with the crop's offset gives
	// exactly the crop of the resized image (computed here in two steps).
	img := gradient(30, 40, 20) // train 1
	if err := train.Read(1, x); err != nil {
		t.Fatal(err)
	}
	rs, crop := ResizeCenterCrop(30, 40, 18, s)
	full := image.NewRGBA(image.Rectangle{Max: rs})
	draw.BiLinear.Scale(full, full.Bounds(), img, img.Bounds(), draw.Src, nil)
	if want := scaled(full.SubImage(crop), image.Rect(0, 0, s, s), crop, s, false); !slices.Equal(x, want) {
		t.Error("evaluation transform differs from resize then centre crop")
	}
	// Orientation: red grows along rows, green down columns, blue is 20.
	if !(x[8*s] < x[8*s+s-1] && x[s*s+0] < x[s*s+(s-1)*s] && x[2*s*s+77] == 20) {
		t.Errorf("planes in the wrong order or orientation: R %v..%v, G %v..%v, B %v",
			x[8*s], x[8*s+s-1], x[s*s], x[s*s+(s-1)*s], x[2*s*s+77])
	}

	// Training: with scale [1, 1] and the image's own aspect ratio the crop
	// is the whole image, so the sample is the scaled image, flipped or not
	// as the last draw says; both happen.
	whole, _, err := LoadImageFolders(root, ImageFolderOptions{Size: s, Scale: [2]float64{1, 1}, Ratio: [2]float64{4.0 / 3, 4.0 / 3}})
	if err != nil {
		t.Fatal(err)
	}
	src := gradient(64, 48, 30) // train 2
	plain := scaled(src, image.Rect(0, 0, s, s), src.Bounds(), s, false)
	flipped := scaled(src, image.Rect(0, 0, s, s), src.Bounds(), s, true)
	flips := 0
	for seed := range uint64(40) {
		if err := whole.ReadAugmented(2, x, tensor.NewRand(seed, 1)); err != nil {
			t.Fatal(err)
		}
		switch {
		case slices.Equal(x, flipped):
			flips++
		case !slices.Equal(x, plain):
			t.Fatalf("seed %d: training transform of a whole-image crop differs from the scaled image", seed)
		}
	}
	// 40 fair coin flips: P(fewer than 8 or more than 32 heads) < 1e-4.
	if flips < 8 || flips > 32 {
		t.Errorf("%d flips in 40 draws", flips)
	}
	noFlip, _, _ := LoadImageFolders(root, ImageFolderOptions{Size: s, Scale: [2]float64{1, 1}, Ratio: [2]float64{4.0 / 3, 4.0 / 3}, NoFlip: true})
	for seed := range uint64(10) {
		if noFlip.ReadAugmented(2, x, tensor.NewRand(seed, 1)); !slices.Equal(x, plain) {
			t.Fatal("NoFlip flipped")
		}
	}
	// Same generator, same result; the crop varies with the draws.
	y := make([]float32, len(x))
	train.ReadAugmented(0, x, tensor.NewRand(3, 4))
	train.ReadAugmented(0, y, tensor.NewRand(3, 4))
	if !slices.Equal(x, y) {
		t.Error("ReadAugmented is not a function of its generator")
	}
	train.ReadAugmented(0, y, tensor.NewRand(3, 5))
	if slices.Equal(x, y) {
		t.Error("two generators gave the same crop")
	}

	// Grey images give three equal planes.
	if err := train.Read(6, x); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(x[:s*s], x[s*s:2*s*s]) || !slices.Equal(x[:s*s], x[2*s*s:]) {
		t.Error("grey image: planes differ")
	}

	// Unreadable files: ErrBadSample, with the path and the reason.
	for _, tc := range []struct {
		ds  *ImageFolder
		i   int
		msg string
	}{
		{train, 3, "not a decodable JPEG or PNG image"},
		{train, 5, "empty file"},
		{val, 2, "png image of 100000×100000 pixels"},
		{val, 3, "decoding jpeg"},
	} {
		for _, read := range []func() error{
			func() error { return tc.ds.Read(tc.i, x) },
			func() error { return tc.ds.ReadAugmented(tc.i, x, tensor.NewRand(1, 1)) },
		} {
			err := read()
			if !errors.Is(err, ErrBadSample) || !strings.Contains(err.Error(), tc.ds.Path(tc.i)) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("%s: error %v, want ErrBadSample with %q", tc.ds.Path(tc.i), err, tc.msg)
			}
		}
	}
	if !panics(func() { train.Read(0, x[1:]) }) {
		t.Error("short dst did not panic")
	}
}

func TestRandomResizedCrop(t *testing.T) {
	scale, ratio := [2]float64{0.08, 1}, [2]float64{3.0 / 4, 4.0 / 3}
	rng := tensor.NewRand(1, 2)
	for _, wh := range [][2]int{{500, 375}, {375, 500}, {224, 224}, {1000, 300}, {33, 17}} {
		w, h := wh[0], wh[1]
		a := float64(w * h)
		minArea, maxArea, minRatio, maxRatio := 2.0, 0.0, 2.0, 0.0
		for range 20000 {
			r := RandomResizedCrop(w, h, scale, ratio, rng)
			cw, ch := float64(r.Dx()), float64(r.Dy())
			if !r.In(image.Rect(0, 0, w, h)) || r.Empty() {
				t.Fatalf("%d×%d: crop %v outside the image", w, h, r)
			}
			if r.Dx() == w && r.Dy() == h { // the fallback (or a full draw)
				continue
			}
			// The drawn sides w', h' have w'h' ∈ [0.08, 1]·area and w'/h' ∈
			// [3/4, 4/3]; rounding moves each side by at most 1/2.
			if (cw+0.5)*(ch+0.5) < scale[0]*a || (cw-0.5)*(ch-0.5) > a ||
				(cw+0.5)/(ch-0.5) < ratio[0] || (cw-0.5)/(ch+0.5) > ratio[1] {
				t.Fatalf("%d×%d: crop %v outside the area and ratio bounds", w, h, r)
			}
			minArea, maxArea = min(minArea, cw*ch/a), max(maxArea, cw*ch/a)
			minRatio, maxRatio = min(minRatio, cw/ch), max(maxRatio, cw/ch)
		}
		// Over 20000 draws the extremes come close to the bounds (the
		// small image's rounding keeps them a little further off). The
		// largest crop of an image with an aspect ratio beyond 4/3 has its
		// full height and is 4/3 as wide.
		tol := 0.02
		if w < 100 {
			tol = 0.1
		}
		fits := min(float64(w), float64(h)*ratio[1]) * min(float64(h), float64(w)/ratio[0]) / a
		if minArea > 0.08+tol || maxArea < 0.9*fits || minRatio > 0.75+tol || maxRatio < 4.0/3-tol {
			t.Errorf("%d×%d: area fraction %.3f..%.3f, aspect ratio %.3f..%.3f", w, h, minArea, maxArea, minRatio, maxRatio)
		}
	}
	// Ten misses: the centre crop clamped to the ratio bounds.
	for _, tc := range []struct {
		w, h int
		want image.Rectangle
	}{
		{10000, 10, image.Rect(4993, 0, 5006, 10)}, // 10·4/3 = 13.3 → 13 wide
		{10, 10000, image.Rect(0, 4993, 10, 5006)}, // 10/(3/4) = 13.3 → 13 high
		{1, 1, image.Rect(0, 0, 1, 1)},
	} {
		if r := RandomResizedCrop(tc.w, tc.h, scale, ratio, rng); r != tc.want {
			t.Errorf("%d×%d: %v, want %v", tc.w, tc.h, r, tc.want)
		}
	}
	// Determinism.
	a := RandomResizedCrop(500, 375, scale, ratio, tensor.NewRand(9, 9))
	if b := RandomResizedCrop(500, 375, scale, ratio, tensor.NewRand(9, 9)); a != b {
		t.Error("same generator, different crops")
	}
}

func TestResizeCenterCrop(t *testing.T) {
	for _, tc := range []struct {
		w, h, short, size int
		resized           image.Point
		crop              image.Rectangle
	}{
		// 256·500/375 = 341.3 → 341; (341−224)/2 = 58.5 → 58 (half to even).
		{500, 375, 256, 224, image.Pt(341, 256), image.Rect(58, 16, 282, 240)},
		{375, 500, 256, 224, image.Pt(256, 341), image.Rect(16, 58, 240, 282)},
		{224, 224, 256, 224, image.Pt(256, 256), image.Rect(16, 16, 240, 240)},
		{100, 50, 146, 128, image.Pt(292, 146), image.Rect(82, 9, 210, 137)},
		{3, 2, 18, 16, image.Pt(27, 18), image.Rect(6, 1, 22, 17)}, // (27−16)/2 = 5.5 → 6
		{2, 2, 16, 16, image.Pt(16, 16), image.Rect(0, 0, 16, 16)},
	} {
		rs, crop := ResizeCenterCrop(tc.w, tc.h, tc.short, tc.size)
		if rs != tc.resized || crop != tc.crop {
			t.Errorf("%d×%d → %d, %d: %v %v, want %v %v", tc.w, tc.h, tc.short, tc.size, rs, crop, tc.resized, tc.crop)
		}
	}
	if !panics(func() { ResizeCenterCrop(10, 10, 20, 21) }) {
		t.Error("crop larger than the resized image did not panic")
	}
	// The evaluation transform gives S×S samples whatever the image's size.
	root := t.TempDir()
	for i, wh := range [][2]int{{5, 3}, {3, 5}, {300, 40}, {17, 17}} {
		writeFile(t, filepath.Join(root, "c", fmt.Sprintf("%d.png", i)), encodePNG(t, gradient(wh[0], wh[1], 1)))
	}
	for _, s := range []int{1, 7, 32} {
		f, err := NewImageFolder(root, nil, ImageFolderOptions{Size: s})
		if err != nil {
			t.Fatal(err)
		}
		x := make([]float32, 3*s*s)
		for i := range f.Len() {
			for j := range x {
				x[j] = -1
			}
			if err := f.Read(i, x); err != nil || slices.Min(x) < 0 || slices.Max(x) > 255 {
				t.Errorf("size %d, image %d: %v, values %v..%v", s, i, err, slices.Min(x), slices.Max(x))
			}
		}
	}
}

// TestImageFolderLoader checks the loader over image files: batches the
// same whatever the number of workers, the bad files skipped and counted,
// every row the transform of its sample.
func TestImageFolderLoader(t *testing.T) {
	root := writeImageFolder(t)
	const s = 12
	train, _, err := LoadImageFolders(root, ImageFolderOptions{Size: s})
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float32, 3*s*s)
	var ref []batchCopy
	for _, wp := range [][2]int{{1, 0}, {2, 1}, {4, 4}} {
		cfg := Config{BatchSize: 3, Shuffle: true, Seed: 21, Workers: wp[0], Prefetch: wp[1]}
		l := mustLoader(t, train, cfg)
		perm := slices.Clone(mustLoader(t, train, cfg).permutation(1))
		var got []batchCopy
		for e := range 2 {
			for b, err := range l.Epoch(e, 0) {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, batchCopy{b.X.Clone(), slices.Clone(b.Labels), slices.Clone(b.Indices), b.Epoch, b.Index})
				if e != 1 {
					continue
				}
				for j, i := range b.Indices {
					p := slices.Index(perm, i)
					train.ReadAugmented(i, want, tensor.NewRand(cfg.Seed, tensor.Mix(streamAugment, 1, uint64(p))))
					if b.Labels[j] != train.Label(i) || !slices.Equal(b.X.Row(j), want) {
						t.Fatalf("workers %d: batch %d row %d is not sample %d's transform", wp[0], b.Index, j, i)
					}
				}
			}
		}
		skipped := l.Skipped()
		if l.SkipCount() != 4 || len(skipped) != 2 || skipped[0].Index != 3 || skipped[1].Index != 5 ||
			!strings.Contains(skipped[1].Err.Error(), filepath.Join("cat", "empty.png")) {
			t.Errorf("workers %d: %d skips, %v", wp[0], l.SkipCount(), skipped)
		}
		n := 0
		for b, err := range l.Ordered() {
			if err != nil {
				t.Fatal(err)
			}
			for j, i := range b.Indices {
				train.Read(i, want)
				if !slices.Equal(b.X.Row(j), want) {
					t.Fatalf("Ordered: row %d is not sample %d's evaluation transform", j, i)
				}
			}
			n += len(b.Indices)
		}
		if n != 6 || l.SkipCount() != 6 {
			t.Errorf("Ordered: %d samples, %d skips in all", n, l.SkipCount())
		}
		if ref == nil {
			ref = got
		} else if !sameBatches(got, ref) {
			t.Errorf("%d workers, prefetch %d: batches differ from 1 worker's", wp[0], wp[1])
		}
	}
}

func TestOpenImageFolder(t *testing.T) {
	root := writeImageFolder(t)
	train, test, info, err := Open("imagefolder", root)
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 8 || test.Len() != 4 || !slices.Equal(info.Shape, []int{3, 224, 224}) || info.Classes != 3 ||
		info.ClassNames[2] != "zebra" || !slices.Equal(info.Norm.Std, ImageNetNorm.Std) || info.Augment != (Augment{}) {
		t.Errorf("info %+v", info)
	}
	if math.Abs(float64(info.Norm.Mean[0])-0.485*255) > 1e-4 { // float32 rounding of 123.675
		t.Errorf("mean %v", info.Norm.Mean)
	}
	_, _, info, err = OpenWith("imagefolder", Options{Dir: root, ImageSize: 64})
	if err != nil || !slices.Equal(info.Shape, []int{3, 64, 64}) {
		t.Errorf("image size 64: %v, shape %v", err, info.Shape)
	}
	for _, dir := range []string{"", t.TempDir()} {
		if _, _, _, err := Open("imagefolder", dir); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "DIR/train/<class>") {
			t.Errorf("Open(imagefolder, %q): %v", dir, err)
		}
	}
}

// syntheticPhoto returns a w×h image with smooth shading, edges and a
// little noise, so that it compresses about as well as a photograph.
func syntheticPhoto(w, h int, seed uint64) *image.RGBA {
	rng := rand.New(rand.NewPCG(seed, 3))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	fx, fy := 0.01+0.05*rng.Float64(), 0.01+0.05*rng.Float64()
	cx, cy, rad := rng.IntN(w), rng.IntN(h), 40+rng.IntN(100)
	for y := range h {
		for x := range w {
			v := 128 + 60*math.Sin(fx*float64(x)+fy*float64(y)) + 20*math.Cos(0.3*fx*float64(x*y)/10)
			r, g, b := v, 255-v, v/2+float64(y)/4
			if (x-cx)*(x-cx)+(y-cy)*(y-cy) < rad*rad {
				r, g, b = 200, 80, 40+float64(x%50)
			}
			n := float64(rng.IntN(17) - 8)
			img.SetRGBA(x, y, color.RGBA{clampByte(r + n), clampByte(g + n), clampByte(b + n), 255})
		}
	}
	return img
}

func clampByte(v float64) uint8 { return uint8(max(0, min(255, v))) }

// BenchmarkImageFolder measures decoded and transformed images per second
// of 64 synthetic 500×375 JPEGs (quality 90) into 224×224 samples: the
// training transform (random-resized crop, flip) through a Loader with 1
// and 2 workers, and the evaluation transform (resize 256, centre crop).
func BenchmarkImageFolder(b *testing.B) {
	root := b.TempDir()
	bytesTotal := 0
	for i := range 64 {
		j := encodeJPEG(b, syntheticPhoto(500, 375, uint64(i)), 90)
		bytesTotal += len(j)
		writeFile(b, filepath.Join(root, "train", fmt.Sprintf("c%d", i%4), fmt.Sprintf("%02d.jpg", i)), j)
	}
	train, err := NewImageFolder(filepath.Join(root, "train"), nil, ImageFolderOptions{})
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name    string
		workers int
		eval    bool
	}{{"train/workers=1", 1, false}, {"train/workers=2", 2, false}, {"eval/workers=2", 2, true}} {
		b.Run(bc.name, func(b *testing.B) {
			l, err := NewLoader(train, Config{BatchSize: 32, Shuffle: true, Workers: bc.workers, Norm: ImageNetNorm})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(bytesTotal)/64/1000, "kB/jpeg")
			n := 0
			for e := 0; b.Loop(); e++ {
				seq := l.Epoch(e, 0)
				if bc.eval {
					seq = l.Ordered()
				}
				for batch, err := range seq {
					if err != nil {
						b.Fatal(err)
					}
					n += len(batch.Labels)
				}
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "images/s")
		})
	}
}
