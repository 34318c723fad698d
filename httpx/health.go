package httpx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/typedkit/kit"
)

// DefaultCheckTimeout bounds each readiness check of a [Health] whose
// CheckTimeout is zero.
const DefaultCheckTimeout = 5 * time.Second

// Health answers liveness and readiness probes: /livez says the process is
// up, /readyz that the service should be sent traffic. The service is ready
// when it is not draining and every check added with [Health.AddCheck]
// passes. The zero value is ready to use, with no checks; a Health must not
// be copied after first use. Its methods are safe for concurrent use.
//
// Its Ready method makes a Health a readiness source for the gRPC health
// service too (grpcx.RegisterHealthReadiness), and [Serve] marks it
// draining when it begins to shut down.
type Health struct {
	// CheckTimeout bounds each check's context; zero means
	// DefaultCheckTimeout, and less than zero no bound beyond the caller's
	// context. Set it before the Health is used.
	CheckTimeout time.Duration

	mu       sync.RWMutex
	checks   []namedCheck
	draining atomic.Bool
}

type namedCheck struct {
	name  string
	check func(ctx context.Context) error
}

// AddCheck adds a readiness check: the service is ready only while check
// returns nil. Checks run concurrently on each readiness probe, each with a
// context bounded by CheckTimeout, and must return when it ends. AddCheck
// panics on an empty name or one already added.
func (h *Health) AddCheck(name string, check func(ctx context.Context) error) {
	if name == "" || check == nil {
		panic("httpx: Health.AddCheck needs a name and a check")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range h.checks {
		if c.name == name {
			panic("httpx: Health.AddCheck: a check named " + name + " was already added")
		}
	}
	h.checks = append(h.checks, namedCheck{name: name, check: check})
}

// SetDraining marks the service as draining or not. While it is draining
// it is not ready, whatever its checks say, and readiness probes answer 503
// at once without running the checks.
func (h *Health) SetDraining(draining bool) { h.draining.Store(draining) }

// Draining reports whether the service is draining.
func (h *Health) Draining() bool { return h.draining.Load() }

// Health report statuses.
const (
	// HealthLive is the status of a liveness report.
	HealthLive = "live"
	// HealthReady is the status of a readiness report whose checks pass.
	HealthReady = "ready"
	// HealthNotReady is the status of a readiness report with a failed
	// check.
	HealthNotReady = "not_ready"
	// HealthDraining is the status of a readiness report of a draining
	// service.
	HealthDraining = "draining"
	// CheckOK is the status of a check that passed.
	CheckOK = "ok"
	// CheckFailed is the status of a check that failed.
	CheckFailed = "failed"
)

// A HealthReport is the JSON body of a liveness or readiness probe.
type HealthReport struct {
	// Status is HealthLive, HealthReady, HealthNotReady or HealthDraining.
	Status string `json:"status"`
	// Checks are the results of the readiness checks, in the order they
	// were added; a liveness report and a draining one have none.
	Checks []CheckResult `json:"checks,omitempty"`
}

// A CheckResult is the outcome of one readiness check.
type CheckResult struct {
	// Name is the name the check was added with.
	Name string `json:"name"`
	// Status is CheckOK or CheckFailed.
	Status string `json:"status"`
	// Error is the public message of a failed check's error
	// (kit.MessageOf): a check that wants to say more returns a *kit.Error
	// with a message. An error's internal cause is never written.
	Error string `json:"error,omitempty"`

	err error
}

// Check runs the readiness checks, unless the service is draining, and
// reports the outcome.
func (h *Health) Check(ctx context.Context) HealthReport {
	if h.Draining() {
		return HealthReport{Status: HealthDraining}
	}
	h.mu.RLock()
	checks := h.checks
	h.mu.RUnlock()

	results := make([]CheckResult, len(checks))
	var wg sync.WaitGroup
	for i, c := range checks {
		wg.Go(func() { results[i] = h.run(ctx, c) })
	}
	wg.Wait()

	report := HealthReport{Status: HealthReady, Checks: results}
	for _, r := range results {
		if r.err != nil {
			report.Status = HealthNotReady
		}
	}
	return report
}

func (h *Health) run(ctx context.Context, c namedCheck) (res CheckResult) {
	res = CheckResult{Name: c.name, Status: CheckOK}
	timeout := h.CheckTimeout
	if timeout == 0 {
		timeout = DefaultCheckTimeout
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	defer func() {
		if v := recover(); v != nil {
			res.err = kit.WrapError(kit.Internal, &kit.PanicError{Value: v}, "check panicked")
		}
		if res.err != nil {
			res.Status = CheckFailed
			res.Error = kit.MessageOf(res.err)
		}
	}()
	res.err = c.check(ctx)
	return res
}

// errDraining is the readiness error of a draining service.
var errDraining = kit.NewError(kit.Unavailable, "draining")

// Ready returns nil when the service is ready, and otherwise an Unavailable
// *kit.Error that names the failed checks and wraps their errors. It
// satisfies the readiness interface of grpcx.
func (h *Health) Ready(ctx context.Context) error {
	report := h.Check(ctx)
	switch report.Status {
	case HealthReady:
		return nil
	case HealthDraining:
		return errDraining
	}
	var names []string
	var errs []error
	for _, r := range report.Checks {
		if r.err != nil {
			names = append(names, r.Name)
			errs = append(errs, fmt.Errorf("check %s: %w", r.Name, r.err))
		}
	}
	return kit.WrapError(kit.Unavailable, errors.Join(errs...), "not ready: failed checks: "+strings.Join(names, ", "))
}

// LiveHandler returns the handler of liveness probes: 200 with the report
// {"status":"live"} for as long as the process serves HTTP.
func (h *Health) LiveHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeReport(w, http.StatusOK, HealthReport{Status: HealthLive})
	})
}

// ReadyHandler returns the handler of readiness probes: 200 when the
// service is ready and 503 when it is not or is draining, with the
// [HealthReport] as JSON.
func (h *Health) ReadyHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		report := h.Check(r.Context())
		status := http.StatusOK
		if report.Status != HealthReady {
			status = http.StatusServiceUnavailable
		}
		writeReport(w, status, report)
	})
}

// Register registers the liveness handler on mux at GET /livez and the
// readiness handler at GET /readyz (HEAD too, as ServeMux does for GET).
func (h *Health) Register(mux *http.ServeMux) {
	mux.Handle("GET /livez", h.LiveHandler())
	mux.Handle("GET /readyz", h.ReadyHandler())
}

func writeReport(w http.ResponseWriter, status int, report HealthReport) {
	hdr := w.Header()
	hdr["Content-Type"] = jsonHeader
	hdr.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(report)
}
