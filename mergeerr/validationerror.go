package mergeerr

import (
	"fmt"
	"strings"
)

// ValidationProblem is one rule that one field of a params value (or one
// option) breaks.
type ValidationProblem struct {
	// Field is the Go name of the field, such as "LinkExpiryMins" or
	// "CommonModels[1].ModelID", or the option, such as "WithBaseURL".
	Field string
	// Rule says what the field must be, such as "required" or
	// "must be between 30 and 720".
	Rule string
	// Value is the offending value as text, or empty when it is empty or
	// must not be shown (a secret, say).
	Value string
}

// String is "Field: Rule (got Value)".
func (p ValidationProblem) String() string {
	if p.Value == "" {
		return p.Field + ": " + p.Rule
	}
	return fmt.Sprintf("%s: %s (got %s)", p.Field, p.Rule, p.Value)
}

// ValidationError lists every problem found in a params value or in the
// options of a constructor. A call that returns it has sent nothing.
type ValidationError struct {
	// Params names the params type or the constructor, such as
	// "LinkTokenParams" or "NewClient options".
	Params string
	// Problems holds every problem found, in field order.
	Problems []ValidationProblem
}

// Error lists every problem on one line.
func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("mergelink: invalid ")
	b.WriteString(e.Params)
	b.WriteString(": ")
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// Has reports whether some problem names field.
func (e *ValidationError) Has(field string) bool {
	for _, p := range e.Problems {
		if p.Field == field {
			return true
		}
	}
	return false
}
