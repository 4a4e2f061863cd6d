// Command serve starts a mergetest server on loopback for the conformance
// checks in ../node, which drive it with Merge's official clients.
//
// It prints one JSON line on stdout, {"url", "unified", "agent", "api_key",
// "control"}, then serves until its standard input is closed or it gets
// SIGINT or SIGTERM. The control URL plays the end user and Merge's
// dashboard, which a client of the API cannot:
//
//	POST /complete      {"link", "integration"} -> the new Linked Account,
//	                    with its public and account tokens
//	POST /status        {"id", "status"}
//	POST /test-account  {"id", "test"}
//	POST /delete        {"id"}
//	POST /raise-issue   {"id", "description"} -> {"id", "status"}: an issue
//	                    on the Linked Account
//	POST /agent-webhook {"url", "key"}: where Agent Handler's webhooks go
//	POST /agent-webhook-rotate {"key"}: a new verification key, at once
//	POST /complete-agent {"link"} -> {"redirect"}: the user connects
//
// A control call answers 200 with JSON, or 400 with {"error"}.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"syscall"

	"github.com/mergelink/mergelink/mergetest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		os.Exit(1)
	}
}

// endpoints is the line run prints.
type endpoints struct {
	URL     string `json:"url"`
	Unified string `json:"unified"`
	Agent   string `json:"agent"`
	APIKey  string `json:"api_key"`
	Control string `json:"control"`
}

// run serves until ctx ends or stdin reaches its end.
func run(ctx context.Context, stdin io.Reader, stdout io.Writer) error {
	srv := mergetest.NewServer(mergetest.WithAllowedCallbackOrigins("https://app.example.com"))
	defer srv.Close()
	ctl := httptest.NewServer(control(srv))
	defer ctl.Close()

	err := json.NewEncoder(stdout).Encode(endpoints{
		URL:     srv.URL(),
		Unified: srv.URL() + mergetest.UnifiedPath,
		Agent:   srv.URL() + mergetest.AgentPath,
		APIKey:  srv.APIKey(),
		Control: ctl.URL,
	})
	if err != nil {
		return err
	}
	eof := make(chan struct{})
	go func() {
		io.Copy(io.Discard, stdin)
		close(eof)
	}()
	select {
	case <-ctx.Done():
	case <-eof:
	}
	return nil
}

// control serves the control calls on srv.
func control(srv *mergetest.Server) http.Handler {
	mux := http.NewServeMux()
	handle := func(path string, f func(req map[string]any) (any, error)) {
		mux.HandleFunc("POST "+path, func(w http.ResponseWriter, r *http.Request) {
			var req map[string]any
			err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&req)
			var out any
			if err == nil {
				out, err = f(req)
			}
			w.Header().Set("Content-Type", "application/json")
			if err != nil {
				w.WriteHeader(http.StatusBadRequest)
				out = map[string]string{"error": err.Error()}
			}
			json.NewEncoder(w).Encode(out)
		})
	}
	str := func(req map[string]any, name string) string { s, _ := req[name].(string); return s }
	handle("/complete", func(req map[string]any) (any, error) {
		la, err := srv.CompleteLink(str(req, "link"), str(req, "integration"))
		if err != nil {
			return nil, err
		}
		return map[string]any{
			"id": la.ID, "public_token": la.PublicToken, "account_token": la.AccountToken,
			"is_relink": la.IsRelink, "category": la.Category, "integration": la.Integration,
		}, nil
	})
	handle("/status", func(req map[string]any) (any, error) {
		return struct{}{}, srv.SetLinkedAccountStatus(str(req, "id"), str(req, "status"))
	})
	handle("/test-account", func(req map[string]any) (any, error) {
		test, ok := req["test"].(bool)
		if !ok {
			return nil, errors.New("test must be a boolean")
		}
		return struct{}{}, srv.SetTestAccount(str(req, "id"), test)
	})
	handle("/delete", func(req map[string]any) (any, error) {
		return struct{}{}, srv.DeleteLinkedAccount(str(req, "id"))
	})
	handle("/raise-issue", func(req map[string]any) (any, error) {
		is, err := srv.RaiseIssue(str(req, "id"), str(req, "description"))
		if err != nil {
			return nil, err
		}
		return map[string]any{"id": is.ID, "status": is.Status}, nil
	})
	handle("/agent-webhook", func(req map[string]any) (any, error) {
		return struct{}{}, srv.SetAgentWebhook(str(req, "url"), str(req, "key"))
	})
	handle("/agent-webhook-rotate", func(req map[string]any) (any, error) {
		return struct{}{}, srv.RotateAgentWebhookKey(str(req, "key"))
	})
	handle("/complete-agent", func(req map[string]any) (any, error) {
		to, err := srv.CompleteAgentLink(str(req, "link"))
		if err != nil {
			return nil, err
		}
		return map[string]string{"redirect": to}, nil
	})
	return mux
}
