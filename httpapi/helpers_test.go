package httpapi

import (
	"io"
	"log/slog"
	"strconv"
)

func slogTo(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

func itoa(n int) string { return strconv.Itoa(n) }
