package mergeerr_test

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// packageDoc reads the documentation of the package in dir as go doc shows
// it: exported names only, test files left out.
func packageDoc(t *testing.T, dir string) *doc.Package {
	t.Helper()
	fset := token.NewFileSet()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var files []*ast.File
	for _, e := range entries {
		if name := e.Name(); strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") {
			f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.ParseComments)
			require.NoError(t, err)
			files = append(files, f)
		}
	}
	p, err := doc.NewFromFiles(fset, files, "github.com/mergelink/mergelink/"+filepath.Base(dir))
	require.NoError(t, err)
	return p
}

// Every field and method of the error types shows in go doc with a
// comment of its own, since users cannot read an internal package's.
func TestErrorTypesDocumented(t *testing.T) {
	t.Parallel()
	p := packageDoc(t, ".")
	want := map[string]struct{ fields, methods []string }{
		"APIError": {
			[]string{"Method", "Path", "StatusCode", "Errors", "Detail", "Code", "RequestID", "RetryAfter", "Location", "Attempts", "Body", "Truncated"},
			[]string{"Error", "Is"},
		},
		"DecodeError":       {[]string{"Method", "Path", "StatusCode", "Truncated", "Limit", "Err"}, []string{"Error", "Unwrap"}},
		"ErrorDetail":       {[]string{"ProblemType", "Title", "Detail", "Source"}, []string{"String"}},
		"ValidationError":   {[]string{"Params", "Problems"}, []string{"Error", "Has"}},
		"ValidationProblem": {[]string{"Field", "Rule", "Value"}, []string{"String"}},
	}
	types := map[string]*doc.Type{}
	for _, typ := range p.Types {
		types[typ.Name] = typ
	}
	for name, w := range want {
		typ := types[name]
		require.NotNil(t, typ, "type %s is not in go doc", name)
		assert.True(t, strings.HasPrefix(typ.Doc, name+" "), "%s: doc comment must start with its name: %q", name, typ.Doc)
		spec := typ.Decl.Specs[0].(*ast.TypeSpec)
		st, ok := spec.Type.(*ast.StructType)
		require.True(t, ok, "%s is a struct, not an alias", name)
		fields := map[string]bool{}
		for _, f := range st.Fields.List {
			for _, n := range f.Names {
				fields[n.Name] = true
				assert.NotNil(t, f.Doc, "%s.%s has no doc comment", name, n.Name)
			}
		}
		for _, f := range w.fields {
			assert.True(t, fields[f], "%s.%s is not listed", name, f)
		}
		methods := map[string]bool{}
		for _, m := range typ.Methods {
			methods[m.Name] = true
			assert.NotEmpty(t, m.Doc, "%s.%s has no doc comment", name, m.Name)
		}
		for _, m := range w.methods {
			assert.True(t, methods[m], "method %s.%s is not listed", name, m)
		}
	}
	var sentinels []string
	for _, v := range p.Vars {
		sentinels = append(sentinels, v.Names...)
	}
	assert.ElementsMatch(t, []string{"ErrUnauthorized", "ErrForbidden", "ErrNotFound", "ErrRateLimited", "ErrServer", "ErrNoClient"}, sentinels)
}

// The packages users import name their error types after a public
// package's, never an internal one's, whose fields go doc cannot show.
func TestErrorAliasesArePublic(t *testing.T) {
	t.Parallel()
	for _, dir := range []string{"..", "../agenthandler"} {
		p := packageDoc(t, dir)
		aliases := map[string]string{}
		for _, typ := range p.Types {
			spec := typ.Decl.Specs[0].(*ast.TypeSpec)
			if sel, ok := spec.Type.(*ast.SelectorExpr); ok && spec.Assign.IsValid() {
				aliases[typ.Name] = sel.X.(*ast.Ident).Name + "." + sel.Sel.Name
			}
		}
		for _, name := range []string{"APIError", "DecodeError", "ErrorDetail", "ValidationError", "ValidationProblem"} {
			assert.Equal(t, "mergeerr."+name, aliases[name], "%s: %s", dir, name)
		}
	}
}
