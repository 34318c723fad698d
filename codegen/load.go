package codegen

import (
	"errors"
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/tools/go/packages"
)

// Load loads the package in dir and builds the model of its interface
// typeName. Files that skip names lists (the generated files about to be
// rewritten; by default those of [Options] for typeName) are read as
// empty, so stale generated code never stands in the way. The error of an
// interface with several problems is an [ErrorList] of them all.
func Load(dir, typeName string, skip ...string) (*Service, error) {
	svc, err := loadDir(dir, typeName, skip...)
	if err != nil {
		return nil, err
	}
	return svc, nil
}

// loadDir is [Load], returning with the error of a problem with some
// methods the service of the others.
func loadDir(dir, typeName string, skip ...string) (*Service, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if len(skip) == 0 {
		o := Options{Type: typeName}
		o.defaults()
		skip = o.files()
	}
	overlay := map[string][]byte{}
	for _, name := range skip {
		path := filepath.Join(abs, name)
		data, err := os.ReadFile(path)
		if err != nil || !strings.HasPrefix(string(data), generatedHeader) {
			continue
		}
		overlay[path] = []byte("package " + packageClause(data) + "\n")
	}
	return load(abs, typeName, overlay)
}

// load loads the package in the absolute directory dir, with the overlay's
// file contents in place of those on disk, and builds the model.
func load(abs, typeName string, overlay map[string][]byte) (*Service, error) {
	cfg := &packages.Config{
		Mode:    packages.NeedName | packages.NeedFiles | packages.NeedSyntax | packages.NeedTypes | packages.NeedTypesInfo,
		Dir:     abs,
		Overlay: overlay,
	}
	pkgs, err := packages.Load(cfg, ".")
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", abs, err)
	}
	if len(pkgs) != 1 {
		return nil, fmt.Errorf("load %s: want one package, found %d", abs, len(pkgs))
	}
	pkg := pkgs[0]
	if pkg.Types == nil {
		return nil, typeCheckError(pkg)
	}
	// Other files of the package may use what the generator declares
	// (they are read as empty); that is no reason to stop, as long as the
	// interface and the types of its methods check.
	svc, err := build(pkg, abs, typeName)
	var invalid *invalidTypeError
	if len(pkg.Errors) > 0 && (errors.As(err, &invalid) || (err != nil && pkg.Types.Scope().Lookup(typeName) == nil)) {
		return nil, typeCheckError(pkg)
	}
	return svc, err
}

// invalidTypeError reports a type that did not type-check.
type invalidTypeError struct{ what string }

func (e *invalidTypeError) Error() string { return e.what + " does not type-check" }

func typeCheckError(pkg *packages.Package) error {
	msgs := make([]string, 0, len(pkg.Errors))
	for _, e := range pkg.Errors {
		msgs = append(msgs, e.Error())
	}
	return fmt.Errorf("package %s does not type-check:\n\t%s", pkg.PkgPath, strings.Join(msgs, "\n\t"))
}

// packageClause returns the package name a Go file declares.
func packageClause(src []byte) string {
	for _, line := range strings.Split(string(src), "\n") {
		if name, ok := strings.CutPrefix(strings.TrimSpace(line), "package "); ok {
			return strings.TrimSpace(name)
		}
	}
	return "main"
}

func build(pkg *packages.Package, dir, typeName string) (*Service, error) {
	obj := pkg.Types.Scope().Lookup(typeName)
	if obj == nil {
		return nil, &Error{Message: fmt.Sprintf("no type %s in package %s (%s)", typeName, pkg.PkgPath, dir),
			Hint: "-type names an interface declared in the package of the directory kitgen runs in"}
	}
	pos := pkg.Fset.Position(obj.Pos())
	tn, ok := obj.(*types.TypeName)
	if !ok {
		return nil, &Error{Pos: pos, Message: fmt.Sprintf("%s is not a type", typeName)}
	}
	if named, ok := tn.Type().(*types.Named); ok && named.TypeParams().Len() > 0 {
		return nil, &Error{Pos: pos, Message: fmt.Sprintf("%s is generic", typeName),
			Hint: "declare a non-generic interface; its methods may use instantiated generic types"}
	}
	iface, ok := tn.Type().Underlying().(*types.Interface)
	if !ok {
		return nil, &Error{Pos: pos, Message: fmt.Sprintf("%s is not an interface", typeName)}
	}
	if iface.NumMethods() == 0 {
		return nil, &Error{Pos: pos, Message: fmt.Sprintf("interface %s has no methods", typeName)}
	}

	docs, ifaceDoc := methodDocs(pkg, typeName)
	svc := &Service{Name: typeName, Pkg: pkg.Types, Dir: dir, Doc: ifaceDoc, scope: pkg.Types.Scope(), typeDocs: typeDocs(pkg), fset: pkg.Fset}

	funcs := make([]*types.Func, iface.NumMethods())
	for i := range funcs {
		funcs[i] = iface.Method(i)
	}
	slices.SortStableFunc(funcs, func(a, b *types.Func) int {
		pa, pb := pkg.Fset.Position(a.Pos()), pkg.Fset.Position(b.Pos())
		if c := strings.Compare(pa.Filename, pb.Filename); c != 0 {
			return c
		}
		return pa.Offset - pb.Offset
	})

	// Every problem of every method is reported in one run; the methods
	// without problems make up the service, so that later stages (the
	// protobuf model) can report theirs too.
	var errs errorList
	routes := map[string]*Method{}
	for _, f := range funcs {
		m, err := svc.method(pkg, f, docs[f.Name()])
		errs.add(err)
		if m == nil {
			continue
		}
		key := m.Route.Method + " " + normalizePath(m.Route.Path)
		if other, dup := routes[key]; dup {
			errs.add(&Error{Pos: m.Pos, Method: typeName + "." + m.Name,
				Message: fmt.Sprintf("route %s is also the route of %s", m.Route.Pattern(), other.Name),
				Hint:    "give each method its own //kit:http route"})
			continue
		}
		routes[key] = m
		if err == nil {
			svc.Methods = append(svc.Methods, m)
		}
	}
	errs.add(svc.checkNames(pkg))
	return svc, errs.err()
}

// normalizePath replaces wildcard names so /a/{x} and /a/{y} compare equal.
func normalizePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, "{") {
			segs[i] = "{}"
		}
	}
	return strings.Join(segs, "/")
}

// eachTypeSpec calls f with every type declaration of the package and the
// declaration group it stands in.
func eachTypeSpec(pkg *packages.Package, f func(gd *ast.GenDecl, ts *ast.TypeSpec)) {
	for _, file := range pkg.Syntax {
		for _, decl := range file.Decls {
			if gd, ok := decl.(*ast.GenDecl); ok && gd.Tok == token.TYPE {
				for _, spec := range gd.Specs {
					f(gd, spec.(*ast.TypeSpec))
				}
			}
		}
	}
}

// typeDoc is the doc comment of a type declaration: its own, or that of
// the group when the group declares only it.
func typeDoc(gd *ast.GenDecl, ts *ast.TypeSpec) *ast.CommentGroup {
	if ts.Doc != nil {
		return ts.Doc
	}
	if len(gd.Specs) == 1 {
		return gd.Doc
	}
	return nil
}

// typeDocs returns the doc comments of the package's types by name.
func typeDocs(pkg *packages.Package) map[string]string {
	docs := map[string]string{}
	eachTypeSpec(pkg, func(gd *ast.GenDecl, ts *ast.TypeSpec) {
		if doc := typeDoc(gd, ts); doc != nil {
			docs[ts.Name.Name] = doc.Text()
		}
	})
	return docs
}

type methodDoc struct {
	doc        *ast.CommentGroup
	directives []*ast.Comment
}
