// Command modproxy writes a file-based Go module proxy holding modules of
// this repository at one version, each zipped from a git revision exactly
// as the go command would fetch it from a tag, so that a release can be
// tried before it is tagged:
//
//	go run ./release/modproxy -out DIR -rev HEAD -version v0.1.0 . redisstore agentmcp
//	GOPROXY=file://DIR,https://proxy.golang.org go get github.com/mergelink/mergelink/redisstore@v0.1.0
//
// Each argument is a module's folder, relative to the repository's top.
// Running it again with another revision and version adds to DIR.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	"golang.org/x/mod/zip"
)

func main() {
	out := flag.String("out", "", "the proxy's folder (created if missing)")
	rev := flag.String("rev", "HEAD", "the git revision to zip")
	version := flag.String("version", "", "the version to give every module, such as v0.1.0")
	flag.Parse()
	if *out == "" || !semver.IsValid(*version) || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: modproxy -out DIR [-rev REV] -version vX.Y.Z MODULE_DIR...")
		os.Exit(2)
	}
	// The main checkout, not a linked worktree (release/release rehearses
	// from one), which x/mod/zip does not take for a repository; the
	// revision is in the object store they share.
	common, err := git("", "rev-parse", "--path-format=absolute", "--git-common-dir")
	if err != nil {
		fail(err)
	}
	top := filepath.Dir(strings.TrimSpace(common))
	when, err := git(top, "log", "-1", "--format=%cI", *rev)
	if err != nil {
		fail(err)
	}
	t, err := time.Parse(time.RFC3339, strings.TrimSpace(when))
	if err != nil {
		fail(err)
	}
	for _, dir := range flag.Args() {
		p, err := add(*out, top, *rev, path.Clean(filepath.ToSlash(dir)), *version, t.UTC())
		if err != nil {
			fail(fmt.Errorf("%s: %w", dir, err))
		}
		fmt.Printf("%s@%s\n", p, *version)
	}
}

// add writes the module in subdir of the repository at top, as of rev, to
// the proxy in out at version, and returns its path.
func add(out, top, rev, subdir, version string, t time.Time) (string, error) {
	name := "go.mod"
	if subdir != "." {
		name = subdir + "/go.mod"
	}
	gomod, err := git(top, "show", rev+":"+name)
	if err != nil {
		return "", err
	}
	modPath := modfile.ModulePath([]byte(gomod))
	if modPath == "" {
		return "", fmt.Errorf("%s has no module line", name)
	}
	esc, err := module.EscapePath(modPath)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(out, filepath.FromSlash(esc), "@v")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	var z bytes.Buffer
	vcsDir := subdir
	if vcsDir == "." {
		vcsDir = ""
	}
	if err := zip.CreateFromVCS(&z, module.Version{Path: modPath, Version: version}, top, rev, vcsDir); err != nil {
		return "", err
	}
	info, err := json.Marshal(struct {
		Version string
		Time    time.Time
	}{version, t})
	if err != nil {
		return "", err
	}
	for ext, data := range map[string][]byte{".zip": z.Bytes(), ".mod": []byte(gomod), ".info": info} {
		if err := os.WriteFile(filepath.Join(dir, version+ext), data, 0o644); err != nil {
			return "", err
		}
	}
	list, _ := os.ReadFile(filepath.Join(dir, "list"))
	if !bytes.Contains(append([]byte("\n"), list...), []byte("\n"+version+"\n")) {
		list = append(list, version+"\n"...)
	}
	return modPath, os.WriteFile(filepath.Join(dir, "list"), list, 0o644)
}

// git runs git in dir and returns what it printed.
func git(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out), nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "modproxy:", err)
	os.Exit(1)
}
