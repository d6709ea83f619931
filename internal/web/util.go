package web

import (
	"strconv"
	"time"
)

func itoa(n int) string { return strconv.Itoa(n) }

// retryAfter is a Retry-After value: whole seconds, rounded up.
func retryAfter(d time.Duration) string {
	return strconv.Itoa(int((d + time.Second - 1) / time.Second))
}
