// Package models holds the model compiled into the capastan binary, so every
// command works with no model file at hand.
package models

import (
	_ "embed"
	"fmt"

	"github.com/capastan/capastan/classifier"
)

// defaultModel is built by `make model` from ../shared/datasets; see README.md
// beside it for the recipe, the data hashes and the evaluation figures.
//
//go:embed default.cpst
var defaultModel []byte

// DefaultBytes returns the embedded model file.
func DefaultBytes() []byte { return defaultModel }

// Default decodes and verifies the embedded model. The result is immutable:
// decode it once and share it.
func Default() (*classifier.Model, error) {
	m, err := classifier.Decode(defaultModel)
	if err != nil {
		return nil, fmt.Errorf("built-in model: %w", err)
	}
	return m, nil
}
