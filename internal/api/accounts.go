package api

import (
	"net/http"
	"time"

	"github.com/gardien/gardien"
	"github.com/gardien/gardien/internal/auth"
	"github.com/gardien/gardien/internal/httpx"
)

type userJSON struct {
	ID               int64  `json:"id"`
	Email            string `json:"email"`
	Name             string `json:"name"`
	EmailVerified    bool   `json:"email_verified"`
	SSO              bool   `json:"sso"`
	TwoFactorEnabled bool   `json:"two_factor_enabled"`
	Language         string `json:"language"`
}

func toUser(u *gardien.User) userJSON {
	return userJSON{ID: u.ID, Email: u.Email, Name: u.Name, EmailVerified: u.EmailVerified,
		SSO: u.SSO, TwoFactorEnabled: u.TwoFactorEnabled, Language: u.Locale}
}

type orgJSON struct {
	ID               int64  `json:"id"`
	Name             string `json:"name"`
	Role             string `json:"role"`
	RequireTwoFactor bool   `json:"require_two_factor"`
	// TwoFactorDeadline: from when the requirement holds members back
	// (RFC 3339); null: at their next login.
	TwoFactorDeadline any `json:"two_factor_deadline"`
}

func (h *Handler) handleSignup(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Email      *string `json:"email"`
		Password   *string `json:"password"`
		Name       *string `json:"name"`
		Invitation *string `json:"invitation"`
	}
	if err := h.body(w, r, &in, func() error { return required("email", in.Email, "password", in.Password, "name", in.Name) }); err != nil {
		return err
	}
	inv := ""
	if in.Invitation != nil {
		inv = *in.Invitation
	}
	su, err := h.auth.SignUp(r.Context(), auth.SignupInput{Email: *in.Email, Password: *in.Password, Name: *in.Name, Lang: h.lang(r), Invitation: inv},
		h.cookies.Token(r), h.cookies.LoginClient(w, r))
	if err != nil {
		return err
	}
	h.cookies.Set(w, su.Token, su.Session.ExpiresAt)
	out := map[string]any{"user": toUser(su.User), "status": su.Status}
	if su.Joined != nil {
		out["organization"] = toOrg(*su.Joined.Membership)
	}
	return writeJSON(w, http.StatusCreated, out)
}

func (h *Handler) handleVerifyEmail(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Token *string `json:"token"`
	}
	if err := h.body(w, r, &in, func() error { return required("token", in.Token) }); err != nil {
		return err
	}
	u, err := h.auth.VerifyEmail(r.Context(), *in.Token, httpx.Client(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"user": toUser(u)})
}

func (h *Handler) handleResendVerification(w http.ResponseWriter, r *http.Request, cur *httpx.Current) error {
	if err := h.auth.ResendVerification(r.Context(), cur.User.ID); err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, map[string]any{"status": "sent"})
}

func (h *Handler) handleLogin(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Email    *string `json:"email"`
		Password *string `json:"password"`
	}
	if err := h.body(w, r, &in, func() error { return required("email", in.Email, "password", in.Password) }); err != nil {
		return err
	}
	login, err := h.auth.LogIn(r.Context(), *in.Email, *in.Password, h.cookies.Token(r), h.cookies.LoginClient(w, r))
	if err != nil {
		return err
	}
	h.cookies.Set(w, login.Token, login.Session.ExpiresAt)
	return writeJSON(w, http.StatusOK, map[string]any{"status": login.Status})
}

func (h *Handler) handleLogout(w http.ResponseWriter, r *http.Request, cur *httpx.Current) error {
	if err := h.auth.LogOut(r.Context(), cur.Session, httpx.Client(r)); err != nil {
		return err
	}
	h.cookies.Clear(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// meJSON is GET /me's answer. A session at its second step gets only its
// email (a stolen password alone must not read the profile or the
// organizations): User is then a *secondStepUser and Organizations nil.
type meJSON struct {
	User          any             `json:"user"`
	Organizations *[]orgJSON      `json:"organizations,omitempty"`
	Session       meSessionJSON   `json:"session"`
	Deadline      *meDeadlineJSON `json:"two_factor_deadline,omitempty"`
}

type secondStepUser struct {
	Email string `json:"email"`
}

type meSessionJSON struct {
	Status    auth.Status `json:"status"`
	ExpiresAt string      `json:"expires_at"`
	// SSO is what the identity provider says it checked ("" for none).
	SSO string `json:"sso,omitempty"`
}

type meDeadlineJSON struct {
	OrgID    int64  `json:"organization_id"`
	Org      string `json:"organization"`
	At       string `json:"at"`
	DaysLeft int    `json:"days_left"`
}

func (h *Handler) handleMe(w http.ResponseWriter, r *http.Request, cur *httpx.Current) error {
	out := meJSON{Session: meSessionJSON{Status: auth.StatusOf(cur.Session.Level), ExpiresAt: cur.Session.ExpiresAt.Format(time.RFC3339),
		SSO: cur.Session.SSOContext}}
	if cur.Session.Level == gardien.LevelSecondFactor || cur.Session.Level == gardien.LevelLinkSecondFactor {
		// Only a password so far: what the code step needs.
		out.User = secondStepUser{cur.User.Email}
		return writeJSON(w, http.StatusOK, out)
	}
	ms, err := h.auth.Memberships(r.Context(), cur.User.ID)
	if err != nil {
		return err
	}
	orgs := each(ms, toOrg)
	out.User, out.Organizations = toUser(cur.User), &orgs
	// A requirement the person has until a date to meet: the days left.
	if d := h.auth.DeadlineAmong(cur.User, ms); d != nil {
		out.Deadline = &meDeadlineJSON{d.OrgID, d.OrgName, d.At.Format(time.RFC3339), auth.DaysLeft(h.auth.Now(), d.At)}
	}
	return writeJSON(w, http.StatusOK, out)
}

func (h *Handler) handleUpdateMe(w http.ResponseWriter, r *http.Request, cur *httpx.Current) error {
	var in struct {
		Name     *string `json:"name"`
		Language *string `json:"language"`
	}
	if err := h.body(w, r, &in, nil); err != nil {
		return err
	}
	name, lang := cur.User.Name, cur.User.Locale
	if in.Name != nil {
		name = *in.Name
	}
	if in.Language != nil {
		lang = *in.Language
	}
	u, err := h.auth.UpdateProfile(r.Context(), cur.User.ID, name, lang, h.cat.Known)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"user": toUser(u)})
}

// handleSignInAlerts says whether the person is mailed when their account
// signs in from a browser it has not used before.
func (h *Handler) handleSignInAlerts(w http.ResponseWriter, r *http.Request, cur *httpx.Current) error {
	on, err := h.auth.SignInAlerts(r.Context(), cur.User.ID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"enabled": on})
}

func (h *Handler) handleSetSignInAlerts(w http.ResponseWriter, r *http.Request, cur *httpx.Current) error {
	var in struct {
		Enabled *bool `json:"enabled"`
	}
	if err := h.body(w, r, &in, func() error { return required("enabled", in.Enabled) }); err != nil {
		return err
	}
	if err := h.auth.SetSignInAlerts(r.Context(), cur.User.ID, *in.Enabled, httpx.Client(r)); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"enabled": *in.Enabled})
}

func (h *Handler) handleChangePassword(w http.ResponseWriter, r *http.Request, cur *httpx.Current) error {
	var in struct {
		Current *string `json:"current_password"`
		New     *string `json:"new_password"`
	}
	if err := h.body(w, r, &in, func() error { return required("current_password", in.Current, "new_password", in.New) }); err != nil {
		return err
	}
	if err := h.auth.ChangePassword(r.Context(), cur.Session, cur.User, *in.Current, *in.New, httpx.Client(r)); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"status": "changed"})
}

func (h *Handler) handleMyEvents(w http.ResponseWriter, r *http.Request, cur *httpx.Current) error {
	events, err := h.auth.UserEvents(r.Context(), cur.User.ID, 50)
	if err != nil {
		return err
	}
	type eventJSON struct {
		Time      string `json:"time"`
		Type      string `json:"type"`
		IP        string `json:"ip"`
		UserAgent string `json:"user_agent"`
	}
	return writeJSON(w, http.StatusOK, map[string]any{"events": each(events, func(e gardien.Event) eventJSON {
		return eventJSON{e.Time.Format(time.RFC3339), e.Type, e.IP, e.UserAgent}
	})})
}

func (h *Handler) handleForgotPassword(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Email *string `json:"email"`
	}
	if err := h.body(w, r, &in, func() error { return required("email", in.Email) }); err != nil {
		return err
	}
	if err := h.auth.RequestPasswordReset(r.Context(), *in.Email, h.lang(r), httpx.Client(r)); err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, map[string]any{"status": "sent_if_account_exists"})
}

func (h *Handler) handleResetPassword(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Token    *string `json:"token"`
		Password *string `json:"password"`
	}
	if err := h.body(w, r, &in, func() error { return required("token", in.Token, "password", in.Password) }); err != nil {
		return err
	}
	if err := h.auth.ResetPassword(r.Context(), *in.Token, *in.Password, httpx.Client(r)); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"status": "changed"})
}

func (h *Handler) handleSSOStart(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Email *string `json:"email"`
	}
	if err := h.body(w, r, &in, func() error { return required("email", in.Email) }); err != nil {
		return err
	}
	start, err := h.auth.StartSSO(r.Context(), *in.Email, "", h.cookies.SSOBrowser(r), httpx.Client(r))
	if err != nil {
		return err
	}
	h.cookies.SetSSOBrowser(w, start.Browser, start.Expires)
	return writeJSON(w, http.StatusOK, map[string]any{"redirect_url": start.URL})
}

func (h *Handler) handleMySessions(w http.ResponseWriter, r *http.Request, cur *httpx.Current) error {
	list, err := h.auth.Sessions(r.Context(), cur.Session)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"sessions": each(list, func(s auth.OpenSession) map[string]any {
		return map[string]any{"id": s.ID, "current": s.Current, "browser": s.Browser, "system": s.System, "ip": s.IP,
			"created_at": s.CreatedAt.Format(time.RFC3339), "last_seen_at": s.LastSeenAt.Format(time.RFC3339), "sso": s.SSOContext}
	})})
}

func (h *Handler) handleEndSession(w http.ResponseWriter, r *http.Request, cur *httpx.Current) error {
	id, err := pathID(r, "session")
	if err != nil {
		return err
	}
	if err := h.auth.EndSession(r.Context(), cur.Session, id, httpx.Client(r)); err != nil {
		return err
	}
	if id == cur.Session.ID {
		h.cookies.Clear(w)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) handleEndOtherSessions(w http.ResponseWriter, r *http.Request, cur *httpx.Current) error {
	n, err := h.auth.EndOtherSessions(r.Context(), cur.Session, httpx.Client(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"ended": n})
}

func (h *Handler) handleEmailChange(w http.ResponseWriter, r *http.Request, cur *httpx.Current) error {
	var in struct {
		Email    *string `json:"email"`
		Password *string `json:"password"`
		factorOrKey
	}
	if err := h.body(w, r, &in, func() error {
		if err := required("email", in.Email, "password", in.Password); err != nil {
			return err
		}
		return in.check()
	}); err != nil {
		return err
	}
	email, err := h.auth.RequestEmailChange(r.Context(), cur.User, *in.Email, *in.Password, in.proof(cur.Session.ID), httpx.Client(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, map[string]any{"status": "sent", "email": email})
}

func (h *Handler) handleConfirmEmail(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Token *string `json:"token"`
	}
	if err := h.body(w, r, &in, func() error { return required("token", in.Token) }); err != nil {
		return err
	}
	u, err := h.auth.ConfirmEmailChange(r.Context(), *in.Token, httpx.Client(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"user": toUser(u)})
}

func (h *Handler) handleDeleteMe(w http.ResponseWriter, r *http.Request, cur *httpx.Current) error {
	var in struct {
		Password *string `json:"password"`
		factorOrKey
	}
	if err := h.body(w, r, &in, in.check); err != nil {
		return err
	}
	if err := h.auth.DeleteAccount(r.Context(), cur.User, deref(in.Password), in.proof(cur.Session.ID), httpx.Client(r)); err != nil {
		return err
	}
	h.cookies.Clear(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}
