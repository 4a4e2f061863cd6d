package mergelink

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
)

// dataField is a member of a webhook's data that the SDK decodes: its JSON
// name and where it goes.
type dataField struct {
	name string
	to   any
	// lenient leaves to zero when the member has an unexpected type,
	// instead of failing.
	lenient bool
	// path prefixes name in errors, such as "hook.".
	path string
}

// decodeData decodes the members of data named by fields into their
// targets, as json.Unmarshal into a struct of those fields does: names
// match without regard to case, a later member overrides an earlier one,
// null leaves a string or a boolean alone. Other members are skipped
// unread. data must be a JSON object already known to be valid, as the
// data of a payload that json.Unmarshal accepted is: it is then read in one
// light pass instead of being decoded again. It fails with a
// *json.UnmarshalTypeError naming the first member of the wrong type that
// is not lenient.
func decodeData(data []byte, fields []dataField) error {
	return eachMember(data, func(key, value []byte) error {
		name := unquoteKey(key)
		for _, f := range fields {
			if !bytes.EqualFold(name, []byte(f.name)) {
				continue
			}
			err := json.Unmarshal(value, f.to)
			if err == nil {
				continue
			}
			if f.lenient {
				reflect.ValueOf(f.to).Elem().SetZero()
				continue
			}
			var typ *json.UnmarshalTypeError
			if _, nested := f.to.(*objectFunc); errors.As(err, &typ) && !nested {
				typ.Field = f.path + f.name
			}
			return err
		}
		return nil
	})
}

// decodeLenient decodes obj, a valid JSON object, into the struct v points
// to as json.Unmarshal does, except that a member of an unexpected type
// leaves its field zero instead of failing.
func decodeLenient(obj []byte, v any) {
	if json.Unmarshal(obj, v) == nil {
		return
	}
	rv := reflect.ValueOf(v).Elem()
	rv.SetZero()
	t := rv.Type()
	fields := make([]dataField, 0, t.NumField())
	for i := range t.NumField() {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if !sf.IsExported() || name == "" || name == "-" {
			continue
		}
		fields = append(fields, dataField{name: name, to: rv.Field(i).Addr().Interface(), lenient: true})
	}
	decodeData(obj, fields) // every field is lenient: it cannot fail
}

// objectFunc decodes a member that must be a JSON object, or null, with fn;
// another kind of value fails with a *json.UnmarshalTypeError naming it.
type objectFunc struct {
	name string
	fn   func(obj []byte) error
}

func objectOf(name string, fn func(obj []byte) error) *objectFunc { return &objectFunc{name, fn} }

func (o *objectFunc) UnmarshalJSON(b []byte) error {
	switch kind := jsonValueKind(b); kind {
	case "null":
		return nil
	case "object":
		return o.fn(b)
	default:
		return &json.UnmarshalTypeError{Value: kind, Type: reflect.TypeFor[map[string]any](), Field: o.name}
	}
}

// idText is an id that Merge sends as a string, kept as text when it comes
// as a number.
type idText string

func (s *idText) UnmarshalJSON(b []byte) error {
	switch jsonValueKind(b) {
	case "null":
		return nil
	case "number":
		*s = idText(b)
		return nil
	}
	return json.Unmarshal(b, (*string)(s))
}

// jsonValueKind names the kind of the valid JSON value b as
// json.UnmarshalTypeError does: "string", "number", "object" and so on.
func jsonValueKind(b []byte) string {
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) == 0 {
		return "empty"
	}
	switch b[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	}
	return "number"
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
