// Package tomlx decodes asym's TOML config files with
// github.com/BurntSushi/toml and guarantees that no panic of the library
// reaches the caller.
//
// # Errors
//
// BurntSushi/toml v1.6.0 (the newest release) reports some errors at the
// end of the input — an unterminated string such as `"\` or `a = "\`, or
// `"` followed by CR LF — at line 0, and its ParseError.ErrorWithPosition
// then panics with "index out of range [-1]". [Decode] recovers from any
// panic of the library and returns an error; [Describe] computes the line
// and column from the error's byte offset when the library cannot.
package tomlx

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/BurntSushi/toml"
)

// Decode reads TOML from r into v. A syntax error is described with its
// position (see [Describe]); a panic inside the TOML library becomes an
// error.
func Decode(r io.Reader, v any) (md toml.MetaData, err error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return md, err
	}
	defer func() {
		if p := recover(); p != nil {
			md, err = toml.MetaData{}, fmt.Errorf("toml: the decoder failed on this input: %v", p)
		}
	}()
	md, err = toml.NewDecoder(bytes.NewReader(data)).Decode(v)
	if err != nil {
		return md, errors.New(Describe(err, data))
	}
	return md, nil
}

// Describe returns the text of an error of the TOML library for the input
// data: for a syntax error its message with the line, the column and the
// line itself marked (the library's ErrorWithPosition), or, where that
// fails, "toml: line L, column C: message" computed from the error's byte
// offset.
func Describe(err error, data []byte) (s string) {
	var pe toml.ParseError
	if !errors.As(err, &pe) {
		return err.Error()
	}
	if pe.Position.Line > 0 {
		ok := func() (ok bool) {
			defer func() {
				if recover() != nil {
					ok = false
				}
			}()
			s = pe.ErrorWithPosition()
			return true
		}()
		if ok {
			return printable(s)
		}
	}
	msg := printable(pe.Message)
	start := min(max(pe.Position.Start, 0), len(data))
	line := 1 + bytes.Count(data[:start], []byte("\n"))
	col := start - (bytes.LastIndexByte(data[:start], '\n') + 1) + 1
	if pe.LastKey != "" {
		return fmt.Sprintf("toml: line %d, column %d (last key %q): %s", line, col, pe.LastKey, msg)
	}
	return fmt.Sprintf("toml: line %d, column %d: %s", line, col, msg)
}

// printable replaces the control characters of s but newlines and tabs
// (the library's messages quote its end-of-input rune, NUL) by U+FFFD.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f {
			return '\uFFFD'
		}
		return r
	}, s)
}
