// Package health is the health model of a service, shared by its
// transports: named readiness checks and a draining flag, with the
// liveness and readiness handlers of HTTP probes.
//
// A service creates one [Health], adds its checks and registers it with
// every transport it serves: [Health.Register] serves /livez and /readyz on
// an http.ServeMux, grpcx.RegisterHealth serves the standard gRPC health
// service from the same model, and httpx.Serve and grpcx.Serve, given it
// with their ServeHealth options, mark it draining as soon as they begin to
// shut down, so that every probe of every transport reports the service
// not ready at once:
//
//	h := new(health.Health)
//	h.AddCheck("db", db.PingContext)
//	h.Register(mux)
//	grpcx.RegisterHealth(grpcSrv, h, grpcx.HealthServices(pb.Users_ServiceDesc.ServiceName))
//	g.Go(func() error { return httpx.Serve(ctx, httpSrv, httpLis, httpx.ServeHealth(h)) })
//	g.Go(func() error { return grpcx.Serve(ctx, grpcSrv, grpcLis, grpcx.ServeHealth(h)) })
package health

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/typedkit/kit"
)

// DefaultCheckTimeout bounds each readiness check of a [Health] whose
// CheckTimeout is zero.
const DefaultCheckTimeout = 5 * time.Second

// Health is the health of a service: it is live for as long as the process
// serves, and ready when it is not draining and every check added with
// [Health.AddCheck] passes. The zero value is ready to use, with no checks;
// a Health must not be copied after first use. Its methods are safe for
// concurrent use.
//
// Transports learn at once when it starts or stops draining through
// [Health.WatchDraining], without polling.
type Health struct {
	// CheckTimeout bounds each check's context; zero means
	// DefaultCheckTimeout, and less than zero no bound beyond the caller's
	// context. Set it before the Health is used.
	CheckTimeout time.Duration

	mu       sync.Mutex
	checks   []namedCheck
	draining bool
	changed  chan struct{} // closed when draining next changes; nil until asked for
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
		panic("health: AddCheck needs a name and a check")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range h.checks {
		if c.name == name {
			panic("health: AddCheck: a check named " + name + " was already added")
		}
	}
	h.checks = append(h.checks, namedCheck{name: name, check: check})
}

// SetDraining marks the service as draining or not. While it is draining
// it is not ready, whatever its checks say, and readiness probes answer at
// once without running the checks. A change closes the channels that
// [Health.WatchDraining] returned before it.
func (h *Health) SetDraining(draining bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.draining == draining {
		return
	}
	h.draining = draining
	if h.changed != nil {
		close(h.changed)
		h.changed = nil
	}
}

// Draining reports whether the service is draining.
func (h *Health) Draining() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.draining
}

// WatchDraining reports whether the service is draining, and returns a
// channel that is closed when that changes: a transport's health service
// waits on it to report a change at once. Each change closes the channels
// returned before it; call WatchDraining again for the next one. A channel
// no one waits on any more costs nothing to drop.
func (h *Health) WatchDraining() (draining bool, changed <-chan struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.changed == nil {
		h.changed = make(chan struct{})
	}
	return h.draining, h.changed
}

// Report statuses.
const (
	// StatusLive is the status of a liveness report.
	StatusLive = "live"
	// StatusReady is the status of a readiness report whose checks pass.
	StatusReady = "ready"
	// StatusNotReady is the status of a readiness report with a failed
	// check.
	StatusNotReady = "not_ready"
	// StatusDraining is the status of a readiness report of a draining
	// service.
	StatusDraining = "draining"
	// CheckOK is the status of a check that passed.
	CheckOK = "ok"
	// CheckFailed is the status of a check that failed.
	CheckFailed = "failed"
)

// A Report is the JSON body of a liveness or readiness probe.
type Report struct {
	// Status is StatusLive, StatusReady, StatusNotReady or StatusDraining.
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
func (h *Health) Check(ctx context.Context) Report {
	h.mu.Lock()
	draining, checks := h.draining, h.checks
	h.mu.Unlock()
	if draining {
		return Report{Status: StatusDraining}
	}

	results := make([]CheckResult, len(checks))
	var wg sync.WaitGroup
	for i, c := range checks {
		wg.Go(func() { results[i] = h.run(ctx, c) })
	}
	wg.Wait()

	report := Report{Status: StatusReady, Checks: results}
	for _, r := range results {
		if r.err != nil {
			report.Status = StatusNotReady
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
// *kit.Error: "draining", or one that names the failed checks and wraps
// their errors.
func (h *Health) Ready(ctx context.Context) error {
	report := h.Check(ctx)
	switch report.Status {
	case StatusReady:
		return nil
	case StatusDraining:
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
		writeReport(w, http.StatusOK, Report{Status: StatusLive})
	})
}

// ReadyHandler returns the handler of readiness probes: 200 when the
// service is ready and 503 when it is not or is draining, with the
// [Report] as JSON.
func (h *Health) ReadyHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		report := h.Check(r.Context())
		status := http.StatusOK
		if report.Status != StatusReady {
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

// jsonHeader is the Content-Type of every report, shared.
var jsonHeader = []string{"application/json"}

func writeReport(w http.ResponseWriter, status int, report Report) {
	hdr := w.Header()
	hdr["Content-Type"] = jsonHeader
	hdr.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(report)
}
