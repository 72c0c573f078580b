// Package doccheck finds the relative links and images of Markdown files
// and reports those whose target does not exist, so that a test can keep
// README.md and docs/*.md from pointing at moved or deleted files.
//
// It understands the subset of Markdown the project's docs use: inline
// links and images ([text](target), ![alt](target)), reference
// definitions ([name]: target) and HTML <img src="target">. Fenced code
// blocks and inline code spans are skipped. Absolute URLs (a scheme such as
// https: or mailto:) and pure fragments (#section) are not checked.
package doccheck

import (
	"bufio"
	"bytes"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Link is a relative link or image found in a Markdown file.
type Link struct {
	// Line is the 1-based line number.
	Line int
	// Target is the link's target as written, without its fragment.
	Target string
}

var (
	inline   = regexp.MustCompile(`!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)`)
	refDef   = regexp.MustCompile(`^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$`)
	htmlImg  = regexp.MustCompile(`<img\s[^>]*src\s*=\s*"([^"]+)"`)
	codeSpan = regexp.MustCompile("`+[^`]*`+")
	scheme   = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)
)

// Links returns the relative links and images of the Markdown text md, in
// order of appearance.
func Links(md []byte) []Link {
	var out []Link
	sc := bufio.NewScanner(bytes.NewReader(md))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	fence := ""
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trim := strings.TrimSpace(line)
		if fence != "" {
			if strings.HasPrefix(trim, fence) {
				fence = ""
			}
			continue
		}
		if strings.HasPrefix(trim, "```") || strings.HasPrefix(trim, "~~~") {
			fence = trim[:3]
			continue
		}
		line = codeSpan.ReplaceAllString(line, "")
		var targets []string
		for _, m := range inline.FindAllStringSubmatch(line, -1) {
			targets = append(targets, m[1])
		}
		if m := refDef.FindStringSubmatch(line); m != nil {
			targets = append(targets, m[1])
		}
		for _, m := range htmlImg.FindAllStringSubmatch(line, -1) {
			targets = append(targets, m[1])
		}
		for _, t := range targets {
			if scheme.MatchString(t) || strings.HasPrefix(t, "#") || strings.HasPrefix(t, "//") {
				continue
			}
			if i := strings.IndexAny(t, "#?"); i >= 0 {
				t = t[:i]
			}
			out = append(out, Link{Line: n, Target: t})
		}
	}
	return out
}

// Check reads the Markdown file at path and returns one error for every
// relative link or image whose target, resolved against the file's
// directory, does not exist. Targets may not leave root (the repository),
// so that a link cannot depend on what lies around a checkout.
func Check(root, path string) ([]error, error) {
	md, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("doccheck: %w", err)
	}
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("doccheck: %w", err)
	}
	var bad []error
	for _, l := range Links(md) {
		t, err := url.PathUnescape(l.Target)
		if err != nil {
			bad = append(bad, fmt.Errorf("%s:%d: link %q: %v", path, l.Line, l.Target, err))
			continue
		}
		if strings.HasPrefix(t, "/") {
			bad = append(bad, fmt.Errorf("%s:%d: link %q is an absolute path; use a path relative to the file", path, l.Line, l.Target))
			continue
		}
		full, err := filepath.Abs(filepath.Join(filepath.Dir(path), filepath.FromSlash(t)))
		if err != nil {
			return nil, fmt.Errorf("doccheck: %w", err)
		}
		if rel, err := filepath.Rel(absRoot, full); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			bad = append(bad, fmt.Errorf("%s:%d: link %q points outside the repository", path, l.Line, l.Target))
			continue
		}
		if _, err := os.Stat(full); err != nil {
			bad = append(bad, fmt.Errorf("%s:%d: link %q: no such file or directory", path, l.Line, l.Target))
		}
	}
	return bad, nil
}
