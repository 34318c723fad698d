package discovery_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/typedkit/kit"
	"github.com/typedkit/kit/discovery"
)

var quiet = discovery.EndpointerLogger(slog.New(slog.DiscardHandler))

// waitInstances waits until e serves exactly want.
func waitInstances[Req, Resp any](t *testing.T, e *discovery.Endpointer[Req, Resp], want []string) {
	t.Helper()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, want, e.Instances())
	}, 2*time.Second, time.Millisecond)
}

func TestEndpointerFollowsInstancer(t *testing.T) {
	t.Parallel()
	type step struct {
		set        []string
		wantClosed []string // closed so far, sorted
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"grow", []step{
			{[]string{"a:1"}, nil},
			{[]string{"a:1", "b:1"}, nil},
			{[]string{"a:1", "b:1", "c:1"}, nil},
		}},
		{"shrink closes the departed", []step{
			{[]string{"a:1", "b:1", "c:1"}, nil},
			{[]string{"a:1", "c:1"}, []string{"b:1"}},
			{nil, []string{"a:1", "b:1", "c:1"}},
		}},
		{"replace", []step{
			{[]string{"a:1", "b:1"}, nil},
			{[]string{"c:1", "d:1"}, []string{"a:1", "b:1"}},
		}},
		{"come back", []step{
			{[]string{"a:1", "b:1"}, nil},
			{[]string{"b:1"}, []string{"a:1"}},
			{[]string{"a:1", "b:1"}, []string{"a:1"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var log closeLog
			src := &testInstancer{}
			e := discovery.NewEndpointer(src, nameFactory(&log), quiet)
			for i, s := range tt.steps {
				src.Update(discovery.Event{Instances: s.set})
				waitInstances(t, e, wantSet(s.set))
				require.EventuallyWithT(t, func(c *assert.CollectT) {
					assert.Equal(c, tt.steps[i].wantClosed, log.closedInstances())
				}, 2*time.Second, time.Millisecond)

				eps, err := e.Endpoints()
				if len(s.set) == 0 {
					assert.Empty(t, eps)
					assert.ErrorIs(t, err, discovery.ErrNoEndpoints)
					assert.Equal(t, kit.Unavailable, kit.CodeOf(err))
					continue
				}
				require.NoError(t, err)
				require.Len(t, eps, len(s.set))
				for j, ep := range eps {
					resp, err := ep(context.Background(), echoReq{N: j})
					require.NoError(t, err)
					assert.Equal(t, e.Instances()[j], resp.Instance, "endpoints are in the order of Instances")
				}
			}
			for _, s := range tt.steps {
				for _, inst := range s.set {
					made := log.madeCount(inst)
					closed := 0
					for _, c := range log.closedInstances() {
						if c == inst {
							closed++
						}
					}
					assert.LessOrEqual(t, made-closed, 1, "%s: an instance that stays keeps its endpoint", inst)
				}
			}
			require.NoError(t, e.Close())
		})
	}
}

func wantSet(set []string) []string {
	if len(set) == 0 {
		return nil
	}
	return set
}

func TestEndpointerKeepsEndpointsThatStay(t *testing.T) {
	t.Parallel()
	var log closeLog
	src := &testInstancer{}
	src.Update(discovery.Event{Instances: []string{"a:1", "b:1"}})
	e := discovery.NewEndpointer(src, nameFactory(&log), quiet)
	t.Cleanup(func() { require.NoError(t, e.Close()) })
	require.Equal(t, []string{"a:1", "b:1"}, e.Instances(), "a known state is applied before NewEndpointer returns")

	for range 3 {
		src.Update(discovery.Event{Instances: []string{"a:1", "b:1", "c:1"}})
		waitInstances(t, e, []string{"a:1", "b:1", "c:1"})
		src.Update(discovery.Event{Instances: []string{"a:1", "b:1"}})
		waitInstances(t, e, []string{"a:1", "b:1"})
	}
	assert.Equal(t, 1, log.madeCount("a:1"))
	assert.Equal(t, 1, log.madeCount("b:1"))
	assert.Equal(t, 3, log.madeCount("c:1"))
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, []string{"c:1", "c:1", "c:1"}, log.closedInstances())
	}, 2*time.Second, time.Millisecond)
}

func TestEndpointerFactoryError(t *testing.T) {
	t.Parallel()
	var log closeLog
	good := nameFactory(&log)
	factory := func(instance string) (kit.Endpoint[echoReq, echoResp], io.Closer, error) {
		switch instance {
		case "bad:1":
			return nil, nil, errors.New("cannot dial")
		case "nil:1":
			return nil, log.closer(instance, nil), nil
		}
		return good(instance)
	}
	e := discovery.NewEndpointer(discovery.FixedInstancer{"a:1", "bad:1", "nil:1", "b:1"}, factory, quiet)
	assert.Equal(t, []string{"a:1", "b:1"}, e.Instances())
	assert.Equal(t, []string{"nil:1"}, log.closedInstances(), "the closer of a failed factory call is closed")
	require.NoError(t, e.Close())
}

func TestEndpointerInvalidateOnError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		opts     []discovery.EndpointerOption
		recover  time.Duration // when the instancer recovers after its error, 0 for never
		wait     time.Duration // how long the test watches after the error
		wantKept bool
	}{
		{name: "kept without the option", wait: 100 * time.Millisecond, wantKept: true},
		{name: "dropped at once with no grace", opts: []discovery.EndpointerOption{discovery.EndpointerInvalidateOnError(0)}, wantKept: false},
		{name: "dropped after grace", opts: []discovery.EndpointerOption{discovery.EndpointerInvalidateOnError(30 * time.Millisecond)}, wait: 2 * time.Second, wantKept: false},
		{name: "kept when recovered within grace", opts: []discovery.EndpointerOption{discovery.EndpointerInvalidateOnError(time.Hour)}, recover: time.Millisecond, wait: 100 * time.Millisecond, wantKept: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var log closeLog
			src := &testInstancer{}
			set := []string{"a:1", "b:1"}
			src.Update(discovery.Event{Instances: set})
			e := discovery.NewEndpointer(src, nameFactory(&log), append(tt.opts, quiet)...)
			require.Equal(t, set, e.Instances())

			src.Update(discovery.Event{Instances: set, Err: errBoom})
			require.EventuallyWithT(t, func(c *assert.CollectT) {
				assert.ErrorIs(c, e.Err(), errBoom)
			}, 2*time.Second, time.Millisecond)
			if tt.recover > 0 {
				time.Sleep(tt.recover)
				src.Update(discovery.Event{Instances: set})
				require.EventuallyWithT(t, func(c *assert.CollectT) {
					assert.NoError(c, e.Err())
				}, 2*time.Second, time.Millisecond)
			}

			if tt.wantKept {
				time.Sleep(tt.wait)
				assert.Equal(t, set, e.Instances())
				eps, err := e.Endpoints()
				assert.NoError(t, err)
				assert.Len(t, eps, 2)
				assert.Empty(t, log.closedInstances())
			} else {
				waitInstances(t, e, nil)
				eps, err := e.Endpoints()
				assert.Empty(t, eps)
				assert.ErrorIs(t, err, discovery.ErrNoEndpoints)
				assert.ErrorIs(t, err, errBoom, "the no-endpoints error carries the instancer's error")
				assert.Equal(t, kit.Unavailable, kit.CodeOf(err))
				assert.Equal(t, set, log.closedInstances())

				src.Update(discovery.Event{Instances: set})
				waitInstances(t, e, set)
				assert.Equal(t, 2, log.madeCount("a:1"), "endpoints are made again after recovery")
			}
			require.NoError(t, e.Close())
		})
	}
}

func TestEndpointerClose(t *testing.T) {
	t.Parallel()
	var log closeLog
	src := &testInstancer{}
	src.Update(discovery.Event{Instances: []string{"a:1", "b:1"}})
	e := discovery.NewEndpointer(src, nameFactory(&log), discovery.EndpointerInvalidateOnError(time.Hour), quiet)
	src.Update(discovery.Event{Instances: []string{"a:1", "b:1"}, Err: errBoom}) // leaves a timer pending

	require.NoError(t, e.Close())
	require.NoError(t, e.Close(), "Close is idempotent")
	assert.Equal(t, []string{"a:1", "b:1"}, log.closedInstances())
	eps, err := e.Endpoints()
	assert.Empty(t, eps)
	assert.ErrorIs(t, err, discovery.ErrClosed)
	assert.ErrorIs(t, err, discovery.ErrNoEndpoints)
	assert.Equal(t, kit.Unavailable, kit.CodeOf(err))

	src.Update(discovery.Event{Instances: []string{"c:1"}}) // must not block: e has deregistered
	assert.Empty(t, e.Instances())
}

func TestEndpointerCloseErrors(t *testing.T) {
	t.Parallel()
	failing := func(instance string) (kit.Endpoint[echoReq, echoResp], io.Closer, error) {
		return kit.Nop[echoReq, echoResp], closerFunc(func() error { return errors.New("close " + instance) }), nil
	}
	e := discovery.NewEndpointer(discovery.FixedInstancer{"a:1", "b:1"}, failing, quiet)
	err := e.Close()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "close a:1")
	assert.Contains(t, err.Error(), "close b:1")
	assert.Equal(t, err, e.Close())
}

func TestEndpointerOverHTTP(t *testing.T) {
	t.Parallel()
	a, _ := echoServer{}.start(t)
	b, _ := echoServer{}.start(t)
	var log closeLog
	e := discovery.NewEndpointer(discovery.FixedInstancer{a, b}, httpFactory(&log))
	eps, err := e.Endpoints()
	require.NoError(t, err)
	require.Len(t, eps, 2)
	for i, ep := range eps {
		resp, err := ep(context.Background(), echoReq{N: 7})
		require.NoError(t, err)
		assert.Equal(t, echoResp{Instance: e.Instances()[i], N: 7}, resp)
	}
	require.NoError(t, e.Close())
	assert.ElementsMatch(t, []string{a, b}, log.closedInstances())
}

func TestNewEndpointerRejectsNil(t *testing.T) {
	t.Parallel()
	var log closeLog
	assert.PanicsWithValue(t, "discovery: NewEndpointer with a nil Instancer", func() {
		discovery.NewEndpointer(nil, nameFactory(&log))
	})
	assert.PanicsWithValue(t, "discovery: NewEndpointer with a nil Factory", func() {
		discovery.NewEndpointer[echoReq, echoResp](discovery.FixedInstancer{}, nil)
	})
}
