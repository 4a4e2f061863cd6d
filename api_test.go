package mergelink_test

import (
	"context"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/agenthandler"
)

// TestPublicAPINamesNoInternalType reads the source of every public
// package of the module and fails on an exported function, method, field,
// variable or type whose declaration names a type of an internal package
// (other than through a public alias): a user cannot name such a type, so
// the API would be half closed, as agenthandler.New(*core.Settings) was.
func TestPublicAPINamesNoInternalType(t *testing.T) {
	var dirs []string
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		name := d.Name()
		if path != "." && (name == "internal" || name == "testdata" || name == "examples" || name == "bench" || name == "conformance" || strings.HasPrefix(name, ".")) {
			return filepath.SkipDir
		}
		if path != "." {
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir // another module
			}
		}
		dirs = append(dirs, path)
		return nil
	})
	require.NoError(t, err)
	require.Contains(t, dirs, "agenthandler")

	fset := token.NewFileSet()
	var found []string
	for _, dir := range dirs {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		require.NoError(t, err)
		for _, file := range files {
			if strings.HasSuffix(file, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, file, nil, parser.SkipObjectResolution)
			require.NoError(t, err)
			found = append(found, internalInAPI(fset, f)...)
		}
	}
	assert.Empty(t, found, "exported declarations that name internal types")
}

// internalInAPI lists the exported declarations of f that name a type of an
// internal package.
func internalInAPI(fset *token.FileSet, f *ast.File) []string {
	internal := map[string]bool{} // import names of internal packages
	for _, im := range f.Imports {
		path, _ := strconv.Unquote(im.Path.Value)
		if !strings.Contains(path, "/internal/") && !strings.HasSuffix(path, "/internal") {
			continue
		}
		name := path[strings.LastIndex(path, "/")+1:]
		if im.Name != nil {
			name = im.Name.Name
		}
		internal[name] = true
	}
	var found []string
	check := func(name string, n ast.Node) {
		if n == nil {
			return
		}
		ast.Inspect(n, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if id, ok := sel.X.(*ast.Ident); ok && internal[id.Name] {
					found = append(found, fset.Position(sel.Pos()).String()+": "+name+" names "+id.Name+"."+sel.Sel.Name)
				}
			}
			// A function literal's body is no part of the declaration.
			_, lit := n.(*ast.FuncLit)
			return !lit
		})
	}
	for _, decl := range f.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			if !d.Name.IsExported() || (d.Recv != nil && !exportedRecv(d.Recv)) {
				continue
			}
			check(d.Name.Name, d.Type)
		case *ast.GenDecl:
			for _, spec := range d.Specs {
				switch s := spec.(type) {
				case *ast.TypeSpec:
					// An alias (WebhookOption = webhookcore.Option) is the
					// public name users have for its type: what it names
					// is theirs to use.
					if s.Name.IsExported() && !s.Assign.IsValid() {
						checkType(s.Name.Name, s.Type, check)
					}
				case *ast.ValueSpec:
					for _, n := range s.Names {
						if n.IsExported() {
							check(n.Name, s.Type)
						}
					}
				}
			}
		}
	}
	return found
}

// checkType checks the exported parts of a type declaration: all of it,
// but for a struct's unexported fields and an interface's unexported
// methods.
func checkType(name string, typ ast.Expr, check func(string, ast.Node)) {
	var fields *ast.FieldList
	switch t := typ.(type) {
	case *ast.StructType:
		fields = t.Fields
	case *ast.InterfaceType:
		fields = t.Methods
	default:
		check(name, typ)
		return
	}
	for _, f := range fields.List {
		exported := len(f.Names) == 0 // embedded
		for _, n := range f.Names {
			exported = exported || n.IsExported()
		}
		if exported {
			check(name, f.Type)
		}
	}
}

// exportedRecv reports whether a method's receiver type is exported.
func exportedRecv(recv *ast.FieldList) bool {
	t := recv.List[0].Type
	if star, ok := t.(*ast.StarExpr); ok {
		t = star.X
	}
	switch x := t.(type) {
	case *ast.IndexExpr:
		t = x.X
	case *ast.IndexListExpr:
		t = x.X
	}
	id, ok := t.(*ast.Ident)
	return ok && id.IsExported()
}

// TestNilClientEveryMethodErrs calls every method of a nil and of a zero
// *Client, and of what they hand out (Account, AgentHandler), with zero
// arguments: none panics, and every one that can fail returns an error
// matching ErrNoClient. Methods are found by reflection, so a method added
// later is covered.
func TestNilClientEveryMethodErrs(t *testing.T) {
	for name, c := range map[string]*mergelink.Client{"nil": nil, "zero": {}} {
		t.Run(name, func(t *testing.T) {
			calls := callEvery(t, reflect.ValueOf(c))
			acct := c.Account(mergelink.CategoryHRIS, "token")
			calls += callEvery(t, reflect.ValueOf(acct))
			calls += callEvery(t, reflect.ValueOf(c.AgentHandler()))
			assert.Greater(t, calls, 20, "every method that returns an error was called")

			_, err := acct.Details(context.Background())
			assert.ErrorIs(t, err, mergelink.ErrNoClient)
			assert.ErrorIs(t, err, agenthandler.ErrNoClient, "one sentinel for both packages")
			for _, err := range mergelink.Paginate[map[string]any](context.Background(), acct, "employees", nil) {
				assert.ErrorIs(t, err, mergelink.ErrNoClient)
			}
		})
	}
}

// callEvery calls each exported method of v with zero arguments (a
// background context for a context) and asserts that each error it
// returns, or yields, is assertNoClient's. It returns how many errors it
// checked.
func callEvery(t *testing.T, v reflect.Value) int {
	t.Helper()
	errType := reflect.TypeFor[error]()
	ctxType := reflect.TypeFor[context.Context]()
	checked := 0
	for i := range v.NumMethod() {
		m := v.Type().Method(i)
		if m.Name == "Format" {
			continue // fmt's, which never passes a nil fmt.State
		}
		fn := v.Method(i)
		args := make([]reflect.Value, fn.Type().NumIn())
		for j := range args {
			in := fn.Type().In(j)
			if fn.Type().IsVariadic() && j == len(args)-1 {
				args[j] = reflect.Zero(in)
				continue
			}
			if in == ctxType {
				args[j] = reflect.ValueOf(context.Background())
			} else {
				args[j] = reflect.Zero(in)
			}
		}
		var out []reflect.Value
		require.NotPanics(t, func() {
			if fn.Type().IsVariadic() {
				out = fn.CallSlice(args)
			} else {
				out = fn.Call(args)
			}
		}, m.Name)
		for _, o := range out {
			switch {
			case o.Type() == errType:
				if m.Name == "Error" {
					continue
				}
				err, _ := o.Interface().(error)
				assertNoClient(t, err, m.Name)
				checked++
			case o.Type().Kind() == reflect.Func && o.Type().NumIn() == 1 && o.Type().In(0).Kind() == reflect.Func:
				// An iter.Seq2[T, error]: range it through reflection.
				yielded := false
				yield := reflect.MakeFunc(o.Type().In(0), func(a []reflect.Value) []reflect.Value {
					err, _ := a[len(a)-1].Interface().(error)
					assertNoClient(t, err, m.Name)
					yielded = true
					return []reflect.Value{reflect.ValueOf(true)}
				})
				require.NotPanics(t, func() { o.Call([]reflect.Value{yield}) }, m.Name)
				assert.True(t, yielded, "%s yields its error", m.Name)
				checked++
			}
		}
	}
	return checked
}

// TestWebhookLinkedAccountTyped checks that a webhook's linked account
// types its category and status as LinkedAccount does: one typing for one
// thing.
func TestWebhookLinkedAccountTyped(t *testing.T) {
	want := reflect.TypeFor[mergelink.LinkedAccount]()
	got := reflect.TypeFor[mergelink.WebhookLinkedAccount]()
	for _, name := range []string{"Category", "Status", "EndUserOriginID", "IsDuplicate"} {
		w, _ := want.FieldByName(name)
		g, ok := got.FieldByName(name)
		require.True(t, ok, name)
		assert.Equal(t, w.Type.String(), g.Type.String(), "WebhookLinkedAccount.%s", name)
	}

	body := []byte(`{"hook":{"event":"LinkedAccount.linked"},"linked_account":{"id":"la","category":"ats","status":"RELINK_NEEDED"},"data":{"account_token":"tok"}}`)
	ev, err := mergelink.ParseWebhook(body, mergelink.SignWebhook(body, "key"), "key")
	require.NoError(t, err)
	assert.Equal(t, mergelink.CategoryATS, ev.LinkedAccount.Category)
	assert.Equal(t, mergelink.LinkedAccountRelinkNeeded, ev.LinkedAccount.Status)
}

// assertNoClient asserts that err, from a call with zero arguments on a
// client that is not set up, matches ErrNoClient, or is the
// *ValidationError of those arguments: an Agent Handler call validates its
// input first, and sends nothing either way.
func assertNoClient(t *testing.T, err error, method string) {
	t.Helper()
	var verr *mergelink.ValidationError
	if !errors.As(err, &verr) {
		assert.ErrorIs(t, err, mergelink.ErrNoClient, method)
	}
}
