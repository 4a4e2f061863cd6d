package mergetest

import (
	"net/http"
	"strconv"
)

// numberedPage answers a GET of an Agent Handler list with the page of
// items the request's page and page_size ask for: {count, next, previous,
// results}, next and previous being full URLs on the server, or null. A
// page_size that is not a positive number takes defaultSize, one above
// maxSize is cut to it; a page past the last is answered 404, as Merge's
// lists do.
func numberedPage[T any](s *Server, r *http.Request, items []T, defaultSize, maxSize int) reply {
	q := r.URL.Query()
	size := defaultSize
	if n, err := strconv.Atoi(q.Get("page_size")); err == nil && n > 0 {
		size = min(n, maxSize)
	}
	pages := max((len(items)+size-1)/size, 1)
	page := 1
	if q.Has("page") {
		n, err := strconv.Atoi(q.Get("page"))
		if err != nil || n < 1 || n > pages {
			return agentError(http.StatusNotFound, "invalid_page", "Invalid page.")
		}
		page = n
	}
	out := struct {
		Count    int     `json:"count"`
		Next     *string `json:"next"`
		Previous *string `json:"previous"`
		Results  []T     `json:"results"`
	}{Count: len(items), Results: items[(page-1)*size : min(page*size, len(items))]}
	if out.Results == nil {
		out.Results = []T{}
	}
	if page < pages {
		out.Next = s.urlWith(r, "page", strconv.Itoa(page+1))
	}
	if page > 2 {
		out.Previous = s.urlWith(r, "page", strconv.Itoa(page-1))
	} else if page == 2 {
		out.Previous = s.urlWith(r, "page", "")
	}
	return reply{http.StatusOK, out}
}
