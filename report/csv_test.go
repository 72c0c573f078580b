package report_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/asymlab/asym/report"
)

func TestWriteCSV(t *testing.T) {
	in := `{"kind":"step","step":5,"epoch":1,"lr":0.05,"train_loss":1.25}
{"kind":"align","step":5,"rule":"dfa","layer":"fc1","bound":true,"weight_angle":null,"end_to_end_angle":40,"no_b":true}
{"kind":"epoch","epoch":1,"step":10,"lr":0.025,"train_loss":0.5,"train_acc":0.8,"test_loss":0.4,"test_acc":0.9,"epoch_s":1.5}
{"kind":"step","step":5,"epoch":1,"lr":0.05,"train_loss":1.5}

{"kind":"note","text":"a, \"quoted\" note"}
`
	var b strings.Builder
	if err := report.WriteCSV(&b, strings.NewReader(in), "m.jsonl", nil); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	want := []string{
		"kind,step,epoch,layer,rule,bound,lr,train_loss,train_acc,test_loss,test_acc,weight_angle,projection_angle,gradient_angle,end_to_end_angle,norm_ratio,regularizer,no_b,epoch_s,text",
		// The step record repeated by a resume appears once, with its last values.
		"step,5,1,,,,0.05,1.5,,,,,,,,,,,,",
		"align,5,,fc1,dfa,true,,,,,,,,,40,,,true,,",
		"epoch,10,1,,,,0.025,0.5,0.8,0.4,0.9,,,,,,,,1.5,",
		`note,,,,,,,,,,,,,,,,,,,"a, ""quoted"" note"`,
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), b.String())
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("line %d:\n got %s\nwant %s", i, lines[i], want[i])
		}
	}

	b.Reset()
	if err := report.WriteCSV(&b, strings.NewReader(in), "m.jsonl", []string{"epoch"}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(b.String(), "\n"); got != 2 || !strings.Contains(b.String(), "\nepoch,10,1,") {
		t.Errorf("--kind epoch:\n%s", b.String())
	}

	for _, bad := range []string{"{\"kind\":\"epoch\"}\nnot json\n", "{\"step\":1}\n"} {
		err := report.WriteCSV(&b, strings.NewReader(bad), "m.jsonl", nil)
		if !errors.Is(err, report.ErrMetrics) || !strings.Contains(err.Error(), "m.jsonl line") {
			t.Errorf("%q: error %v, want ErrMetrics naming the line", bad, err)
		}
	}
}
