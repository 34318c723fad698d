// Package model holds types that the test services import.
package model

import "time"

// User is a user.
type User struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
}

// Page is a generic page of items.
type Page[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next"`
}

// Level is a named integer.
type Level int

// Tag is a named string.
type Tag string
