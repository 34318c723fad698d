// Package http has the same name as net/http, to test import naming.
package http

// Header is a header.
type Header struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}
