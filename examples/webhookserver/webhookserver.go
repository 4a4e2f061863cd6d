package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/examples/internal/accountstore"
	"github.com/mergelink/mergelink/examples/internal/cli"
)

// keysEnv is the environment variable that holds the webhook signature
// keys, comma-separated.
const keysEnv = "MERGE_WEBHOOK_KEYS"

// webhookPath is where the server receives webhooks.
const webhookPath = "/webhooks"

// run serves webhooks until ctx ends, with the command-line args (without
// the program name) and the environment env, logging to logs, and returns
// the exit status.
func run(ctx context.Context, args []string, env func(string) string, logs io.Writer) int {
	fs := flag.NewFlagSet("webhookserver", flag.ContinueOnError)
	fs.SetOutput(logs)
	addr := fs.String("addr", "127.0.0.1:8080", "the address to listen on")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: webhookserver [flags]\n\n"+
			"Receives Merge webhooks at %s, verified with the signature keys in %s\n"+
			"(comma-separated, both during a rotation).\n\n", webhookPath, keysEnv)
		fs.PrintDefaults()
	}
	if exit, done := cli.ParseFlags(fs, args, logs); done {
		return exit
	}
	keys := parseKeys(env(keysEnv))
	if len(keys) == 0 {
		return cli.Report(logs, "webhookserver", cli.Usage(errors.New(keysEnv+" is not set: export the signature key of Merge's dashboard (Webhooks, Security); during a rotation give both keys, comma-separated")), nil)
	}

	logger := slog.New(slog.NewTextHandler(logs, nil))
	h, err := newHandler(keys, new(accountstore.Store), logger)
	if err != nil {
		return cli.Report(logs, "webhookserver", err, nil)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return cli.Report(logs, "webhookserver", err, nil)
	}
	logger.Info("receiving Merge webhooks", "url", "http://"+ln.Addr().String()+webhookPath, "keys", len(keys))
	if err := cli.Serve(ctx, ln, h); err != nil {
		return cli.Report(logs, "webhookserver", err, nil)
	}
	logger.Info("stopped")
	return cli.ExitOK
}

// parseKeys splits a comma-separated list of keys, dropping blanks.
func parseKeys(s string) []string {
	var keys []string
	for _, k := range strings.Split(s, ",") {
		if k = strings.TrimSpace(k); k != "" {
			keys = append(keys, k)
		}
	}
	return keys
}

// newHandler returns the server's handler: POST webhookPath takes webhooks
// signed with one of keys and keeps the account tokens they carry in store.
// It fails as mergelink.NewWebhookHandler does.
func newHandler(keys []string, store *accountstore.Store, logger *slog.Logger) (http.Handler, error) {
	wh, err := mergelink.NewWebhookHandler(func(ctx context.Context, ev *mergelink.WebhookEvent) error {
		if a, ok := store.Save(ev); ok {
			logger.InfoContext(ctx, "account token stored", "event", ev.Type(), "account", a)
			return nil
		}
		if ev.IsTest() {
			logger.InfoContext(ctx, "test webhook from Merge's dashboard received")
			return nil
		}
		logger.InfoContext(ctx, "webhook received", "event", ev)
		return nil
	}, keys, mergelink.WithWebhookLogger(logger))
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle(webhookPath, wh)
	return mux, nil
}
