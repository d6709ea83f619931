package sso

import (
	"encoding/base64"
	"errors"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/crewjam/saml"
)

// Why a provider's answer was refused, in words that stay the same from
// version to version: they go into the audit log, and the connection test
// says them to the owner.
const (
	CauseSignature    = "signature"     // not signed, or not by the provider's key
	CauseWeakCrypto   = "weak_crypto"   // signed with SHA-1, or a key too short
	CauseExpired      = "expired"       // too old, or the clock of one side is off
	CauseNotYetValid  = "not_yet_valid" // dated ahead, past the skew allowed
	CauseAudience     = "audience"      // meant for another service
	CauseRecipient    = "recipient"     // sent to another address than Gardien's
	CauseIssuer       = "issuer"        // from another provider than the connection's
	CauseRequestID    = "request_id"    // not an answer to the login Gardien started
	CauseReplayed     = "replayed"      // an answer used once already
	CauseNonce        = "nonce"         // OIDC: the nonce of another login
	CauseCodeExchange = "code_exchange" // OIDC: the token endpoint refused the code
	CauseDecryption   = "decryption"    // an encrypted assertion Gardien cannot open
	CauseNoEmail      = "no_email"      // no email in the answer
	CauseMalformed    = "malformed"     // not a well-formed answer
	CauseUnreachable  = "unreachable"   // the provider could not be reached
	CauseOther        = "other"
)

var (
	errNoIDToken    = errors.New("sso: the provider sent no ID token")
	errNonce        = errors.New("sso: ID token: nonce does not match the login's")
	errNoEmail      = errors.New("sso: the answer carries no email")
	errCodeExchange = errors.New("sso: code exchange")
	errNotBase64    = errors.New("sso: SAMLResponse is not base64")
)

// Cause is why err refused an answer (one of the Cause… words).
func Cause(err error) string {
	var expired *oidc.TokenExpiredError
	var b64 base64.CorruptInputError
	switch {
	case err == nil:
		return ""
	case errors.Is(err, saml.ErrUnsupported), errors.Is(err, ErrWeakKey):
		return CauseWeakCrypto // before signature: a SHA-1 refusal is both
	case errors.Is(err, saml.ErrInvalidSignature), errors.Is(err, saml.ErrUntrustedCertificate),
		errors.Is(err, saml.ErrCertificateNotValidNow):
		return CauseSignature
	case errors.Is(err, saml.ErrExpired), errors.As(err, &expired):
		return CauseExpired
	case errors.Is(err, saml.ErrNotYetValid):
		return CauseNotYetValid
	case errors.Is(err, saml.ErrAudienceMismatch):
		return CauseAudience
	case errors.Is(err, saml.ErrDestinationMismatch):
		return CauseRecipient
	case errors.Is(err, saml.ErrIssuerMismatch):
		return CauseIssuer
	case errors.Is(err, saml.ErrRequestIDMismatch):
		return CauseRequestID
	case errors.Is(err, saml.ErrAssertionReplayed):
		return CauseReplayed
	case errors.Is(err, saml.ErrDecryptionFailed):
		return CauseDecryption
	case errors.Is(err, errNonce):
		return CauseNonce
	case errors.Is(err, errCodeExchange):
		return CauseCodeExchange
	case errors.Is(err, errNoEmail):
		return CauseNoEmail
	case errors.Is(err, saml.ErrMalformedMessage), errors.Is(err, saml.ErrMissingElement),
		errors.Is(err, errNoIDToken), errors.Is(err, errNotBase64), errors.As(err, &b64):
		return CauseMalformed
	case errors.Is(err, ErrAddressRefused), errors.Is(err, ErrAnswerTooLarge):
		return CauseUnreachable
	}
	// go-oidc words its refusals without types: its messages are matched.
	msg := err.Error()
	for _, m := range []struct{ text, cause string }{
		{"failed to verify signature", CauseSignature},
		{"id token not signed", CauseSignature},
		{"id token issued by a different provider", CauseIssuer},
		{"expected audience", CauseAudience},
		{"before the nbf", CauseNotYetValid},
		{"malformed jwt", CauseMalformed},
		{"sso: discovery", CauseUnreachable},
	} {
		if strings.Contains(msg, m.text) {
			return m.cause
		}
	}
	return CauseOther
}
