package tomlx

import (
	"strings"
	"testing"
)

// TestDecodeMalformed: inputs on which BurntSushi/toml v1.6.0's
// ErrorWithPosition panics give an error with a position, and ordinary
// syntax errors keep the library's description.
func TestDecodeMalformed(t *testing.T) {
	cases := []struct{ in, want string }{
		{`"\`, "toml: line 1, column "},
		{`a = "\`, `toml: line 1, column 6 (last key "a"): invalid escape in string '\�'`},
		{"\"\r\n", "toml: line 1, column "},
		{"a = 1\nb = \"\\", "invalid escape in string"},
		{"a = 1\nb = [1,\n", "toml: error: "}, // the library's own description
	}
	for _, tc := range cases {
		var v map[string]any
		_, err := Decode(strings.NewReader(tc.in), &v)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.ContainsRune(err.Error(), 0) {
			t.Errorf("%q: error %v, want one containing %q", tc.in, err, tc.want)
		}
	}
}

func TestDecodeValid(t *testing.T) {
	var v struct{ A int }
	md, err := Decode(strings.NewReader("A = 3\n"), &v)
	if err != nil || v.A != 3 || !md.IsDefined("A") {
		t.Fatalf("A = %d, err %v", v.A, err)
	}
}
