// Package cli holds what the example commands share: exit statuses, the API
// key from the environment, the flags of a Magic Link, the plain printing of
// errors, and serving HTTP until a context ends.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/mergelink/mergelink"
)

// Exit statuses of the example commands.
const (
	ExitOK    = 0
	ExitError = 1 // the request failed, or the flow did
	ExitUsage = 2 // bad flags or environment, or input refused before any request
)

// APIKeyEnv is the environment variable that holds the Merge API key.
const APIKeyEnv = "MERGE_API_KEY"

// ErrNoAPIKey is returned by APIKey when APIKeyEnv is not set.
var ErrNoAPIKey = errors.New(APIKeyEnv + " is not set: export your Merge API key (Merge Dashboard, Configuration, API Keys; a test key is fine) and run again")

// APIKey returns the API key from env. It fails with a usage error matching
// ErrNoAPIKey when there is none.
func APIKey(env func(string) string) (string, error) {
	key := strings.TrimSpace(env(APIKeyEnv))
	if key == "" {
		return "", Usage(ErrNoAPIKey)
	}
	return key, nil
}

// Usage marks err as a mistake in the command line or the environment, which
// Report answers with ExitUsage.
func Usage(err error) error { return usageError{err} }

type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// ParseFlags parses args, which must hold flags only, into fs, whose name
// names the command in errors. It returns done when the command must stop,
// with the exit status: ExitOK after -help, ExitUsage for a bad flag (which
// fs has printed) or a stray argument (printed on w).
func ParseFlags(fs *flag.FlagSet, args []string, w io.Writer) (exit int, done bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK, true
		}
		return ExitUsage, true
	}
	if fs.NArg() > 0 {
		return Report(w, fs.Name(), Usage(fmt.Errorf("unexpected argument %q: every input is a flag", fs.Arg(0))), nil), true
	}
	return ExitOK, false
}

// NewClient returns a client for region with the API key from env, and
// extra options after the region's (a test's mergetest options). It fails
// with a usage error when the key is missing or the region unknown, and as
// mergelink.NewClient does.
func NewClient(env func(string) string, region string, extra ...mergelink.Option) (*mergelink.Client, error) {
	key, err := APIKey(env)
	if err != nil {
		return nil, err
	}
	r, err := mergelink.ParseRegion(region)
	if err != nil {
		return nil, Usage(fmt.Errorf("-region: %w", err))
	}
	return mergelink.NewClient(key, append([]mergelink.Option{mergelink.WithRegion(r)}, extra...)...)
}

// Report prints err for the command cmd on w and returns the exit status
// for it: ExitUsage for a usage error (see Usage) and for a
// *mergelink.ValidationError (or several, joined), whose problems it prints
// one per line, naming the flag of each field that flagOf maps; ExitError
// for anything else.
func Report(w io.Writer, cmd string, err error, flagOf map[string]string) int {
	problems := validationProblems(err)
	if problems == nil {
		fmt.Fprintf(w, "%s: %v\n", cmd, err)
		if errors.As(err, new(usageError)) {
			return ExitUsage
		}
		return ExitError
	}
	fmt.Fprintf(w, "%s: nothing was sent; fix these and run again:\n", cmd)
	for _, p := range problems {
		fmt.Fprintf(w, "  %s: %s", fieldName(p.Field, flagOf), p.Rule)
		if p.Value != "" {
			fmt.Fprintf(w, " (got %s)", p.Value)
		}
		fmt.Fprintln(w)
	}
	return ExitUsage
}

// validationProblems returns the problems of the validation errors in err,
// or nil when err holds none.
func validationProblems(err error) []mergelink.ValidationProblem {
	var problems []mergelink.ValidationProblem
	errs := []error{err}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		errs = joined.Unwrap()
	}
	for _, e := range errs {
		var ve *mergelink.ValidationError
		if errors.As(e, &ve) {
			problems = append(problems, ve.Problems...)
		}
	}
	return problems
}

// fieldName names a problem's field by its flag, when flagOf maps the
// field's name (the part before any index or sub-field): "Categories[1]"
// is "-categories".
func fieldName(field string, flagOf map[string]string) string {
	base := field
	if i := strings.IndexAny(field, "[."); i >= 0 {
		base = field[:i]
	}
	if f, ok := flagOf[base]; ok {
		return f
	}
	return field
}

// Serve serves h on ln until ctx ends, then shuts the server down, giving
// requests in flight a few seconds. It returns nil after a shutdown, and the
// server's error if it stops by itself.
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		srv.Close()
	}
	<-served // http.ErrServerClosed
	return nil
}
