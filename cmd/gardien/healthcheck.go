package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gardien/gardien/internal/config"
)

// healthcheck asks the server of this configuration whether it is ready
// (GET /readyz: the process runs and its database answers), for container
// and service health checks: nil (exit 0) on 200 within 3 s, an error
// (exit 1) otherwise. -url asks another address.
func healthcheck(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var url string
	for i := 0; i < len(args); i++ {
		if (args[i] == "-url" || args[i] == "--url") && i+1 < len(args) {
			url = strings.TrimSuffix(args[i+1], "/") + "/readyz"
			args = append(args[:i:i], args[i+2:]...)
			break
		}
	}
	cfg, rest, err := config.Load("gardien healthcheck", args, getenv, stderr)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("healthcheck: unexpected %q (usage: gardien healthcheck [flags] [-url http://host:port])", rest[0])
	}
	if url == "" {
		url = "http://" + localAddr(cfg.Addr) + "/readyz"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s: %s %s", url, resp.Status, body)
	}
	fmt.Fprintf(stdout, "ready: %s\n", url)
	return nil
}

// localAddr is the address to reach a server listening on addr from the
// same machine: a wildcard host becomes loopback.
func localAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return net.JoinHostPort(host, port)
}
