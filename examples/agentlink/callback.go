package main

import (
	"fmt"
	"net/http"
	"sync"

	"github.com/mergelink/mergelink/agenthandler"
)

// callbackPath is the path of the callback URLs, followed by your id for
// the user.
const callbackPath = "/callback/"

// callbacks serves the callback URLs of Agent Handler links, one per user
// at callbackPath+{user}. It keeps the state sent with each user's pending
// link on the server and accepts a callback only with that state, once.
type callbacks struct {
	mu      sync.Mutex
	pending map[string]string // user -> state sent with the link token
	done    func(user string, res *agenthandler.CallbackResult)
}

// newCallbacks returns a callbacks that calls done for each callback it
// accepts.
func newCallbacks(done func(user string, res *agenthandler.CallbackResult)) *callbacks {
	return &callbacks{pending: map[string]string{}, done: done}
}

// expect records the state sent with user's link token, replacing that of
// an earlier link.
func (cb *callbacks) expect(user, state string) {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	cb.pending[user] = state
}

// handler returns the HTTP handler of the callback URLs.
func (cb *callbacks) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+callbackPath+"{user}", cb.serve)
	return mux
}

func (cb *callbacks) serve(w http.ResponseWriter, r *http.Request) {
	user := r.PathValue("user")
	cb.mu.Lock()
	want, ok := cb.pending[user]
	if !ok {
		cb.mu.Unlock()
		http.Error(w, "callback refused: no link is pending for this user here; it was completed already, or never started", http.StatusBadRequest)
		return
	}
	res, err := agenthandler.ParseCallback(r.URL.Query(), want)
	if err != nil {
		cb.mu.Unlock()
		http.Error(w, "callback refused: "+err.Error(), http.StatusBadRequest)
		return
	}
	delete(cb.pending, user) // a state works once: a replay finds nothing
	cb.mu.Unlock()

	cb.done(user, res)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if res.Succeeded() {
		fmt.Fprintln(w, "Connected. You can close this tab.")
		return
	}
	fmt.Fprintf(w, "Not connected (status %q). Ask for a new link to try again.\n", res.Status)
}
