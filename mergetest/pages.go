package mergetest

import (
	"errors"
	"html/template"
	"net/http"
	"strings"
)

// The hosted pages are plain HTML forms, so that any browser, or curl,
// can play the end user. Each result page has an element with id="status".
var pages = template.Must(template.New("").Parse(`
{{define "top"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · mergetest</title>
<style>
body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#1d2733}
.note{color:#5b6b7b;font-size:.9rem}
select,button{font-size:1rem;padding:.5rem 1rem;margin:.5rem 0}
button{border:0;border-radius:6px;background:#1d2733;color:#fff;cursor:pointer}
</style></head><body>
<p class="note">mergetest: a fake Merge for tests and demos; nothing here reaches Merge.</p>
{{end}}
{{define "bottom"}}</body></html>{{end}}

{{define "link"}}{{template "top" .}}
<h1>Connect {{.Org}}</h1>
<p id="end-user">{{.Email}} at {{.Org}}</p>
<p id="categories">Categories: {{range $i, $c := .Categories}}{{if $i}}, {{end}}{{$c}}{{end}}</p>
<form method="post">
{{if .Fixed}}<p>Integration: <strong id="integration-name">{{.Fixed.Name}}</strong></p>
<input type="hidden" name="integration" value="{{.Fixed.Slug}}">
{{else}}<label for="integration">Integration</label>
<select id="integration" name="integration">{{range .Choices}}<option value="{{.Slug}}">{{.Name}}</option>{{end}}</select>
{{end}}<br><button type="submit" id="connect" name="action" value="connect">Connect</button>
<button type="submit" id="cancel" name="action" value="cancel">Cancel</button>
</form>
{{template "bottom"}}{{end}}

{{define "agent"}}{{template "top" .}}
<h1>Connect {{.Connector}}</h1>
<p id="end-user">for {{.User}}</p>
<form method="post">
<input type="hidden" name="callback_url" value="{{.Callback}}">
<button type="submit" id="connect" name="action" value="connect">Connect</button>
<button type="submit" id="decline" name="action" value="decline">Decline</button>
<button type="submit" id="cancel" name="action" value="cancel">Cancel</button>
</form>
{{template "bottom"}}{{end}}

{{define "status"}}{{template "top" .}}
<h1 id="status">{{.Title}}</h1>
<p id="message">{{.Message}}</p>
{{template "bottom"}}{{end}}
`))

type choice struct{ Slug, Name string }

// render writes a page, or a plain 500 when the template fails.
func render(w http.ResponseWriter, status int, name string, data any) {
	var b strings.Builder
	if err := pages.ExecuteTemplate(&b, name, data); err != nil {
		http.Error(w, "mergetest: rendering the page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write([]byte(b.String()))
}

// renderStatus writes a result page.
func renderStatus(w http.ResponseWriter, status int, title, message string) {
	render(w, status, "status", struct{ Title, Message string }{title, message})
}

// renderLinkError writes the page for a link that cannot be completed.
func renderLinkError(w http.ResponseWriter, err error) {
	status := http.StatusBadRequest
	switch {
	case errors.Is(err, ErrUnknownLink):
		status = http.StatusNotFound
	case errors.Is(err, ErrLinkUsed), errors.Is(err, ErrLinkExpired):
		status = http.StatusGone
	case errors.Is(err, ErrClosed):
		status = http.StatusServiceUnavailable
	}
	renderStatus(w, status, "Link unavailable", strings.TrimPrefix(err.Error(), "mergetest: "))
}

// linkPage serves the Magic Link page: the end user's organization and
// categories, an integration picker and a Connect button.
func (s *Server) linkPage(w http.ResponseWriter, r *http.Request) {
	var data struct {
		Title, Email, Org string
		Categories        []string
		Fixed             *choice
		Choices           []choice
	}
	err := locked(s, func() error {
		lt, err := s.openLink(r.PathValue("token"))
		if err != nil {
			return err
		}
		data.Title, data.Email, data.Org = "Connect "+lt.org, lt.email, lt.org
		data.Categories = lt.categories
		if in, ok := lookupIntegration(lt.integ); ok {
			data.Fixed = &choice{in.slug, in.name}
		}
		for _, in := range integrationsFor(lt.categories) {
			data.Choices = append(data.Choices, choice{in.slug, in.name})
		}
		return nil
	})
	if err != nil {
		renderLinkError(w, err)
		return
	}
	render(w, http.StatusOK, "link", data)
}

// linkConnect serves the Magic Link page's form: action "connect" (or
// none) completes the link with the integration field, "cancel" leaves it.
func (s *Server) linkConnect(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<16)
	switch action := r.PostFormValue("action"); action {
	case "", "connect":
	case "cancel":
		if err := s.CancelLink(r.PathValue("token")); err != nil {
			renderLinkError(w, err)
			return
		}
		renderStatus(w, http.StatusOK, "Cancelled", "Nothing was connected. You can close this tab.")
		return
	default:
		renderStatus(w, http.StatusBadRequest, "Unknown action", "The action must be connect or cancel.")
		return
	}
	a, err := s.CompleteLink(r.PathValue("token"), r.PostFormValue("integration"))
	if err != nil {
		renderLinkError(w, err)
		return
	}
	renderStatus(w, http.StatusOK, "Connected", a.EndUserOrganizationName+" connected "+a.IntegrationName+". You can close this tab.")
}

// agentLinkPage serves an Agent Handler magic link page. A callback_url
// query parameter is carried to the Connect button.
func (s *Server) agentLinkPage(w http.ResponseWriter, r *http.Request) {
	var data struct{ Title, Connector, User, Callback string }
	err := locked(s, func() error {
		t, err := s.openAgentLink(r.PathValue("token"))
		if err != nil {
			return err
		}
		if u := s.userByID(t.userID); u != nil {
			data.User = u.OriginUserName
		}
		data.Title, data.Connector = "Connect "+t.connector, t.connector
		data.Callback = r.URL.Query().Get("callback_url")
		return nil
	})
	if err != nil {
		renderLinkError(w, err)
		return
	}
	render(w, http.StatusOK, "agent", data)
}

// agentLinkConnect serves an Agent Handler page's form: action "connect"
// (or none), "cancel" or "decline". It redirects (303) to the callback URL
// with the status that follows, or says done when there is none or its
// origin is not allowed.
func (s *Server) agentLinkConnect(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<16)
	status, ok := map[string]string{"": CallbackSuccess, "connect": CallbackSuccess,
		"cancel": CallbackCancelled, "decline": CallbackDeclined}[r.PostFormValue("action")]
	if !ok {
		renderStatus(w, http.StatusBadRequest, "Unknown action", "The action must be connect, cancel or decline.")
		return
	}
	to, err := s.completeAgentLink(r.PathValue("token"), r.PostFormValue("callback_url"), status)
	if err != nil {
		renderLinkError(w, err)
		return
	}
	if to != "" {
		http.Redirect(w, r, to, http.StatusSeeOther)
		return
	}
	if status == CallbackSuccess {
		renderStatus(w, http.StatusOK, "Done", "Connected. You can close this tab.")
		return
	}
	renderStatus(w, http.StatusOK, "Not connected", "Nothing was connected. You can close this tab.")
}
