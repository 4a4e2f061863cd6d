package main

import (
	"context"
	"fmt"
	"html"
	"net"
	"net/http"
	"sync"

	"github.com/mergelink/mergelink/agenthandler"
	"github.com/mergelink/mergelink/examples/internal/cli"
)

// Paths of the local server.
const (
	callbackPath = "/callback"
	webhookPath  = "/webhooks/agent"
)

// local is the agent's own server on a loopback port: the callback the
// browser comes back to and, offline, the receiver of Agent Handler's
// webhooks.
type local struct {
	url         string
	callbacks   chan *agenthandler.CallbackResult
	credentials chan *agenthandler.WebhookEvent // nil: no webhooks
	stop        func()

	mu    sync.Mutex
	state string // the state of the link pending, or ""
}

// startLocal serves on ln until stop. With webhooks, a handler built by
// agenthandler.NewWebhookHandler, it also receives webhooks at webhookPath;
// the caller feeds credentials from it.
func startLocal(ln net.Listener, webhooks http.Handler) *local {
	l := &local{url: localURL(ln), callbacks: make(chan *agenthandler.CallbackResult, 1)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+callbackPath, l.callback)
	if webhooks != nil {
		mux.Handle("POST "+webhookPath, webhooks)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- cli.Serve(ctx, ln, mux) }()
	l.stop = func() { cancel(); <-served }
	return l
}

// expect makes the callback accept state, once.
func (l *local) expect(state string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.state = state
}

// callback serves the browser's return: it accepts the pending link's
// state once, and refuses any other callback.
func (l *local) callback(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	want := l.state
	res, err := agenthandler.ParseCallback(r.URL.Query(), want)
	if err == nil {
		l.state = "" // a replay finds no link pending
	}
	l.mu.Unlock()
	if want == "" {
		http.Error(w, "no link is pending: open the link the agent printed", http.StatusBadRequest)
		return
	}
	if err != nil {
		http.Error(w, "callback refused: "+err.Error(), http.StatusBadRequest)
		return
	}
	select {
	case l.callbacks <- res:
	default:
	}
	title := "Connected. You can close this tab and go back to the agent."
	if !res.Succeeded() {
		title = fmt.Sprintf("Not connected (status %q).", res.Status)
	}
	fmt.Fprintf(w, "<!doctype html><title>agentmcp</title><h1 id=\"done\">%s</h1>\n", html.EscapeString(title))
}
