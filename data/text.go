package data

import (
	"bytes"
	_ "embed" // for Newton's Opticks
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/asymlab/asym/tensor"
)

// opticksGz is Isaac Newton's "Opticks" (4th edition, 1730), Project
// Gutenberg's public-domain transcription as Go ships it in
// src/testdata/Isaac.Newton-Opticks.txt; see the NOTICE file.
//
//go:embed opticks.txt.gz
var opticksGz []byte

// Errors of the text data set. Each is wrapped with the file name and the
// numbers that failed.
var (
	// ErrNotUTF8: the text is not valid UTF-8.
	ErrNotUTF8 = errors.New("text is not valid UTF-8")
	// ErrEmptyText: the text has no characters.
	ErrEmptyText = errors.New("text is empty")
	// ErrTextTooShort: a split of the text has fewer than context+1
	// characters, so it holds no window of inputs and next-character
	// targets.
	ErrTextTooShort = errors.New("text is too short for the context")
	// ErrUnknownChar: a string to encode has a character outside the
	// vocabulary.
	ErrUnknownChar = errors.New("character not in the vocabulary")
)

// Defaults of the text data set.
const (
	// DefaultContext is the window length (characters) when
	// [Options].Context is 0.
	DefaultContext = 128
	// TextValFraction is the share of the text, at its end, that forms
	// the validation split.
	TextValFraction = 0.1
	// maxTextBytes bounds a text file (256 MiB: 1 GiB of int32 ids).
	maxTextBytes = 256 << 20
)

// Vocab maps characters (Unicode code points) to token ids 0..Size()-1,
// in increasing code-point order.
type Vocab struct {
	runes []rune
	index map[rune]int32
}

// NewVocab returns the vocabulary of the distinct characters of text,
// sorted by code point.
func NewVocab(text string) *Vocab {
	seen := map[rune]bool{}
	for _, r := range text {
		seen[r] = true
	}
	runes := make([]rune, 0, len(seen))
	for r := range seen {
		runes = append(runes, r)
	}
	slices.Sort(runes)
	return vocabOf(runes)
}

func vocabOf(runes []rune) *Vocab {
	v := &Vocab{runes: runes, index: make(map[rune]int32, len(runes))}
	for i, r := range runes {
		v.index[r] = int32(i)
	}
	return v
}

// ParseVocab is the inverse of [Vocab.String]: s must be valid UTF-8 with
// strictly increasing code points (as a checkpoint stores it).
func ParseVocab(s string) (*Vocab, error) {
	if !utf8.ValidString(s) {
		return nil, fmt.Errorf("data: vocabulary: %w", ErrNotUTF8)
	}
	runes := []rune(s)
	if len(runes) == 0 {
		return nil, fmt.Errorf("data: vocabulary: %w", ErrEmptyText)
	}
	for i := 1; i < len(runes); i++ {
		if runes[i] <= runes[i-1] {
			return nil, fmt.Errorf("data: vocabulary: characters %q and %q are not in increasing order", runes[i-1], runes[i])
		}
	}
	return vocabOf(runes), nil
}

// Size returns the number of characters.
func (v *Vocab) Size() int { return len(v.runes) }

// String returns the characters in id order.
func (v *Vocab) String() string { return string(v.runes) }

// Names returns each character as a string, index = id (the class names
// of the text data set).
func (v *Vocab) Names() []string {
	n := make([]string, len(v.runes))
	for i, r := range v.runes {
		n[i] = string(r)
	}
	return n
}

// Encode returns the ids of the characters of s, or an error wrapping
// [ErrUnknownChar] (or [ErrNotUTF8]) naming the first character that has
// none.
func (v *Vocab) Encode(s string) ([]int32, error) {
	ids := make([]int32, 0, len(s))
	for off, r := range s {
		if r == utf8.RuneError && !strings.HasPrefix(s[off:], string(utf8.RuneError)) {
			return nil, fmt.Errorf("data: byte %d: %w", off, ErrNotUTF8)
		}
		id, ok := v.index[r]
		if !ok {
			return nil, fmt.Errorf("data: %q at byte %d: %w", r, off, ErrUnknownChar)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// Decode returns the text of ids. It panics if an id is outside
// 0..Size()-1.
func (v *Vocab) Decode(ids []int32) string {
	var b strings.Builder
	for _, id := range ids {
		if id < 0 || int(id) >= len(v.runes) {
			panic(fmt.Sprintf("data: Decode: id %d outside 0..%d", id, len(v.runes)-1))
		}
		b.WriteRune(v.runes[id])
	}
	return b.String()
}

// Text is a character-level text data set: the vocabulary and the
// training and validation splits as [TokenWindows].
type Text struct {
	Vocab      *Vocab
	Train, Val *TokenWindows
}

// ParseText splits a UTF-8 text into a training split (the first 90% of
// its characters) and a validation split (the last 10%, see
// [TextValFraction]) of windows of context characters; the vocabulary
// holds every character of the whole text. name is used in the errors,
// which wrap [ErrNotUTF8] (naming the byte offset), [ErrEmptyText] or
// [ErrTextTooShort] (naming the lengths). It panics if context < 1.
func ParseText(name string, b []byte, context int) (*Text, error) {
	if context < 1 {
		panic(fmt.Sprintf("data: ParseText: context %d", context))
	}
	if !utf8.Valid(b) {
		off := 0
		for off < len(b) {
			r, n := utf8.DecodeRune(b[off:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			off += n
		}
		return nil, fmt.Errorf("data: %s: invalid byte 0x%02x at offset %d: %w", name, b[off], off, ErrNotUTF8)
	}
	text := string(b)
	n := utf8.RuneCountInString(text)
	if n == 0 {
		return nil, fmt.Errorf("data: %s: %w", name, ErrEmptyText)
	}
	nVal := int(math.Round(TextValFraction * float64(n)))
	nTrain := n - nVal
	if min(nTrain, nVal) < context+1 {
		return nil, fmt.Errorf("data: %s: %d characters give a training split of %d and a validation split of %d (the last %g%%), and each needs at least context+1 = %d: %w; use a longer text or a shorter context",
			name, n, nTrain, nVal, 100*TextValFraction, context+1, ErrTextTooShort)
	}
	v := NewVocab(text)
	ids, err := v.Encode(text)
	if err != nil {
		panic(err) // the vocabulary holds every character of text
	}
	classes := v.Size()
	return &Text{Vocab: v,
		Train: &TokenWindows{ids: ids[:nTrain:nTrain], context: context, classes: classes},
		Val:   &TokenWindows{ids: ids[nTrain:], context: context, classes: classes}}, nil
}

// ReadTextFile reads a UTF-8 text file and parses it with [ParseText]. A
// missing file gives an error wrapping [ErrNotFound]; a file larger than
// 256 MiB is refused.
func ReadTextFile(path string, context int) (*Text, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("data: %s: %w", path, ErrNotFound)
		}
		return nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, fmt.Errorf("data: %s is a directory; the text data set reads one UTF-8 text file", path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxTextBytes+1))
	if err != nil {
		return nil, fmt.Errorf("data: %s: %w", path, err)
	}
	if len(b) > maxTextBytes {
		return nil, fmt.Errorf("data: %s: larger than %d MiB", path, maxTextBytes>>20)
	}
	return ParseText(path, b, context)
}

// Opticks returns Newton's Opticks, embedded, as a [Text] with windows of
// context characters: 567,198 bytes, 567,038 characters, 91 distinct ones; 510,334 characters for training and 56,704 for validation (see the NOTICE
// file).
func Opticks(context int) *Text {
	t, err := ParseText("Opticks", opticksText(), context)
	if err != nil {
		panic(err) // only a context longer than a split fails: a programmer error
	}
	return t
}

// opticksText returns the embedded text.
func opticksText() []byte {
	r, err := decompress(bytes.NewReader(opticksGz))
	if err != nil {
		panic(err) // the embedded file is valid
	}
	b, err := io.ReadAll(r)
	if err != nil {
		panic(err)
	}
	return b
}

// TokenWindows is one split of a [Text] as a [Dataset] of windows: sample
// i holds the context characters from position i·context as inputs and the
// characters one position later as next-character targets. Its shape is
// (2, context): row 0 the input ids, row 1 the target ids, as float32
// (exact up to 2²⁴). Label(i) is the last target. As an [Augmenter] it
// starts window i at a random offset in [i·context, i·context+context)
// (clamped to the text), so that the training windows differ from epoch to
// epoch; Read, for evaluation, uses the fixed offsets.
type TokenWindows struct {
	ids     []int32
	context int
	classes int
}

// Len returns the number of windows, ⌊(characters−1)/context⌋.
func (w *TokenWindows) Len() int { return (len(w.ids) - 1) / w.context }

// Shape returns (2, context).
func (w *TokenWindows) Shape() []int { return []int{2, w.context} }

// Classes returns the vocabulary size.
func (w *TokenWindows) Classes() int { return w.classes }

// Context returns the window length.
func (w *TokenWindows) Context() int { return w.context }

// Tokens returns the split's ids; the caller must not modify them.
func (w *TokenWindows) Tokens() []int32 { return w.ids }

// Label returns the last target of window i.
func (w *TokenWindows) Label(i int) int32 { return w.ids[i*w.context+w.context] }

// Read writes window i at its fixed offset.
func (w *TokenWindows) Read(i int, dst []float32) error {
	w.window(i*w.context, dst)
	return nil
}

// ReadAugmented writes window i at a random offset.
func (w *TokenWindows) ReadAugmented(i int, dst []float32, rng *rand.Rand) error {
	start := min(i*w.context+rng.IntN(w.context), len(w.ids)-1-w.context)
	w.window(start, dst)
	return nil
}

func (w *TokenWindows) window(start int, dst []float32) {
	c := w.context
	dst = dst[:2*c]
	for j, id := range w.ids[start : start+c] {
		dst[j] = float32(id)
	}
	for j, id := range w.ids[start+1 : start+c+1] {
		dst[c+j] = float32(id)
	}
}

// UnigramEntropy returns the entropy, in nats, of the split's character
// frequencies: the loss of the best model that ignores the context, the
// level below which a language model has learned something.
func (w *TokenWindows) UnigramEntropy() float64 {
	counts := make([]float64, w.classes)
	for _, id := range w.ids {
		counts[id]++
	}
	sort.Float64s(counts) // a fixed summation order
	var h float64
	n := float64(len(w.ids))
	for _, c := range counts {
		if c > 0 {
			h -= c / n * math.Log(c/n)
		}
	}
	return h
}

// BitsPerChar converts a cross-entropy in nats per character into bits per
// character: loss / ln 2.
func BitsPerChar(loss float64) float64 { return loss / math.Ln2 }

// SplitWindows turns a batch of text windows x, shape (N, 2, T) as a
// [Loader] gives them, into the model's input, shape (N, T) of token ids,
// and its N·T next-token targets, sample-major. The inputs reuse x's
// storage (x is overwritten); the targets are written into targets,
// reallocated if it is too short, and returned. It panics if x is not of
// shape (N, 2, T).
func SplitWindows(x *tensor.Tensor, targets []int32) (*tensor.Tensor, []int32) {
	if x.Rank() != 3 || x.Shape[1] != 2 {
		panic(fmt.Sprintf("data: SplitWindows: batch of shape %v, want (N, 2, T)", x.Shape))
	}
	n, t := x.Shape[0], x.Shape[2]
	if cap(targets) < n*t {
		targets = make([]int32, n*t)
	}
	targets = targets[:n*t]
	d := x.Data
	for i := range n {
		for j, v := range d[i*2*t+t : i*2*t+2*t] {
			targets[i*t+j] = int32(v)
		}
	}
	for i := range n { // forward: sample i moves from 2it to it ≤ 2it
		copy(d[i*t:i*t+t], d[i*2*t:i*2*t+t])
	}
	return tensor.FromData(d[:n*t], n, t), targets
}
