package validatetest

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mergelink/mergelink/internal/validate"
)

// InvalidUTF8 are byte strings that encoding/json would send as U+FFFD:
// "tenant-\xff" and "tenant-\xfe" would reach Merge as one id.
var InvalidUTF8 = []string{
	"tenant-\xff",
	"\xfe",
	"a\xc3",            // a cut sequence
	"\xed\xa0\x80",     // a surrogate
	"\xf4\x90\x80\x80", // past U+10FFFF
	"\xc0\xaf",         // an overlong '/'
}

// ValidatedTypes parses the Go files of the package in dir, tests left out,
// and returns the names of the types that have a Validate method.
func ValidatedTypes(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	var names []string
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv == nil || fn.Name.Name != "Validate" {
				continue
			}
			typ := fn.Recv.List[0].Type
			if star, ok := typ.(*ast.StarExpr); ok {
				typ = star.X
			}
			if id, ok := typ.(*ast.Ident); ok && !slices.Contains(names, id.Name) {
				names = append(names, id.Name)
			}
		}
	}
	if len(names) == 0 {
		return nil, errors.New("validatetest: no type with a Validate method in " + dir)
	}
	return names, nil
}

// HasProblem reports whether err is a *ValidationError with a problem that
// names field and whose rule holds rule.
func HasProblem(err error, field, rule string) bool {
	var ve *validate.ValidationError
	if !errors.As(err, &ve) {
		return false
	}
	for _, p := range ve.Problems {
		if p.Field == field && strings.Contains(p.Rule, rule) {
			return true
		}
	}
	return false
}
