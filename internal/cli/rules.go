package cli

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/asymlab/asym/rules"
	"github.com/asymlab/asym/train"
)

func newRulesCmd(s *IO) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "rules [NAME...]",
		Short: "List the learning rules with their formulas, locality and defaults",
		RunE: func(cmd *cobra.Command, args []string) error {
			names := args
			if len(names) == 0 {
				names = rules.Names()
			}
			var infos []rules.Info
			for _, n := range names {
				info, ok := rules.Lookup(n)
				if !ok {
					return usagef("unknown rule %q; valid: %s", n, strings.Join(rules.Names(), ", "))
				}
				infos = append(infos, info)
			}
			if asJSON {
				type setting struct {
					Name    string  `json:"name"`
					Default float64 `json:"default"`
					Doc     string  `json:"doc"`
				}
				type row struct {
					Name, Summary, Update, InputGrad, Locality, Source string
					Settings                                           []setting
					// TrainDefaults are the settings of a plain asym
					// train --rule NAME, where they differ from Default.
					TrainDefaults map[string]float64 `json:",omitempty"`
				}
				var out []row
				for _, i := range infos {
					r := row{i.Name, i.Summary, i.Update, i.InputGrad, i.Locality, i.Source, nil, train.RuleDefaults(i.Name)}
					for _, st := range i.Settings {
						r.Settings = append(r.Settings, setting{st.Name, st.Default, st.Doc})
					}
					out = append(out, r)
				}
				b, err := json.MarshalIndent(out, "", "  ")
				if err != nil {
					return err
				}
				_, err = fmt.Fprintln(s.Out, string(b))
				return err
			}
			tw := tabwriter.NewWriter(s.Out, 0, 4, 2, ' ', 0)
			for _, i := range infos {
				fmt.Fprintf(tw, "%s\t%s\n", i.Name, i.Summary)
				fmt.Fprintf(tw, "\tupdate of B:\t%s\n", i.Update)
				fmt.Fprintf(tw, "\tinput gradient:\t%s\n", i.InputGrad)
				fmt.Fprintf(tw, "\tlocality:\t%s\n", i.Locality)
				fmt.Fprintf(tw, "\tsource:\t%s\n", i.Source)
				if len(i.Settings) > 0 {
					var ss []string
					for _, st := range i.Settings {
						ss = append(ss, fmt.Sprintf("%s=%g", st.Name, st.Default))
					}
					fmt.Fprintf(tw, "\tsettings:\t%s\n", strings.Join(ss, "  "))
				}
				if td := train.RuleDefaults(i.Name); len(td) > 0 {
					var ss []string
					for _, k := range slices.Sorted(maps.Keys(td)) {
						ss = append(ss, fmt.Sprintf("%s=%g", k, td[k]))
					}
					fmt.Fprintf(tw, "\tasym train uses:\t%s\n", strings.Join(ss, "  "))
				}
				fmt.Fprintln(tw, "\t\t")
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			_, err := fmt.Fprint(s.Out, `settings: the rule's own defaults (the paper's coefficients), used where a config file
  names the rule without [rule.params].
asym train uses: the settings of 'asym train --rule NAME' where they differ (small-scale
  coefficients for runs of a few thousand steps, also the experiment commands' defaults);
  the other rules train with their own defaults. A plain 'asym train' trains an MLP with
  batch normalisation on the embedded digits.
`)
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}
