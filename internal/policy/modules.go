package policy

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/gitvend/gitvend/policies"
)

// maxModuleSize bounds the size of one Rego file.
const maxModuleSize = 1 << 20

// builtinPrefix is put before the paths of built-in policy files in
// messages.
const builtinPrefix = "builtin/"

// extraPrefix is put before the paths of a repository's policy files in
// messages, since Options.Extra is rooted at the repository's policies/.
const extraPrefix = "policies/"

// policyPackagePrefix is the package every policy lives under.
const policyPackagePrefix = "gitvend.policies."

// source is one parsed Rego file.
type source struct {
	name    string // path shown in messages
	pkg     string // package path without "data.", such as "gitvend.lib"
	builtin bool
	module  *ast.Module
}

// parseFS parses the Rego files of fsys: the unit tests when tests is true,
// the other files otherwise. Names are shown with prefix before them.
func parseFS(fsys fs.FS, prefix string, tests, builtin bool) ([]source, error) {
	if fsys == nil {
		return nil, nil
	}
	var out []source
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("read %s: %w", prefix+p, err)
		}
		if d.IsDir() || path.Ext(p) != ".rego" || strings.HasSuffix(p, policies.TestSuffix) != tests {
			return nil
		}
		name := prefix + p
		info, err := d.Info()
		if err != nil {
			return fmt.Errorf("read %s: %w", name, err)
		}
		if info.Size() > maxModuleSize {
			return fmt.Errorf("read %s: file has %d bytes; a policy file may have at most %d", name, info.Size(), maxModuleSize)
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return fmt.Errorf("read %s: %w", name, err)
		}
		mod, err := ast.ParseModuleWithOpts(name, string(data), ast.ParserOptions{RegoVersion: ast.RegoV1})
		if err != nil {
			return fmt.Errorf("parse %s: %w", name, err)
		}
		if mod == nil {
			return fmt.Errorf("parse %s: the file declares no package", name)
		}
		out = append(out, source{name: name, pkg: packageName(mod), builtin: builtin, module: mod})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// packageName returns the package path of mod without the "data." prefix.
func packageName(mod *ast.Module) string {
	return strings.TrimPrefix(mod.Package.Path.String(), "data.")
}

// merge returns the built-in sources with every package that extra
// declares replaced by extra's modules. The unit tests of a replaced
// package (package "<pkg>_test" or "<pkg>") are dropped with it. replaced
// lists the built-in packages that were replaced.
func merge(builtin, extra []source) (out []source, replaced []string) {
	declared := map[string]bool{}
	for _, s := range extra {
		declared[s.pkg] = true
	}
	for _, s := range builtin {
		if declared[s.pkg] || declared[strings.TrimSuffix(s.pkg, "_test")] {
			if !slices.Contains(replaced, s.pkg) && !strings.HasSuffix(s.pkg, "_test") {
				replaced = append(replaced, s.pkg)
			}
			continue
		}
		out = append(out, s)
	}
	out = append(out, extra...)
	slices.Sort(replaced)
	return out, replaced
}

// capabilities are OPA's built-in functions without the non-deterministic
// ones (http.send, net.lookup_ip_addr, time.now_ns, rand.intn, ...): a
// policy's result depends on its input alone, and policies coming from a
// repository cannot reach the network.
func capabilities() *ast.Capabilities {
	caps := ast.CapabilitiesForThisVersion()
	caps.Builtins = slices.DeleteFunc(slices.Clone(caps.Builtins), func(b *ast.Builtin) bool {
		return b.Nondeterministic
	})
	caps.AllowNet = []string{}
	return caps
}

// sandboxCapabilities are capabilities without, further, every net.*
// function (pure as the CIDR ones are, a policy of a pull request has no
// business with addresses), trace and the parsing of other modules: what
// a sandboxed policy may call.
func sandboxCapabilities() *ast.Capabilities {
	caps := capabilities()
	caps.Builtins = slices.DeleteFunc(caps.Builtins, func(b *ast.Builtin) bool {
		return strings.HasPrefix(b.Name, "net.") || b.Name == "trace" || b.Name == "rego.parse_module" ||
			b.Name == "opa.runtime" || b.Name == "http.send"
	})
	return caps
}

// compile compiles the sources into a new compiler.
func compile(srcs []source, enablePrint bool) (*ast.Compiler, error) {
	return compileWith(srcs, enablePrint, capabilities())
}

// compileWith compiles the sources restricted to caps.
func compileWith(srcs []source, enablePrint bool, caps *ast.Capabilities) (*ast.Compiler, error) {
	mods := make(map[string]*ast.Module, len(srcs))
	for _, s := range srcs {
		mods[s.name] = s.module
	}
	c := newCompiler(enablePrint).WithCapabilities(caps)
	if c.Compile(mods); c.Failed() {
		return nil, fmt.Errorf("compile policies: %w", c.Errors)
	}
	return c, nil
}

// newCompiler returns a compiler restricted to capabilities.
func newCompiler(enablePrint bool) *ast.Compiler {
	return ast.NewCompiler().
		WithCapabilities(capabilities()).
		WithEnablePrintStatements(enablePrint).
		WithDefaultRegoVersion(ast.RegoV1)
}
