package transport

import (
	"context"
	"log/slog"
	"time"
)

// Retry describes one decision on a retry, for Options.LogRetry.
type Retry struct {
	Method  string
	Path    string // the path's template: it holds no token
	Attempt int
	Wait    time.Duration
	Status  int   // the attempt's status, or 0 when it had no response
	Err     error // the attempt's error, its URL replaced by Path, or nil
}

// SlogRetries returns an Options.LogRetry that logs to l at debug level.
// Only WithLogger calls it, so a program that gives the client no logger
// links none of log/slog's handlers.
func SlogRetries(l *slog.Logger) func(context.Context, string, Retry) {
	if l == nil {
		return nil
	}
	return func(ctx context.Context, msg string, r Retry) {
		attrs := []slog.Attr{
			slog.String("method", r.Method),
			slog.String("path", r.Path),
			slog.Int("attempt", r.Attempt),
			slog.Duration("wait", r.Wait),
		}
		if r.Status != 0 {
			attrs = append(attrs, slog.Int("status", r.Status))
		}
		if r.Err != nil {
			attrs = append(attrs, slog.String("error", r.Err.Error()))
		}
		l.LogAttrs(ctx, slog.LevelDebug, msg, attrs...)
	}
}
