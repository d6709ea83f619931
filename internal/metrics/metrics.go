// Package metrics counts what Gardien does, for Prometheus
// (github.com/prometheus/client_golang): logins and second steps by
// outcome, lockouts and throttles, request latency by route, the wait for
// a password-hashing slot, the database pools, and the outbox. They are
// served, with pprof, on the admin listener (GARDIEN_ADMIN_ADDR), never on
// the public one.
package metrics

import (
	"context"
	"database/sql"
	"net/http"
	"net/http/pprof"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are Gardien's collectors, on a registry of their own.
type Metrics struct {
	Registry    *prometheus.Registry
	logins      *prometheus.CounterVec
	secondSteps *prometheus.CounterVec
	lockouts    prometheus.Counter
	throttled   *prometheus.CounterVec
	requests    *prometheus.HistogramVec
	hashWait    prometheus.Histogram
}

// New makes the collectors and registers them, with the Go runtime's and
// the process's.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gardien_logins_total",
			Help: "Password steps of logins by outcome: ok, second_step (a code is owed), setup (2FA must be set up), wrong_password, throttled."}, []string{"outcome"}),
		secondSteps: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gardien_second_steps_total",
			Help: "Second steps of logins and other code checks by outcome: ok, wrong, used (a replayed code), throttled."}, []string{"outcome"}),
		lockouts: prometheus.NewCounter(prometheus.CounterOpts{Name: "gardien_two_factor_lockouts_total",
			Help: "Second factors locked after too many wrong codes."}),
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gardien_throttled_total",
			Help: "Requests refused by a limit, by limit: password, second_factor."}, []string{"limit"}),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "gardien_http_request_duration_seconds",
			Help:    "HTTP requests by route pattern, method and status class.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}}, []string{"route", "method", "status"}),
		hashWait: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "gardien_password_hash_wait_seconds",
			Help:    "Time a password check waited for a hashing slot (the hash queue).",
			Buckets: []float64{.0001, .001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}}),
	}
	m.Registry.MustRegister(m.logins, m.secondSteps, m.lockouts, m.throttled, m.requests, m.hashWait,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Every series of a counter exists from the start, at zero, as
	// Prometheus recommends: a rate or an alert on one never sees it appear
	// from nothing at its first event.
	for vec, values := range map[*prometheus.CounterVec][]string{
		m.logins:      LoginOutcomes,
		m.secondSteps: SecondStepOutcomes,
		m.throttled:   {"password", "second_factor"},
	} {
		for _, v := range values {
			vec.WithLabelValues(v)
		}
	}
	return m
}

// LoginOutcomes and SecondStepOutcomes are the outcomes auth reports
// (auth.Observer), each a series of its counter.
var (
	LoginOutcomes      = []string{"ok", "second_step", "setup", "wrong_password", "throttled", "refused", "error"}
	SecondStepOutcomes = []string{"ok", "wrong", "used", "throttled", "refused", "error"}
)

// Login counts a password step (auth.Observer).
func (m *Metrics) Login(outcome string) {
	m.logins.WithLabelValues(outcome).Inc()
	if outcome == "throttled" {
		m.throttled.WithLabelValues("password").Inc()
	}
}

// SecondStep counts a code check (auth.Observer).
func (m *Metrics) SecondStep(outcome string) {
	m.secondSteps.WithLabelValues(outcome).Inc()
	if outcome == "throttled" {
		m.throttled.WithLabelValues("second_factor").Inc()
	}
}

// Lockout counts a second factor locked (auth.Observer).
func (m *Metrics) Lockout() { m.lockouts.Inc() }

// HashWait records a wait for a hashing slot (password.Hasher.OnWait).
func (m *Metrics) HashWait(d time.Duration) { m.hashWait.Observe(d.Seconds()) }

// Pools exposes database pool numbers, read at each scrape.
func (m *Metrics) Pools(stats func() map[string]sql.DBStats) {
	m.Registry.MustRegister(&poolCollector{stats: stats,
		open:  prometheus.NewDesc("gardien_db_connections_open", "Open database connections.", []string{"pool"}, nil),
		inUse: prometheus.NewDesc("gardien_db_connections_in_use", "Database connections in use.", []string{"pool"}, nil),
		waits: prometheus.NewDesc("gardien_db_waits_total", "Waits for a free database connection.", []string{"pool"}, nil),
		wait:  prometheus.NewDesc("gardien_db_wait_seconds_total", "Time spent waiting for a free database connection.", []string{"pool"}, nil),
	})
}

type poolCollector struct {
	stats                    func() map[string]sql.DBStats
	open, inUse, waits, wait *prometheus.Desc
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.open
	ch <- c.inUse
	ch <- c.waits
	ch <- c.wait
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	for pool, s := range c.stats() {
		ch <- prometheus.MustNewConstMetric(c.open, prometheus.GaugeValue, float64(s.OpenConnections), pool)
		ch <- prometheus.MustNewConstMetric(c.inUse, prometheus.GaugeValue, float64(s.InUse), pool)
		ch <- prometheus.MustNewConstMetric(c.waits, prometheus.CounterValue, float64(s.WaitCount), pool)
		ch <- prometheus.MustNewConstMetric(c.wait, prometheus.CounterValue, s.WaitDuration.Seconds(), pool)
	}
}

// Outbox exposes the mails waiting and given up, counted at each scrape
// (a scrape waits 2 s at most for the database).
func (m *Metrics) Outbox(counts func(ctx context.Context) (pending, givenUp int64, err error)) {
	gauge := func(name, help string, pick func(p, g int64) int64) prometheus.GaugeFunc {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			p, g, err := counts(ctx)
			if err != nil {
				return -1 // unknown: the database did not answer
			}
			return float64(pick(p, g))
		})
	}
	m.Registry.MustRegister(
		gauge("gardien_outbox_pending", "Mails waiting to leave (-1: the database did not answer).", func(p, _ int64) int64 { return p }),
		gauge("gardien_outbox_given_up", "Mails given up after their tries, kept for the operator.", func(_, g int64) int64 { return g }))
}

// Measure times each request under its route pattern (route names the
// pattern that served it; "" for none, counted as "unmatched").
func (m *Metrics) Measure(route func(*http.Request) string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &status{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		p := route(r)
		if p == "" {
			p = "unmatched"
		}
		code := sw.code
		if code == 0 {
			code = http.StatusOK
		}
		m.requests.WithLabelValues(p, r.Method, strconv.Itoa(code/100)+"xx").Observe(time.Since(start).Seconds())
	})
}

type status struct {
	http.ResponseWriter
	code int
}

func (s *status) WriteHeader(code int) {
	if s.code == 0 {
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *status) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Admin is the admin listener's handler: /metrics and /debug/pprof/.
func (m *Metrics) Admin() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}
