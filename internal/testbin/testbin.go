// Package testbin builds the capastan binary once per test process, for
// the tests that must run it as a separate process (signals, a process
// restart, the reproducible-model check).
package testbin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var (
	once sync.Once
	path string
	err  error
)

// Capastan returns the path of a capastan binary built from this module's
// cmd/capastan, building it on the first call.
func Capastan(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		dir, e := os.MkdirTemp("", "capastan-bin")
		if e != nil {
			err = e
			return
		}
		path = filepath.Join(dir, "capastan")
		// The import path builds the same package from any test's directory.
		if out, e := exec.Command("go", "build", "-o", path, "github.com/capastan/capastan/cmd/capastan").CombinedOutput(); e != nil {
			err = fmt.Errorf("go build: %v\n%s", e, out)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return path
}
