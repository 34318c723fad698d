package usersvc

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/typedkit/kit"
)

// Store is an in-memory UserService. It is safe for concurrent use.
type Store struct {
	mu       sync.RWMutex
	users    map[string]User
	nextID   int
	now      func() time.Time
	watchers map[*watcher]struct{}
}

// watcher is one open WatchUsers: the changes not yet streamed, and a
// channel closed when it fell behind.
type watcher struct {
	changes chan UserChange
	behind  chan struct{}
}

// WatchBuffer is how many changes a watch may be behind before it is ended
// with ResourceExhausted: a consumer that does not keep up holds this much
// and no more.
const WatchBuffer = 256

var _ UserService = (*Store)(nil)

// NewStore returns an empty Store.
func NewStore() *Store {
	return &Store{users: map[string]User{}, now: time.Now, watchers: map[*watcher]struct{}{}}
}

// MaxPageSize is the most users ListUsers returns at once.
const MaxPageSize = 100

// Validate checks the request's fields; kit.Validate calls it before the
// endpoint runs.
func (r CreateUserRequest) Validate() error { return validate(r.Name, r.Email) }

// Validate checks the request's fields.
func (r UpdateUserRequest) Validate() error { return validate(r.Name, r.Email) }

func validate(name, email string) error {
	var vs []kit.FieldViolation
	if strings.TrimSpace(name) == "" {
		vs = append(vs, kit.FieldViolation{Field: "name", Description: "must not be empty"})
	}
	if !strings.Contains(email, "@") {
		vs = append(vs, kit.FieldViolation{Field: "email", Description: "must be an email address"})
	}
	if len(vs) > 0 {
		return kit.InvalidArgumentError("invalid user", vs...)
	}
	return nil
}

// CreateUser implements UserService.
func (s *Store) CreateUser(_ context.Context, req CreateUserRequest) (User, error) {
	if err := req.Validate(); err != nil {
		return User{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range s.users {
		if strings.EqualFold(u.Email, req.Email) {
			return User{}, kit.NewError(kit.AlreadyExists, "a user with email "+req.Email+" exists")
		}
	}
	s.nextID++
	u := User{ID: fmt.Sprintf("u%06d", s.nextID), Name: req.Name, Email: req.Email, CreatedAt: s.now().UTC()}
	s.users[u.ID] = u
	s.publish(UserChange{Kind: "created", User: u})
	return u, nil
}

// GetUser implements UserService.
func (s *Store) GetUser(_ context.Context, id string) (User, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	u, ok := s.users[id]
	if !ok {
		return User{}, kit.NewError(kit.NotFound, "user "+id+" not found")
	}
	return u, nil
}

// UpdateUser implements UserService.
func (s *Store) UpdateUser(_ context.Context, req UpdateUserRequest) (User, error) {
	if err := req.Validate(); err != nil {
		return User{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[req.ID]
	if !ok {
		return User{}, kit.NewError(kit.NotFound, "user "+req.ID+" not found")
	}
	u.Name, u.Email = req.Name, req.Email
	s.users[u.ID] = u
	s.publish(UserChange{Kind: "updated", User: u})
	return u, nil
}

// DeleteUser implements UserService.
func (s *Store) DeleteUser(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[id]
	if !ok {
		return kit.NewError(kit.NotFound, "user "+id+" not found")
	}
	delete(s.users, id)
	s.publish(UserChange{Kind: "deleted", User: u})
	return nil
}

// ListUsers implements UserService.
func (s *Store) ListUsers(_ context.Context, pageSize int, pageToken string) ([]User, string, error) {
	if pageSize < 0 {
		return nil, "", kit.InvalidArgumentError("invalid page size", kit.FieldViolation{Field: "pageSize", Description: "must not be negative"})
	}
	if pageSize == 0 || pageSize > MaxPageSize {
		pageSize = MaxPageSize
	}
	s.mu.RLock()
	all := make([]User, 0, len(s.users))
	for _, u := range s.users {
		if u.ID > pageToken {
			all = append(all, u)
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(all, func(a, b User) int { return cmp.Compare(a.ID, b.ID) })
	if len(all) <= pageSize {
		return all, "", nil
	}
	page := all[:pageSize]
	return page, page[len(page)-1].ID, nil
}

// publish hands a change to every watcher; one whose buffer is full has
// fallen behind and is dropped. s.mu is held.
func (s *Store) publish(c UserChange) {
	for w := range s.watchers {
		select {
		case w.changes <- c:
		default:
			close(w.behind)
			delete(s.watchers, w)
		}
	}
}

// WatchUsers implements UserService. The watch begins when it is called:
// changes made after that and before the sequence is ranged over are
// streamed too.
func (s *Store) WatchUsers(ctx context.Context) (iter.Seq2[UserChange, error], error) {
	w := &watcher{changes: make(chan UserChange, WatchBuffer), behind: make(chan struct{})}
	s.mu.Lock()
	s.watchers[w] = struct{}{}
	s.mu.Unlock()
	return func(yield func(UserChange, error) bool) {
		defer func() {
			s.mu.Lock()
			delete(s.watchers, w)
			s.mu.Unlock()
		}()
		for {
			select {
			case c := <-w.changes:
				if !yield(c, nil) {
					return
				}
			case <-w.behind:
				yield(UserChange{}, kit.NewError(kit.ResourceExhausted, "the watch fell behind the changes; watch again and list the users to catch up"))
				return
			case <-ctx.Done():
				yield(UserChange{}, ctx.Err())
				return
			}
		}
	}, nil
}

// ImportUsers implements UserService.
func (s *Store) ImportUsers(ctx context.Context, users iter.Seq2[CreateUserRequest, error]) (ImportUsersResponse, error) {
	var resp ImportUsersResponse
	for req, err := range users {
		if err != nil {
			return resp, err
		}
		if _, err := s.CreateUser(ctx, req); err != nil {
			return resp, err
		}
		resp.Created++
	}
	return resp, nil
}
