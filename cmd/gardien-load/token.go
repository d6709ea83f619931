package main

import (
	"fmt"
	"net/http"
	"runtime"
	"time"
)

// runToken measures a program's call with an API token (GET /me with
// Authorization: Bearer) beside the same call with a session cookie, on
// the same server and person.
func runToken(bin, dbURL, profiles string, workers int, d time.Duration) error {
	s, err := start(bin, dbURL, profiles, false)
	if err != nil {
		return err
	}
	defer s.stop()
	c, err := signedUp(s, fmt.Sprintf("token-%d@example.com", time.Now().UnixNano()))
	if err != nil {
		return err
	}
	st, m, err := call(c, s.url, "POST", "/me/tokens", map[string]any{"name": "load", "scopes": []string{"profile:read"}})
	if err != nil || st != 201 {
		return callFailed("token", st, m, err)
	}
	token := m["token"].(map[string]any)["token"].(string)
	fmt.Printf("gardien-load: a program's call on %d cores, %d workers, %s each\n\n", runtime.NumCPU(), workers, d)
	fmt.Printf("%-30s %8s %11s\n", "operation", "requests", "rate")
	program := &http.Client{Timeout: 30 * time.Second}
	drive(s, "GET /me with a token", workers, d, func(int) (bool, bool) {
		req, _ := http.NewRequest(http.MethodGet, s.url+"/api/v1/me", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		return statusOf(program, req) == 200, true
	}).print(s)
	drive(s, "GET /me with a cookie", workers, d, func(int) (bool, bool) {
		st, _, err := call(c, s.url, "GET", "/me", nil)
		return err == nil && st == 200, true
	}).print(s)
	return nil
}
