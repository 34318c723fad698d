package usersvc

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/typedkit/kit"
)

// Store is an in-memory UserService. It is safe for concurrent use.
type Store struct {
	mu     sync.RWMutex
	users  map[string]User
	nextID int
	now    func() time.Time
}

var _ UserService = (*Store)(nil)

// NewStore returns an empty Store.
func NewStore() *Store {
	return &Store{users: map[string]User{}, now: time.Now}
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
	return u, nil
}

// DeleteUser implements UserService.
func (s *Store) DeleteUser(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[id]; !ok {
		return kit.NewError(kit.NotFound, "user "+id+" not found")
	}
	delete(s.users, id)
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
