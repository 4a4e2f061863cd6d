package validate

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// RuleUTF8 is the rule of a string that is not valid UTF-8. encoding/json
// and Merge would turn each invalid byte into U+FFFD, so that two different
// ids would reach Merge as the same one.
const RuleUTF8 = "must be valid UTF-8: encoding/json would replace each invalid byte with U+FFFD, so that two different values would reach Merge as one"

// UTF8 checks that s is valid UTF-8. The value is never shown: it may be a
// secret, and its bytes would not print anyway.
func (c *Checker) UTF8(field, s string) {
	if !utf8.ValidString(s) {
		c.Add(field, RuleUTF8, "")
	}
}

// Strings checks every string that v holds, however deep (struct fields,
// slice and array elements, map keys and values, pointers and interfaces),
// with UTF8, naming each after field in Go's notation: "Field",
// "Field.Sub", "Field[2]", `Field["key"]`. A value held in an interface,
// as in a map[string]any, must also encode as JSON as it is: a NaN or
// infinite number, a channel, a func or a complex number is a problem, and
// so is a value that holds itself. Unexported struct fields are skipped,
// as encoding/json skips them. Strings is how each Validate covers its
// string fields, those added later included. It allocates nothing for a
// value without problems or maps, beyond putting v in an interface (and,
// once for each struct type, the list of its fields).
func (c *Checker) Strings(field string, v any) {
	w := walkers.Get().(*walker)
	w.c = c
	w.onPath = w.buf[:0]
	w.path = w.pathBuf[:0]
	if field != "" {
		w.path = append(w.path, step{name: field})
	}
	w.walk(reflect.ValueOf(v), false)
	*w = walker{} // hold on to nothing of v
	walkers.Put(w)
}

// walkers keeps walkers for reuse: a walk is on every call's path.
var walkers = sync.Pool{New: func() any { return new(walker) }}

// step is one step of the path from the root to the value being walked:
// a field name, a slice index or a map key.
type step struct {
	name  string
	index int
	key   reflect.Value
	kind  byte // 0 field, 'i' index, 'k' map key
}

type walker struct {
	c *Checker
	// path leads from the root to the value being walked; the field name
	// is written out only for a problem.
	path []step
	// onPath holds the maps, slices and pointers between the root and the
	// value being walked, to stop at a value that holds itself.
	onPath []uintptr
	// buf and pathBuf back onPath and path, so that one allocation holds
	// the whole walk of a usual params value.
	buf     [8]uintptr
	pathBuf [6]step
}

// name writes the path out in Go's notation.
func (w *walker) name() string {
	var b strings.Builder
	for _, s := range w.path {
		switch s.kind {
		case 'i':
			fmt.Fprintf(&b, "[%d]", s.index)
		case 'k':
			b.WriteString("[" + keyName(s.key) + "]")
		default:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s.name)
		}
	}
	return b.String()
}

func (w *walker) add(rule, value string) { w.c.Add(w.name(), rule, value) }

// walk checks v; loose is true below an interface, where encoding/json
// decides how to encode whatever it finds.
func (w *walker) walk(v reflect.Value, loose bool) {
	if !v.IsValid() {
		return
	}
	switch v.Kind() {
	case reflect.String:
		if !utf8.ValidString(v.String()) {
			w.add(RuleUTF8, "")
		}
	case reflect.Float32, reflect.Float64:
		if f := v.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			w.add("must be a finite number: JSON has no NaN or infinity", fmt.Sprint(f))
		}
	case reflect.Complex64, reflect.Complex128, reflect.Chan, reflect.Func, reflect.UnsafePointer:
		if loose {
			w.add(fmt.Sprintf("must hold values JSON can encode, not a %s", v.Kind()), "")
		}
	case reflect.Interface:
		if !v.IsNil() {
			w.walk(v.Elem(), true)
		}
	case reflect.Pointer:
		if v.IsNil() || !w.enter(v) {
			return
		}
		w.walk(v.Elem(), loose)
		w.leave()
	case reflect.Struct:
		for _, f := range fieldsOf(v.Type()) {
			fv := v.Field(f.index)
			if f.str { // the usual field, checked without a step
				if !utf8.ValidString(fv.String()) {
					w.path = append(w.path, step{name: f.name})
					w.add(RuleUTF8, "")
					w.path = w.path[:len(w.path)-1]
				}
				continue
			}
			w.path = append(w.path, step{name: f.name})
			w.walk(fv, loose)
			w.path = w.path[:len(w.path)-1]
		}
	case reflect.Slice:
		if v.IsNil() || v.Type().Elem().Kind() == reflect.Uint8 { // []byte is base64 in JSON
			return
		}
		if !w.enter(v) {
			return
		}
		w.elements(v, loose)
		w.leave()
	case reflect.Array:
		w.elements(v, loose)
	case reflect.Map:
		if v.IsNil() || !w.enter(v) {
			return
		}
		keys := v.MapKeys()
		sort.Sort(byKeyName(keys))
		for _, k := range keys {
			w.path = append(w.path, step{key: k, kind: 'k'})
			w.walk(k, loose)
			w.walk(v.MapIndex(k), loose)
			w.path = w.path[:len(w.path)-1]
		}
		w.leave()
	}
}

// field is an exported struct field, as walk visits it.
type field struct {
	index int
	name  string
	str   bool // of a string kind
}

// fields holds each struct type's exported fields ([]field), found once:
// reflect.Type.Field builds a whole StructField on every call, which was
// most of a walk's cost.
var fields sync.Map

// fieldsOf returns t's exported fields, in order.
func fieldsOf(t reflect.Type) []field {
	if fs, ok := fields.Load(t); ok {
		return fs.([]field)
	}
	var fs []field
	for i := range t.NumField() {
		if f := t.Field(i); f.IsExported() {
			fs = append(fs, field{index: i, name: f.Name, str: f.Type.Kind() == reflect.String})
		}
	}
	fields.Store(t, fs)
	return fs
}

func (w *walker) elements(v reflect.Value, loose bool) {
	for i := range v.Len() {
		w.path = append(w.path, step{index: i, kind: 'i'})
		w.walk(v.Index(i), loose)
		w.path = w.path[:len(w.path)-1]
	}
}

// enter marks the map, slice or pointer v as being walked, or reports
// that it holds itself and returns false.
func (w *walker) enter(v reflect.Value) bool {
	p := v.Pointer()
	if p != 0 && slices.Contains(w.onPath, p) {
		w.add("must not hold itself: JSON cannot encode a cycle", "")
		return false
	}
	w.onPath = append(w.onPath, p)
	return true
}

func (w *walker) leave() { w.onPath = w.onPath[:len(w.onPath)-1] }

// byKeyName orders map keys by keyName, so that problems come in one
// order. It uses sort.Sort, which every program with net/http links
// already, rather than a generic sort that would add its own copy.
type byKeyName []reflect.Value

func (s byKeyName) Len() int           { return len(s) }
func (s byKeyName) Less(i, j int) bool { return keyName(s[i]) < keyName(s[j]) }
func (s byKeyName) Swap(i, j int)      { s[i], s[j] = s[j], s[i] }

// keyName writes a map key as Go would: quoted when it is a string.
func keyName(k reflect.Value) string {
	if k.Kind() == reflect.String {
		return fmt.Sprintf("%q", k.String())
	}
	if k.Kind() == reflect.Interface && !k.IsNil() {
		return keyName(k.Elem())
	}
	return fmt.Sprint(k.Interface())
}

// JSON checks that v encodes as JSON, as the request body will; run it
// after Strings, which names the field of most failures, to catch the rest
// (a MarshalJSON method that fails, say).
func (c *Checker) JSON(field string, v any) {
	if _, err := json.Marshal(v); err != nil {
		c.Add(field, "must encode as JSON: "+err.Error(), "")
	}
}

// HasProblem reports whether some problem names field or a field below it
// (field.Sub, field[i]).
func (c *Checker) HasProblem(field string) bool {
	for _, p := range c.problems {
		if p.Field == field || strings.HasPrefix(p.Field, field+".") || strings.HasPrefix(p.Field, field+"[") {
			return true
		}
	}
	return false
}

// PlainURL checks that a URL that will be sent as it is holds no space, no
// control character and no invisible formatting character (U+200B, a
// bidirectional override, a byte order mark...), anywhere: such a URL is
// not the one a reader sees, and a parser may trim or refuse what another
// keeps. It reports whether s passed.
func (c *Checker) PlainURL(field, s string) bool {
	if err := plainURL(s); err != nil {
		c.Add(field, err.Error(), QuoteURL(s))
		return false
	}
	return true
}

// ErrNotPlain is matched by the errors of Origin and PlainURL for a URL
// that holds a space, a control or an invisible character.
var ErrNotPlain = errors.New("must hold no space, control or invisible character")

// Visible returns s without its spaces, control and invisible characters.
func Visible(s string) string {
	return strings.Map(func(r rune) rune {
		if notPlain(r) {
			return -1
		}
		return r
	}, s)
}

func notPlain(r rune) bool {
	return unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
}

// plainURL returns an error matching ErrNotPlain that names the first
// space, control or invisible character of s, or nil.
func plainURL(s string) error {
	for i, r := range s {
		if notPlain(r) {
			return fmt.Errorf("%w: %U at byte %d; escape it (%%20 for a space) or remove it", ErrNotPlain, r, i)
		}
	}
	return nil
}

// QueryKeys returns the names of the query parameters of the URL raw, as
// a server decodes them: the part between the first '?' and the first '#',
// split at '&' and ';', each name unescaped (a '+' is a space). A name
// that does not unescape is returned as it is. It never fails, so that no
// rule about a parameter is skipped because the URL is malformed.
func QueryKeys(raw string) []string {
	raw, _, _ = strings.Cut(raw, "#")
	_, query, ok := strings.Cut(raw, "?")
	if !ok {
		return nil
	}
	var keys []string
	for _, part := range strings.FieldsFunc(query, func(r rune) bool { return r == '&' || r == ';' }) {
		key, _, _ := strings.Cut(part, "=")
		keys = append(keys, unescapeQuery(key))
	}
	return keys
}

// unescapeQuery undoes query escaping; an invalid escape is kept as it is.
func unescapeQuery(s string) string {
	s = strings.ReplaceAll(s, "+", " ")
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
