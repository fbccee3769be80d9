// Package corpora locates the labeled corpora that tests, benchmarks and
// `make quality` read: $CAPASTAN_DATASETS, or ../shared/datasets beside the
// repository root. The corpora are never copied into the repository.
package corpora

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// Env names the variable that overrides the location.
const Env = "CAPASTAN_DATASETS"

// Dir returns the corpora folder, or an error saying where it looked.
func Dir() (string, error) {
	if d := os.Getenv(Env); d != "" {
		if _, err := os.Stat(d); err != nil {
			return "", fmt.Errorf("$%s: %w", Env, err)
		}
		return d, nil
	}
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	d := filepath.Join(filepath.Dir(root), "shared", "datasets")
	if _, err := os.Stat(d); err != nil {
		return "", fmt.Errorf("corpora not found at %s (set $%s): %w", d, Env, err)
	}
	return d, nil
}

// ForTest returns the corpora folder, skipping the test (and saying why)
// when it is absent.
func ForTest(tb testing.TB) string {
	tb.Helper()
	d, err := Dir()
	if err != nil {
		tb.Skip(err)
	}
	return d
}

// repoRoot walks up from the working directory to the folder with go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}
