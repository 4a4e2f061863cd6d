package mergelink

import (
	"bytes"
	"encoding/json"
	"errors"
)

// dataField is a member of a webhook's data that the SDK decodes: its JSON
// name and where it goes.
type dataField struct {
	name string
	to   any
}

// decodeData decodes the members of data named by fields into their
// targets, as json.Unmarshal into a struct of those fields does: names
// match without regard to case, a later member overrides an earlier one,
// null leaves a string or a boolean alone. Other members are skipped
// unread. data must be a JSON object already known to be valid, as the
// data of a payload that json.Unmarshal accepted is: it is then read in one
// light pass instead of being decoded again. It fails with a
// *json.UnmarshalTypeError naming the first member of the wrong type.
func decodeData(data []byte, fields []dataField) error {
	return eachMember(data, func(key, value []byte) error {
		name := unquoteKey(key)
		for _, f := range fields {
			if !bytes.EqualFold(name, []byte(f.name)) {
				continue
			}
			if err := json.Unmarshal(value, f.to); err != nil {
				var typ *json.UnmarshalTypeError
				if errors.As(err, &typ) {
					typ.Field = f.name
				}
				return err
			}
		}
		return nil
	})
}

// unquoteKey returns the text of key, a valid JSON string with its quotes.
func unquoteKey(key []byte) []byte {
	if bytes.IndexByte(key, '\\') < 0 {
		return key[1 : len(key)-1]
	}
	var s string
	if json.Unmarshal(key, &s) != nil {
		return nil
	}
	return []byte(s)
}

// eachMember calls fn with the key (quoted, as written) and the raw value
// of each member of obj in turn, and stops at fn's first error. obj must
// be a valid JSON object; on anything else it stops early, without
// panicking.
func eachMember(obj []byte, fn func(key, value []byte) error) error {
	i := skipSpace(obj, 0)
	if i == len(obj) || obj[i] != '{' {
		return nil
	}
	i++
	for {
		i = skipSpace(obj, i)
		if i == len(obj) || obj[i] != '"' {
			return nil // '}': the end
		}
		keyEnd := endOfValue(obj, i)
		key := obj[i:keyEnd]
		i = skipSpace(obj, keyEnd)
		if i == len(obj) || obj[i] != ':' || len(key) < 2 {
			return nil
		}
		i = skipSpace(obj, i+1)
		end := endOfValue(obj, i)
		if err := fn(key, obj[i:end]); err != nil {
			return err
		}
		i = skipSpace(obj, end)
		if i == len(obj) || obj[i] != ',' {
			return nil
		}
		i++
	}
}

// endOfValue returns the index just past the valid JSON value that starts
// at b[i], or len(b).
func endOfValue(b []byte, i int) int {
	depth := 0
	for ; i < len(b); i++ {
		switch b[i] {
		case '"':
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
			if depth == 0 {
				return min(i+1, len(b))
			}
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			switch {
			case depth == 0: // the value's own closing bracket
				return i + 1
			case depth < 0: // the enclosing object's, which ends a literal
				return i
			}
		case ',', ':', ' ', '\t', '\r', '\n':
			if depth == 0 {
				return i
			}
		}
	}
	return len(b)
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}
