// Package validatetest helps the module's tests check that every string a
// params value holds is validated, those of fields added later included.
package validatetest

import (
	"fmt"
	"reflect"
	"sort"
)

// Variant is a copy of a value with one string changed.
type Variant struct {
	// Field names the string changed, as a *ValidationError names it:
	// "Field", "Field.Sub", "Field[2]", `Field["key"]`.
	Field string
	// Value is the changed copy, of the type of the value given.
	Value any
}

// Corrupt returns, for each string that v holds (exported struct fields,
// slice and array elements, map keys and values, through pointers and
// interfaces), a deep copy of v in which that one string is bad. A map
// key is replaced by bad itself, and the variant's Field names the key as
// it is then. Strings in unexported fields are skipped.
func Corrupt(v any, bad string) []Variant {
	n := count(reflect.ValueOf(v))
	out := make([]Variant, 0, n)
	for i := range n {
		c := deepCopy(reflect.ValueOf(v))
		s := &setter{target: i, bad: bad}
		root := reflect.New(c.Type()).Elem()
		root.Set(c)
		s.walk("", root)
		if !s.done {
			panic(fmt.Sprintf("validatetest: string %d of %T not found", i, v))
		}
		out = append(out, Variant{Field: s.field, Value: root.Interface()})
	}
	return out
}

// count returns how many strings v holds, as setter walks them.
func count(v reflect.Value) int {
	s := &setter{target: -1}
	c := deepCopy(v)
	root := reflect.New(c.Type()).Elem()
	root.Set(c)
	s.walk("", root)
	return s.seen
}

// setter walks an addressable value and replaces its target-th string.
type setter struct {
	target, seen int
	bad, field   string
	done         bool
}

func (s *setter) hit(field string) bool {
	i := s.seen
	s.seen++
	if i == s.target {
		s.field, s.done = field, true
		return true
	}
	return false
}

// walk visits v, which is settable (or a map entry handled by its map).
func (s *setter) walk(field string, v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		if s.hit(field) {
			v.SetString(s.bad)
		}
	case reflect.Pointer:
		if !v.IsNil() {
			s.walk(field, v.Elem())
		}
	case reflect.Interface:
		if v.IsNil() {
			return
		}
		inner := reflect.New(v.Elem().Type()).Elem()
		inner.Set(v.Elem())
		s.walk(field, inner)
		v.Set(inner)
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				s.walk(join(field, f.Name), v.Field(i))
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 {
			return
		}
		for i := range v.Len() {
			s.walk(fmt.Sprintf("%s[%d]", field, i), v.Index(i))
		}
	case reflect.Map:
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return keyName(keys[i]) < keyName(keys[j]) })
		for _, k := range keys {
			name := fmt.Sprintf("%s[%s]", field, keyName(k))
			if k.Kind() == reflect.String && s.hit("") {
				nk := reflect.New(k.Type()).Elem()
				nk.SetString(s.bad)
				val := v.MapIndex(k)
				v.SetMapIndex(k, reflect.Value{})
				v.SetMapIndex(nk, val)
				s.field = fmt.Sprintf("%s[%s]", field, keyName(nk))
				continue
			}
			val := reflect.New(v.Type().Elem()).Elem()
			val.Set(v.MapIndex(k))
			s.walk(name, val)
			v.SetMapIndex(k, val)
		}
	}
}

func keyName(k reflect.Value) string {
	if k.Kind() == reflect.String {
		return fmt.Sprintf("%q", k.String())
	}
	return fmt.Sprint(k.Interface())
}

func join(field, name string) string {
	if field == "" {
		return name
	}
	return field + "." + name
}

// deepCopy copies v and everything it points to, so that changing the
// copy leaves v as it is.
func deepCopy(v reflect.Value) reflect.Value {
	if !v.IsValid() {
		return v
	}
	out := reflect.New(v.Type()).Elem()
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			p := reflect.New(v.Type().Elem())
			p.Elem().Set(deepCopy(v.Elem()))
			out.Set(p)
		}
	case reflect.Interface:
		if !v.IsNil() {
			out.Set(deepCopy(v.Elem()))
		}
	case reflect.Struct:
		out.Set(v)
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				out.Field(i).Set(deepCopy(v.Field(i)))
			}
		}
	case reflect.Slice:
		if !v.IsNil() {
			s := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
			for i := range v.Len() {
				s.Index(i).Set(deepCopy(v.Index(i)))
			}
			out.Set(s)
		}
	case reflect.Array:
		for i := range v.Len() {
			out.Index(i).Set(deepCopy(v.Index(i)))
		}
	case reflect.Map:
		if !v.IsNil() {
			m := reflect.MakeMapWithSize(v.Type(), v.Len())
			for _, k := range v.MapKeys() {
				m.SetMapIndex(k, deepCopy(v.MapIndex(k)))
			}
			out.Set(m)
		}
	default:
		out.Set(v)
	}
	return out
}
