package consumer

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestKgoLogger(t *testing.T) {
	tests := []struct {
		name      string
		level     slog.Level
		wantLevel kgo.LogLevel
		logAt     kgo.LogLevel
		wantLine  string // "" when nothing is written
	}{
		{"info logger: warnings pass", slog.LevelInfo, kgo.LogLevelWarn, kgo.LogLevelWarn, "level=WARN msg=\"broker gone\" component=kafka broker=1"},
		{"info logger: errors pass", slog.LevelInfo, kgo.LogLevelWarn, kgo.LogLevelError, "level=ERROR"},
		{"info logger: debug dropped", slog.LevelInfo, kgo.LogLevelWarn, kgo.LogLevelDebug, ""},
		{"debug logger: debug passes", slog.LevelDebug, kgo.LogLevelDebug, kgo.LogLevelDebug, "level=DEBUG"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			l := kgoLogger{slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: tt.level}))}
			if got := l.Level(); got != tt.wantLevel {
				t.Errorf("Level() = %v, want %v", got, tt.wantLevel)
			}
			l.Log(tt.logAt, "broker gone", "broker", 1)
			switch {
			case tt.wantLine == "" && buf.Len() != 0:
				t.Errorf("logged %q, want nothing", buf.String())
			case tt.wantLine != "" && !strings.Contains(buf.String(), tt.wantLine):
				t.Errorf("logged %q, want it to contain %q", buf.String(), tt.wantLine)
			}
		})
	}
}
