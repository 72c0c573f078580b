package data

import (
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseTextErrors(t *testing.T) {
	tests := []struct {
		name    string
		text    []byte
		context int
		err     error
		msg     string
	}{
		{"latin-1", []byte("caf\xe9 au lait"), 2, ErrNotUTF8, "invalid byte 0xe9 at offset 3"},
		{"truncated rune", []byte("ab\xe2\x82"), 1, ErrNotUTF8, "offset 2"},
		{"empty", nil, 4, ErrEmptyText, "empty"},
		// 20 characters: 18 for training, 2 for validation < 4+1.
		{"short", []byte(strings.Repeat("ab", 10)), 4, ErrTextTooShort, "validation split of 2"},
		// 100 characters: 90 + 10; the validation split needs 11 for a context of 10.
		{"context", []byte(strings.Repeat("x", 100)), 10, ErrTextTooShort, "context+1 = 11"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseText("in.txt", tc.text, tc.context)
			if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), "in.txt") {
				t.Errorf("error %v, want %v naming in.txt and %q", err, tc.err, tc.msg)
			}
		})
	}
	// The shortest valid text for context 9: 100 characters, 90 + 10.
	if _, err := ParseText("in.txt", []byte(strings.Repeat("é", 100)), 9); err != nil {
		t.Errorf("100 characters, context 9: %v", err)
	}
}

// TestParseTextSplit checks the split, the vocabulary and the windows on a
// text of 200 characters (with multi-byte ones): 180 for training, the last
// 20 for validation.
func TestParseTextSplit(t *testing.T) {
	var b strings.Builder
	alphabet := []rune("abcé→ z")
	pick := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		b.WriteRune(alphabet[pick.IntN(len(alphabet))])
	}
	text := b.String()
	runes := []rune(text)
	tx, err := ParseText("t", []byte(text), 8)
	if err != nil {
		t.Fatal(err)
	}
	if got := tx.Vocab.String(); got != " abcz\u00e9\u2192" {
		t.Errorf("vocabulary %q", got)
	}
	if got := tx.Vocab.Decode(tx.Train.Tokens()) + tx.Vocab.Decode(tx.Val.Tokens()); got != text {
		t.Error("the splits do not decode to the text")
	}
	if len(tx.Train.Tokens()) != 180 || len(tx.Val.Tokens()) != 20 {
		t.Errorf("split %d + %d, want 180 + 20", len(tx.Train.Tokens()), len(tx.Val.Tokens()))
	}
	tr := tx.Train
	if tr.Len() != 22 || tx.Val.Len() != 2 { // ⌊179/8⌋, ⌊19/8⌋
		t.Errorf("windows %d, %d, want 22, 2", tr.Len(), tx.Val.Len())
	}
	if s := tr.Shape(); len(s) != 2 || s[0] != 2 || s[1] != 8 || tr.Classes() != 7 {
		t.Errorf("shape %v, classes %d", s, tr.Classes())
	}
	dst := make([]float32, 16)
	for i := range tr.Len() {
		if err := tr.Read(i, dst); err != nil {
			t.Fatal(err)
		}
		for j := range 8 {
			in, tg := tx.Vocab.Decode([]int32{int32(dst[j])}), tx.Vocab.Decode([]int32{int32(dst[8+j])})
			if in != string(runes[i*8+j]) || tg != string(runes[i*8+j+1]) {
				t.Fatalf("window %d position %d: input %q target %q, want %q %q", i, j, in, tg, runes[i*8+j], runes[i*8+j+1])
			}
		}
		if tr.Label(i) != int32(dst[15]) {
			t.Errorf("Label(%d) = %d, last target %v", i, tr.Label(i), dst[15])
		}
	}
	// Random offsets: every augmented window is a window of the text
	// (targets one step after the inputs) starting in [8i, 8i+8), clamped.
	rng := rand.New(rand.NewPCG(1, 2))
	starts := map[int]bool{}
	ids := tr.Tokens()
	for i := range tr.Len() {
		for range 5 {
			if err := tr.ReadAugmented(i, dst, rng); err != nil {
				t.Fatal(err)
			}
			start := -1
			for s := i * 8; s < min(i*8+8, len(ids)-8); s++ {
				ok := true
				for j := range 8 {
					ok = ok && float32(ids[s+j]) == dst[j] && float32(ids[s+j+1]) == dst[8+j]
				}
				if ok {
					start = s
					break
				}
			}
			if start < 0 {
				t.Fatalf("augmented window %d is no window of the text starting in [%d, %d)", i, i*8, i*8+8)
			}
			starts[start] = true
		}
	}
	if len(starts) < 2*tr.Len() {
		t.Errorf("only %d distinct random offsets for %d windows", len(starts), tr.Len())
	}
}

func TestOpticks(t *testing.T) {
	tx := Opticks(DefaultContext)
	if n, v := len(tx.Train.Tokens())+len(tx.Val.Tokens()), tx.Vocab.Size(); n != 567038 || v != 91 {
		t.Errorf("%d characters, %d distinct, want 567038 and 91", n, v)
	}
	if !strings.HasPrefix(tx.Vocab.Decode(tx.Train.Tokens()[:100]), "Produced by Suzanne Lybarger") {
		t.Error("the text does not start as Go's copy does")
	}
	// Its unigram entropy: about 4.5 bits per character for English text.
	h := BitsPerChar(tx.Val.UnigramEntropy())
	if h < 4 || h > 5 {
		t.Errorf("unigram entropy %.3f bits per character, want about 4.5", h)
	}
	t.Logf("unigram entropy: train %.4f, validation %.4f bits per character", BitsPerChar(tx.Train.UnigramEntropy()), h)
}

func TestUnigramEntropy(t *testing.T) {
	tx, err := ParseText("t", []byte(strings.Repeat("abcd", 50)), 3)
	if err != nil {
		t.Fatal(err)
	}
	// Four equally frequent characters: 2 bits.
	if h := BitsPerChar(tx.Train.UnigramEntropy()); math.Abs(h-2) > 1e-12 {
		t.Errorf("entropy %v bits, want 2", h)
	}
}

func TestVocab(t *testing.T) {
	v := NewVocab("hello, wörld")
	ids, err := v.Encode("wörld")
	if err != nil {
		t.Fatal(err)
	}
	if v.Decode(ids) != "wörld" {
		t.Errorf("round trip: %q", v.Decode(ids))
	}
	if _, err := v.Encode("hex"); !errors.Is(err, ErrUnknownChar) || !strings.Contains(err.Error(), "'x'") {
		t.Errorf("unknown character: %v", err)
	}
	if _, err := v.Encode("h\xffe"); !errors.Is(err, ErrNotUTF8) {
		t.Errorf("invalid UTF-8: %v", err)
	}
	w, err := ParseVocab(v.String())
	if err != nil || w.String() != v.String() {
		t.Errorf("ParseVocab(String()) = %v, %v", w, err)
	}
	for _, bad := range []string{"", "ba", "aa", "\xff"} {
		if _, err := ParseVocab(bad); err == nil {
			t.Errorf("ParseVocab(%q) accepted", bad)
		}
	}
}

func TestOpenText(t *testing.T) {
	_, val, info, err := OpenWith("text", Options{Context: 64})
	if err != nil {
		t.Fatal(err)
	}
	if info.Source != "embedded" || info.Classes != 91 || info.Vocab.Size() != 91 || val.Shape()[1] != 64 {
		t.Errorf("info %+v", info)
	}
	if len(info.Norm.Mean) != 2 || info.Norm.Mean[0] != 0 || info.Norm.Std[1] != 1 {
		t.Errorf("norm %+v, want the identity", info.Norm)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "poem.txt")
	if err := os.WriteFile(file, []byte(strings.Repeat("Tyger Tyger, burning bright, ", 20)), 0o644); err != nil {
		t.Fatal(err)
	}
	tr, _, info, err := OpenWith("text", Options{Dir: file, Context: 16})
	if err != nil {
		t.Fatal(err)
	}
	if info.Source != file || info.Vocab.String() != NewVocab("Tyger, burning bright ").String() || tr.Shape()[1] != 16 {
		t.Errorf("info %+v", info)
	}
	for _, tc := range []struct {
		dir string
		err error
	}{
		{filepath.Join(dir, "missing.txt"), ErrNotFound},
		{dir, nil}, // a directory
	} {
		if _, _, _, err := OpenWith("text", Options{Dir: tc.dir}); err == nil || (tc.err != nil && !errors.Is(err, tc.err)) {
			t.Errorf("%s: %v", tc.dir, err)
		}
	}
	if _, _, _, err := OpenWith("text", Options{Dir: file, Context: 100}); !errors.Is(err, ErrTextTooShort) {
		t.Errorf("context 100 on a 580-character file: %v", err)
	}
}

// FuzzParseText: any input either fails with one of the text errors or
// gives splits that decode back to the text and windows within the
// vocabulary.
func FuzzParseText(f *testing.F) {
	f.Add([]byte("hello world, hello world, hello world"), 3)
	f.Add([]byte("caf\xe9"), 1)
	f.Add([]byte(strings.Repeat("→é", 30)), 5)
	f.Add([]byte{}, 1)
	f.Fuzz(func(t *testing.T, b []byte, context int) {
		if context < 1 || context > 64 {
			return
		}
		tx, err := ParseText("fuzz", b, context)
		if err != nil {
			if !errors.Is(err, ErrNotUTF8) && !errors.Is(err, ErrEmptyText) && !errors.Is(err, ErrTextTooShort) {
				t.Fatalf("unexpected error %v", err)
			}
			if utf8.Valid(b) == errors.Is(err, ErrNotUTF8) {
				t.Fatalf("valid UTF-8 %v, error %v", utf8.Valid(b), err)
			}
			return
		}
		if tx.Vocab.Decode(tx.Train.Tokens())+tx.Vocab.Decode(tx.Val.Tokens()) != string(b) {
			t.Fatal("the splits do not decode to the text")
		}
		dst := make([]float32, 2*context)
		rng := rand.New(rand.NewPCG(0, 0))
		for _, w := range []*TokenWindows{tx.Train, tx.Val} {
			if w.Len() < 1 {
				t.Fatalf("split of %d characters has no window", len(w.Tokens()))
			}
			for i := range w.Len() {
				if err := w.ReadAugmented(i, dst, rng); err != nil {
					t.Fatal(err)
				}
				for _, v := range dst {
					if v < 0 || int(v) >= tx.Vocab.Size() {
						t.Fatalf("id %v outside the vocabulary", v)
					}
				}
			}
		}
	})
}

// TestSplitWindows batches three windows with the loader and splits them
// into inputs and targets.
func TestSplitWindows(t *testing.T) {
	tx, err := ParseText("t", []byte("the quick brown fox jumps over the lazy dog, again and again and again"), 5)
	if err != nil {
		t.Fatal(err)
	}
	l, err := NewLoader(tx.Train, Config{BatchSize: 3, Augment: Augment{NoAugmenter: true}})
	if err != nil {
		t.Fatal(err)
	}
	var b *Batch
	for bb, err := range l.Ordered() {
		if err != nil {
			t.Fatal(err)
		}
		b = bb
		break
	}
	x, y := SplitWindows(b.X, nil)
	if len(x.Shape) != 2 || x.Shape[0] != 3 || x.Shape[1] != 5 || len(y) != 15 {
		t.Fatalf("inputs %v, %d targets", x.Shape, len(y))
	}
	in := make([]int32, 15)
	for i, v := range x.Data {
		in[i] = int32(v)
	}
	if got := tx.Vocab.Decode(in); got != "the quick brown" {
		t.Errorf("inputs %q", got)
	}
	if got := tx.Vocab.Decode(y); got != "he quick brown " {
		t.Errorf("targets %q", got)
	}
}
