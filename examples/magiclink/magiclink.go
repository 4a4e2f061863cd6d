package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/examples/internal/cli"
)

// timeout bounds a run, retries included.
const timeout = time.Minute

// output is what -json prints.
type output struct {
	URL             string    `json:"url"`
	ExpiresAt       time.Time `json:"expires_at"`
	IntegrationName string    `json:"integration_name,omitempty"`
}

// run runs the command with the command-line args (without the program
// name) and the environment env, and returns the exit status. extra options
// go to the client after the region's, so that a test can point it at
// mergetest.
func run(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer, extra ...mergelink.Option) int {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	fs := flag.NewFlagSet("magiclink", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f cli.MagicLinkFlags
	f.Register(fs)
	asJSON := fs.Bool("json", false, "print the result as JSON")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: magiclink -email ADDR -org NAME -origin-id ID -categories LIST [flags]\n\n"+
			"Creates a Magic Link URL with the API key in %s.\n\n", cli.APIKeyEnv)
		fs.PrintDefaults()
	}
	if exit, done := cli.ParseFlags(fs, args, stderr); done {
		return exit
	}

	c, err := cli.NewClient(env, f.Region, extra...)
	if err != nil {
		return cli.Report(stderr, "magiclink", err, nil)
	}
	p := f.Params()
	ml, err := c.CreateMagicLink(ctx, p)
	if err != nil {
		return cli.Report(stderr, "magiclink", err, cli.MagicLinkFlagOf)
	}

	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(output{URL: ml.URL, ExpiresAt: ml.ExpiresAt.UTC(), IntegrationName: ml.IntegrationName}); err != nil {
			return cli.Report(stderr, "magiclink", err, nil)
		}
		return cli.ExitOK
	}
	cli.PrintMagicLink(stdout, ml, p)
	return cli.ExitOK
}
