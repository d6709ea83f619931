package oidcop

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
)

// logoutEvent marks a logout token (OpenID Connect Back-Channel Logout 1.0 §2.4).
const logoutEvent = "http://schemas.openid.net/event/backchannel-logout"

// SendBackchannelLogout tells an app, at its back-channel logout URI, that
// a person's session ended: a logout token signed as the app's ID tokens
// are (made at each try, so that its short life starts then), posted as a
// form. The app must answer 200 (or 204); anything else is tried again.
func (p *Provider) SendBackchannelLogout(ctx context.Context, d *gardien.Delivery) error {
	var bl gardien.BackchannelLogout
	if err := json.Unmarshal(d.Payload, &bl); err != nil {
		return fmt.Errorf("oidcop: back-channel payload: %w", err)
	}
	token, err := p.logoutToken(ctx, &bl)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.Target, strings.NewReader(url.Values{"logout_token": {token}}.Encode()))
	if err != nil {
		return fmt.Errorf("oidcop: back-channel request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := p.client.Do(req)
	if err != nil {
		return fmt.Errorf("oidcop: back-channel logout: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10)) // a connection to reuse
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("oidcop: back-channel logout: the app answered %s", resp.Status)
	}
	return nil
}

func (p *Provider) logoutToken(ctx context.Context, bl *gardien.BackchannelLogout) (string, error) {
	alg := bl.Alg
	if alg == "" {
		alg = gardien.AlgRS256
	}
	k, err := p.keys.signing(ctx, alg)
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(k.Alg), Key: k.Private},
		(&jose.SignerOptions{}).WithType("logout+jwt").WithHeader("kid", k.ID))
	if err != nil {
		return "", fmt.Errorf("oidcop: logout token signer: %w", err)
	}
	jti := make([]byte, 16)
	rand.Read(jti)
	now := p.auth.Now()
	claims := map[string]any{
		"iss": p.issuer, "aud": bl.ClientID, "iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(),
		"jti": base64.RawURLEncoding.EncodeToString(jti), "sub": auth.Subject(bl.UserID),
		"events": map[string]any{logoutEvent: map[string]any{}},
	}
	if bl.SessionID != 0 {
		claims["sid"] = auth.SessionSID(bl.SessionID)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	sig, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("oidcop: sign logout token: %w", err)
	}
	return sig.CompactSerialize()
}
