// Package api holds the contract of Gardien's JSON API: openapi.yaml, an
// OpenAPI 3.1 document that the server serves at /api/v1/openapi.yaml and
// the API tests check every answer against. The handlers are in
// internal/api.
package api

import _ "embed"

// OpenAPI is the document, as written in openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI []byte
