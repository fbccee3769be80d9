package classifier

import (
	"fmt"
	"strings"
)

// Model kinds.
const (
	Multinomial = "multinomial" // multinomial naive Bayes
	Complement  = "complement"  // complement naive Bayes (Rennie et al. 2003)
)

// Config is everything that shapes a model: how text becomes features and
// how the weights are estimated. It is stored in the model file, so a loaded
// model tokenizes exactly as it was trained.
type Config struct {
	Tokenizer TokenizerConfig `json:"tokenizer"`
	// NGrams is the longest n-gram used as a feature: 1 (words), 2 or 3.
	NGrams int `json:"ngrams"`
	// Binary counts each feature at most once per document (presence),
	// which suits sentiment better than raw counts.
	Binary bool `json:"binary"`
	// MinDF drops features seen in fewer documents than this.
	MinDF int `json:"min_df"`
	// HashBits, when non-zero, hashes features into 2^HashBits buckets
	// instead of keeping an exact vocabulary: memory is fixed whatever the
	// corpus size, at the price of collisions.
	HashBits int `json:"hash_bits"`
	// MaxVocab bounds the exact vocabulary while training: past it, the
	// rarest features are pruned, so memory stays bounded on any input.
	MaxVocab int `json:"max_vocab"`
	// Kind is Multinomial or Complement.
	Kind string `json:"kind"`
	// Alpha is the additive (Lidstone) smoothing; 1 is Laplace.
	Alpha float64 `json:"alpha"`
	// Balance rescales each class's feature counts to the same total before
	// smoothing, so alpha weighs equally against every class; it helps
	// when class sizes (or document lengths) differ a lot.
	Balance bool `json:"balance,omitempty"`
	// Epochs, when non-zero, refines the counted weights discriminatively
	// (discriminative multinomial naive Bayes, Su et al. 2008): each pass
	// scores every training document with the current weights and adds
	// LearningRate * (1 - p(true class)) of its features to its true class,
	// and takes LearningRate * p(class) of them from every other class, so
	// documents the model gets wrong weigh more. The model keeps the same
	// shape and cost; training keeps every document's features in memory.
	Epochs int `json:"epochs,omitempty"`
	// LearningRate scales the discriminative updates; 0 means 1.
	LearningRate float64 `json:"learning_rate,omitempty"`
	// UniformPrior ignores the class frequencies of the training data.
	UniformPrior bool `json:"uniform_prior"`
	// Temperature divides the log-likelihoods before the softmax. Naive
	// Bayes is overconfident on long texts; the trainer can fit this on
	// held-out data so confidences mean something. 0 means 1.
	Temperature float64 `json:"temperature"`
	// ClassBias is added to each class's log prior. The trainer can fit it
	// on held-out data to undo the pull of a majority class (for example
	// to maximise macro-averaged recall); empty means no bias.
	ClassBias []float64 `json:"class_bias,omitempty"`
	// NeutralMargin, when above 0, answers "neutral" when the most
	// probable class is another one and leads the next class other than
	// neutral by less than this much probability: "positive 0.45,
	// negative 0.35" is a mixed opinion, not a positive one. The
	// probabilities are left as they are, so the label is then not the
	// most probable class. It needs a class named "neutral" and at least
	// three classes. 0 means the most probable class always wins.
	NeutralMargin float64 `json:"neutral_margin,omitempty"`
	// Classes fixes the class order; empty means the sorted labels found in
	// the training data.
	Classes []string `json:"classes,omitempty"`
}

// DefaultConfig holds every default of the classifier in one place; each
// option of the trainer documents what it overrides.
func DefaultConfig() Config {
	return Config{
		Tokenizer:   DefaultTokenizerConfig(),
		NGrams:      2,
		Binary:      true,
		Balance:     true,
		MinDF:       1,
		MaxVocab:    20_000_000,
		Kind:        Multinomial,
		Alpha:       1.0,
		Temperature: 1,
	}
}

// Validate reports the first invalid setting.
func (c *Config) Validate() error {
	switch {
	case c.NGrams < 1 || c.NGrams > 3:
		return fmt.Errorf("ngrams must be 1, 2 or 3, got %d", c.NGrams)
	case c.MinDF < 1:
		return fmt.Errorf("min_df must be at least 1, got %d", c.MinDF)
	case c.HashBits != 0 && (c.HashBits < 8 || c.HashBits > 28):
		return fmt.Errorf("hash_bits must be 0 (exact vocabulary) or 8..28, got %d", c.HashBits)
	case c.HashBits == 0 && c.MaxVocab < 1000:
		return fmt.Errorf("max_vocab must be at least 1000, got %d", c.MaxVocab)
	case c.Kind != Multinomial && c.Kind != Complement:
		return fmt.Errorf("kind must be %q or %q, got %q", Multinomial, Complement, c.Kind)
	case !(c.Alpha > 0) || c.Alpha > 100:
		return fmt.Errorf("alpha must be in (0, 100], got %v", c.Alpha)
	case c.Epochs < 0 || c.Epochs > 100:
		return fmt.Errorf("epochs must be in [0, 100], got %d", c.Epochs)
	case c.LearningRate < 0 || c.LearningRate > 10 || c.LearningRate != c.LearningRate:
		return fmt.Errorf("learning_rate must be in [0, 10], got %v", c.LearningRate)
	case c.Temperature < 0 || c.Temperature > 1e6 || c.Temperature != c.Temperature:
		return fmt.Errorf("temperature must be in [0, 1e6], got %v", c.Temperature)
	case c.NeutralMargin < 0 || c.NeutralMargin >= 1 || c.NeutralMargin != c.NeutralMargin:
		return fmt.Errorf("neutral_margin must be in [0, 1), got %v", c.NeutralMargin)
	case c.Tokenizer.MaxRepeat < 0:
		return fmt.Errorf("max_repeat must be >= 0, got %d", c.Tokenizer.MaxRepeat)
	case c.Tokenizer.NegationScope < 0 || c.Tokenizer.NegationScope > 1000:
		return fmt.Errorf("negation_scope must be in [0, 1000], got %d", c.Tokenizer.NegationScope)
	}
	for _, b := range c.ClassBias {
		if b != b || b > 1e6 || b < -1e6 {
			return fmt.Errorf("class_bias values must be finite, got %v", c.ClassBias)
		}
	}
	if n := c.Tokenizer.LexiconNegation; n != "" && n != LexiconNegationFlip {
		return fmt.Errorf("lexicon negation %q: want \"\" (mark) or %q", n, LexiconNegationFlip)
	}
	if _, err := lexiconFor(c.Tokenizer.Lexicon); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, cl := range c.Classes {
		if strings.TrimSpace(cl) == "" || seen[cl] {
			return fmt.Errorf("classes must be distinct and non-empty, got %q", c.Classes)
		}
		seen[cl] = true
	}
	return nil
}
