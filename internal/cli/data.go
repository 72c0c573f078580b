package cli

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/asymlab/asym/data"
)

// mirrorEnv names the environment variable that gives `asym data fetch`'s
// default --mirror.
const mirrorEnv = "ASYM_DATA_MIRROR"

func newDataCmd(s *IO) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "data",
		Short: "Download data sets and describe them",
		Long: `Download the public data sets asym reads (fetch) and describe a data set as
training would open it (info).`,
		Args: noArgs,
		// Runnable, so that an unknown sub-command is a usage error
		// rather than help.
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newDataFetchCmd(s), newDataInfoCmd(s))
	return cmd
}

func newDataFetchCmd(s *IO) *cobra.Command {
	var (
		to, mirror string
		keep       bool
	)
	var names []string
	for _, d := range data.Downloads() {
		names = append(names, d.Name)
	}
	cmd := &cobra.Command{
		Use:   "fetch NAME --to DIR",
		Short: "Download a data set, verify its checksums and unpack it",
		Long: `Download a data set (` + strings.Join(names, ", ") + `) into DIR from its
publisher, check each file's size, SHA-256 and MD5, and unpack archives.
Train on it with --data NAME --data-dir DIR.

Files are streamed to DIR/FILE.part and renamed once verified; an
interrupted download resumes when the command is run again. A file put into
DIR by hand under its published name is verified instead of downloaded:
that is how to install a data set on a machine without network access.
--mirror (default: $` + mirrorEnv + `) replaces the publisher's URLs by a
folder that serves the same files.`,
		Example: `  asym data fetch cifar10 --to ~/data/cifar10
  asym train --data cifar10 --data-dir ~/data/cifar10 --model resnet20 --crop-pad 4 --flip`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := data.LookupDownload(args[0])
			if err != nil {
				return usageError{err}
			}
			if to == "" {
				return usagef("fetch needs --to DIR, the directory to install %s into", d.Name)
			}
			if !cmd.Flags().Changed("mirror") {
				mirror = os.Getenv(mirrorEnv)
			}
			err = data.Fetch(cmd.Context(), d, to, data.FetchOptions{Mirror: mirror, Log: s.Err, KeepArchive: keep})
			if err != nil {
				return err
			}
			fmt.Fprintf(s.Out, "%s is in %s; use --data %s --data-dir %s\n", d.Name, to, d.Name, to)
			return nil
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "directory to install the data set into (created if needed)")
	cmd.Flags().StringVar(&mirror, "mirror", "", "base URL serving the files instead of the publisher (env "+mirrorEnv+")")
	cmd.Flags().BoolVar(&keep, "keep-archive", false, "keep downloaded archives after unpacking them")
	return cmd
}

func newDataInfoCmd(s *IO) *cobra.Command {
	var (
		dir     string
		size    int
		context int
		asJSON  bool
	)
	cmd := &cobra.Command{
		Use:   "info NAME",
		Short: "Open a data set and describe it",
		Long: `Open a data set as training would (` + strings.Join(data.Names(), ", ") + `) and
print its splits, sample shape, classes and normalisation constants.`,
		Example: `  asym data info digits
  asym data info imagefolder --data-dir ~/data/imagenet --image-size 160 --json
  asym data info text --data-dir poems.txt --context 64`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			train, test, info, err := data.OpenWith(args[0], data.Options{Dir: dir, ImageSize: size, Context: context})
			if err != nil {
				return err
			}
			res := struct {
				Name       string    `json:"name"`
				Source     string    `json:"source"`
				Train      int       `json:"train"`
				Test       int       `json:"test"`
				Shape      []int     `json:"shape"`
				Classes    int       `json:"classes"`
				ClassNames []string  `json:"class_names"`
				Mean       []float32 `json:"mean"`
				Std        []float32 `json:"std"`
				CropPad    int       `json:"crop_pad"`
				Flip       bool      `json:"flip"`
			}{info.Name, info.Source, train.Len(), test.Len(), info.Shape, info.Classes, info.ClassNames,
				info.Norm.Mean, info.Norm.Std, info.Augment.Pad, info.Augment.FlipH}
			if asJSON {
				return s.printJSON(res)
			}
			classes := info.ClassNames
			more := ""
			if len(classes) > 10 {
				classes, more = classes[:10], fmt.Sprintf(", ... (%d more)", len(info.ClassNames)-10)
			}
			_, err = fmt.Fprintf(s.Out, "%s (%s)\n  samples: %d training, %d test, shape %v\n  classes: %d: %s%s\n"+
				"  normalisation: mean %v, std %v (raw scale)\n  standard augmentation: crop padding %d, flip %v\n",
				info.Name, info.Source, train.Len(), test.Len(), info.Shape, info.Classes, strings.Join(classes, ", "), more,
				info.Norm.Mean, info.Norm.Std, info.Augment.Pad, info.Augment.FlipH)
			return err
		},
	}
	cmd.Flags().StringVar(&dir, "data-dir", "", "directory holding the data set files (text: a UTF-8 text file)")
	cmd.Flags().IntVar(&size, "image-size", 0, "side of the square samples of an image folder (default 224)")
	cmd.Flags().IntVar(&context, "context", 0, "characters per window of the text data set (default 128)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the description as one JSON object")
	return cmd
}
