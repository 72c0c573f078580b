package report_test

import (
	"bytes"
	"context"
	"image/png"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/asymlab/asym/report"
)

// chromium returns the path of a Chromium (or Chrome) binary, or skips the
// test. ASYM_CHROMIUM overrides the search.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("ASYM_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium on PATH (install Debian's chromium package, or set ASYM_CHROMIUM): the headless browser check of report.html is skipped")
	return ""
}

// runChromium runs a headless browser with args on the file and returns
// stdout and stderr.
func runChromium(t *testing.T, bin string, args ...string) (stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
		"--disable-component-update", "--disable-extensions", "--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\nstderr:\n%s", bin, args, err, e.String())
	}
	return o.String(), e.String()
}

// probe is added to a copy of the report (the report itself has no
// script): after load it records, on each image, whether the browser
// decoded it and its natural size, and counts the images.
const probe = `<script>
window.addEventListener("load", function () {
  var imgs = document.images;
  for (var i = 0; i < imgs.length; i++) {
    var im = imgs[i];
    im.setAttribute("data-loaded", String(im.complete && im.naturalWidth > 0));
    im.setAttribute("data-natural", im.naturalWidth + "x" + im.naturalHeight);
  }
  document.body.setAttribute("data-images", String(imgs.length));
});
</script>
</body>`

// The report loads in headless Chromium with no console messages, every
// figure decodes at its size, and the page renders (a screenshot that is
// not blank).
func TestReportInChromium(t *testing.T) {
	bin := chromium(t)
	t.Parallel() // mostly waiting for the browser
	rep := sampleReport(t)
	dir := t.TempDir()
	if err := rep.Write(dir); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(dir, report.HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	probed := strings.Replace(string(page), "</body>", probe, 1)
	probePath := filepath.Join(dir, "probe.html")
	if err := os.WriteFile(probePath, []byte(probed), 0o644); err != nil {
		t.Fatal(err)
	}

	dom, logs := runChromium(t, bin, "--enable-logging=stderr", "--v=0", "--dump-dom", fileURL(probePath))
	// Console messages (errors, warnings, failed loads logged by the page)
	// appear as CONSOLE lines; the report logs none.
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, ":CONSOLE") || strings.Contains(l, "Uncaught") {
			t.Errorf("console message: %s", l)
		}
	}
	if !strings.Contains(dom, `data-images="`+strconv.Itoa(len(rep.Figures))+`"`) {
		t.Fatalf("the probe did not run or counted the wrong number of images; DOM starts:\n%.600s", dom)
	}
	imgs := regexp.MustCompile(`<img [^>]*>`).FindAllString(dom, -1)
	if len(imgs) != len(rep.Figures) {
		t.Fatalf("%d <img> in the DOM, want %d", len(imgs), len(rep.Figures))
	}
	for i, im := range imgs {
		w, h := rep.Figures[i].PixelSize()
		if !strings.Contains(im, `data-loaded="true"`) || !strings.Contains(im, `data-natural="`+strconv.Itoa(w)+"x"+strconv.Itoa(h)+`"`) {
			t.Errorf("figure %s: the browser did not decode it at %dx%d: %.200s…", rep.Figures[i].Name, w, h, attrsOnly(im))
		}
	}
	checkImages(t, dom, rep.Figures)
	for _, s := range []string{"<h1>asym compare: digits &lt;mlp&gt;</h1>", "<caption>Results on digits</caption>", "<h2>Provenance</h2>",
		"<dt>command</dt><dd>asym compare --threads 1</dd>"} {
		if !strings.Contains(dom, s) {
			t.Errorf("DOM does not contain %q", s)
		}
	}

	// The unmodified report renders: the screenshot shows the figures'
	// colors.
	shot := filepath.Join(t.TempDir(), "shot.png")
	runChromium(t, bin, "--window-size=1200,2400", "--hide-scrollbars", "--screenshot="+shot, fileURL(filepath.Join(dir, report.HTMLFile)))
	b, err := os.ReadFile(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	colored := 0
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y += 2 {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x += 2 {
			r, g, b, _ := img.At(x, y).RGBA()
			if max(r, g, b)-min(r, g, b) > 0x2000 {
				colored++
			}
		}
	}
	// The first 2400 px hold the table and several figures: thousands of
	// colored pixels; a page without its images (alt text, borders) has
	// none.
	if colored < 1000 {
		t.Errorf("screenshot has %d colored pixels (of a quarter sample); the figures did not render", colored)
	}
}

func fileURL(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		panic(err)
	}
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()
}

// attrsOnly shortens an <img> tag for messages by dropping its data URI.
func attrsOnly(tag string) string {
	return regexp.MustCompile(`base64,[A-Za-z0-9+/=]+`).ReplaceAllString(tag, "base64,…")
}
