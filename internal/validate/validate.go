// Package validate holds the problem list that every params type of the
// module fills before a request is sent, and the small checks they share.
package validate

import (
	"fmt"
	"unicode/utf8"

	"github.com/mergelink/mergelink/mergeerr"
)

// Problem is one rule that one field of a params value breaks. It is
// defined in the public package mergeerr, so that users see its fields.
type Problem = mergeerr.ValidationProblem

// ValidationError lists every problem found in a params value; see
// mergeerr.ValidationError.
type ValidationError = mergeerr.ValidationError

// Checker collects the problems of one params value.
type Checker struct {
	params   string
	problems []Problem
}

// New returns a Checker for the params type named params.
func New(params string) *Checker { return &Checker{params: params} }

// Add records a problem. value is shown as given; pass "" to hide it.
func (c *Checker) Add(field, rule, value string) {
	c.problems = append(c.problems, Problem{Field: field, Rule: rule, Value: value})
}

// Err returns a *ValidationError holding every problem, or nil when there is
// none.
func (c *Checker) Err() error {
	if len(c.problems) == 0 {
		return nil
	}
	return &ValidationError{Params: c.params, Problems: c.problems}
}

// Length checks that s holds min to max characters; min > 0 makes it
// required.
func (c *Checker) Length(field, s string, min, max int) {
	n := utf8.RuneCountInString(s)
	switch {
	case n == 0 && min > 0:
		c.Add(field, "required", "")
	case n < min || n > max:
		c.Add(field, fmt.Sprintf("must be %d to %d characters long", min, max), fmt.Sprintf("%d characters", n))
	}
}

// Required checks that s is not empty. The value is never shown, so it suits
// secrets too.
func (c *Checker) Required(field, s string) {
	if s == "" {
		c.Add(field, "required", "")
	}
}

// IsUUID reports whether s is a UUID in its canonical 8-4-4-4-12 hex form,
// in either case.
func IsUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isHex(c) {
				return false
			}
		}
	}
	return true
}

// IsSlug reports whether s looks like an integration or connector slug: 1
// to 100 lower-case letters, digits, '_', '-' and '.', starting with a
// letter or digit.
func IsSlug(s string) bool {
	if len(s) == 0 || len(s) > 100 || !isLowerAlnum(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isLowerAlnum(c) && c != '_' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isLowerAlnum(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }

// UUID checks that s, when not empty, is a UUID.
func (c *Checker) UUID(field, s string) {
	if s != "" && !IsUUID(s) {
		c.Add(field, "must be a UUID such as 41f11808-5387-4be5-9af2-852a372d61e3", Quote(s))
	}
}

// Slug checks that s, when not empty, looks like a slug.
func (c *Checker) Slug(field, s string) {
	if s != "" && !IsSlug(s) {
		c.Add(field, "must be a slug of lower-case letters, digits, '_', '-' or '.' such as \"greenhouse\"", Quote(s))
	}
}

// Page checks a page-numbered list's Page and PageSize: neither may be
// negative, and 0 leaves the first page or Merge's default size.
func (c *Checker) Page(page, pageSize int) {
	if page < 0 {
		c.Add("Page", "must be 1 or more, or 0 for the first page", fmt.Sprint(page))
	}
	if pageSize < 0 {
		c.Add("PageSize", "must be 1 or more, or 0 for Merge's default", fmt.Sprint(pageSize))
	}
}

// Quote quotes s for a problem's Value, cutting it at 64 characters so that
// a huge input does not make a huge error.
func Quote(s string) string {
	const max = 64
	if utf8.RuneCountInString(s) > max {
		r := []rune(s)
		return fmt.Sprintf("%q…", string(r[:max]))
	}
	return fmt.Sprintf("%q", s)
}
