package paging

import (
	"errors"
	"fmt"
	"strconv"
	"testing"
)

// pages serves a list from a map of token to (items, next) and counts
// the pages read.
type pages struct {
	m     map[string]page
	reads int
}

type page struct {
	items []int
	next  string
}

func (p *pages) fetch(token string) ([]int, string, error) {
	p.reads++
	pg, ok := p.m[token]
	if !ok {
		return nil, "", fmt.Errorf("no page %q", token)
	}
	return pg.items, pg.next, nil
}

func collect(t *testing.T, first string, p *pages) ([]int, error) {
	t.Helper()
	var got []int
	for it, err := range Seq(first, p.fetch, func(err error) error { return fmt.Errorf("wrapped: %w", err) }) {
		if err != nil {
			return got, err
		}
		got = append(got, it)
	}
	return got, nil
}

func TestSeqReadsToTheEnd(t *testing.T) {
	p := &pages{m: map[string]page{
		"":  {items: []int{1, 2}, next: "b"},
		"b": {items: nil, next: "c"},
		"c": {items: []int{3}},
	}}
	got, err := collect(t, "", p)
	if err != nil || fmt.Sprint(got) != "[1 2 3]" || p.reads != 3 {
		t.Fatalf("got %v, %v after %d reads; want [1 2 3], nil after 3", got, err, p.reads)
	}
}

func TestSeqStopsOnACycle(t *testing.T) {
	for name, m := range map[string]map[string]page{
		"back to the first":   {"a": {next: "b"}, "b": {next: "a"}},
		"to itself":           {"a": {items: []int{1}, next: "a"}},
		"empty pages A→B→C→B": {"a": {next: "b"}, "b": {next: "c"}, "c": {next: "b"}},
	} {
		t.Run(name, func(t *testing.T) {
			p := &pages{m: m}
			_, err := collect(t, "a", p)
			if !errors.Is(err, ErrCycle) || err.Error()[:8] != "wrapped:" {
				t.Fatalf("err = %v, want ErrCycle through wrap", err)
			}
			if p.reads > len(m) {
				t.Fatalf("read %d pages of a %d-page cycle", p.reads, len(m))
			}
		})
	}
}

func TestSeqStopsAfterMaxPages(t *testing.T) {
	p := &pages{m: map[string]page{}}
	for i := 0; i <= MaxPages; i++ {
		p.m[strconv.Itoa(i)] = page{next: strconv.Itoa(i + 1)}
	}
	_, err := collect(t, "0", p)
	if !errors.Is(err, ErrTooManyPages) || p.reads != MaxPages {
		t.Fatalf("err = %v after %d reads, want ErrTooManyPages after %d", err, p.reads, MaxPages)
	}
}

func TestSeqPassesFetchErrorsAsTheyAre(t *testing.T) {
	boom := errors.New("boom")
	fetch := func(string) ([]int, string, error) { return nil, "", boom }
	for _, err := range Seq("", fetch, func(err error) error { return fmt.Errorf("wrapped: %w", err) }) {
		if err != boom {
			t.Fatalf("err = %v, want boom unwrapped", err)
		}
	}
}

func TestSeqBreakReadsNoFurtherPage(t *testing.T) {
	p := &pages{m: map[string]page{"": {items: []int{1, 2}, next: "b"}, "b": {items: []int{3}}}}
	for range Seq("", p.fetch, nil) {
		break
	}
	if p.reads != 1 {
		t.Fatalf("read %d pages after a break on the first item, want 1", p.reads)
	}
}
