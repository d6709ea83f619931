package web_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"

	"github.com/gardien/gardien/internal/apptest"
	"github.com/gardien/gardien/internal/totp"
)

// withTwoFactor turns 2FA on for a client through the pages; it returns the secret.
func withTwoFactor(t *testing.T, c *apptest.Client, clock *apptest.Clock) []byte {
	t.Helper()
	c.Form("/settings/two-factor/enable", nil)
	m := secretText.FindStringSubmatch(string(c.Get("/settings/two-factor/activate").Body))
	if m == nil {
		t.Fatal("no secret on the activation page")
	}
	secret, _ := totp.DecodeSecret(m[1])
	c.Form("/settings/two-factor/activate", map[string]string{"code": totp.Code(secret, totp.Step(clock.Now()), otp.DigitsSix)})
	return secret
}

var orgURL = regexp.MustCompile(`^/organizations/(\d+)/members$`)

func TestOrganizationPages(t *testing.T) {
	t.Parallel()
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.WithClock(clock))
	owner := verifiedClient(t, env, "owner@example.com")
	has(t, owner.Get("/organization"), "You do not belong to an organization yet.", "Create the organization")
	has(t, owner.Form("/organizations", map[string]string{"name": " "}), `id="f-name-error">Type the organization&#39;s name.`)
	r := owner.Form("/organizations", map[string]string{"name": "Acme"})
	loc := r.Header.Get("Location")
	if !orgURL.MatchString(loc) {
		t.Fatalf("after creating: %d %q", r.StatusCode, loc)
	}
	org := strings.TrimSuffix(loc, "/members")
	wantRedirect(t, owner.Get("/organization"), loc)
	has(t, owner.Get(loc), "Organization Acme created.", "0 of 1 protected", `aria-current="page">Members</a>`, ">Security &amp; SSO</a>", "Not set up")

	// An invitee without an account signs up through the link and joins.
	wantRedirect(t, owner.Form(org+"/invitations", map[string]string{"email": "new@example.com", "role": "member"}), loc)
	has(t, owner.Get(loc), "Invitation sent to new@example.com.", "Pending invitations")
	link := strings.TrimPrefix(env.Mail.Wait(t, "new@example.com").Link(), env.URL)
	newbie := env.Client(t)
	r = newbie.Get(link)
	has(t, r, "Acme invites new@example.com to join as member.", "/signup?invitation=")
	tok := strings.TrimPrefix(link, "/invitations/accept?token=")
	has(t, newbie.Get("/signup?invitation="+tok), `value="new@example.com"`, `name="invitation" value="`+tok+`"`)
	r = newbie.Form("/signup", map[string]string{"name": "New Person", "email": "new@example.com", "password": pw, "invitation": tok})
	wantRedirect(t, r, org+"/overview")
	has(t, newbie.Get(org+"/overview"), "You joined Acme.", "Your role: <strong>Member</strong>", "Leave the organization")
	// A member does not reach the management pages.
	wantRedirect(t, newbie.Get(loc), org+"/overview")
	wantRedirect(t, newbie.Get(org+"/security"), org+"/overview")
	// A stranger does not even see the organization.
	stranger := verifiedClient(t, env, "stranger@example.com")
	if r := stranger.Get(loc); r.StatusCode != 404 {
		t.Fatalf("stranger on the members page: %d", r.StatusCode)
	}

	// Filter, counts, role change, remind.
	has(t, owner.Get(loc+"?filter=without_two_factor"), "new@example.com", "<strong>Without 2FA</strong>")
	has(t, owner.Form(org+"/reminders", nil), "")
	has(t, owner.Get(loc), "Reminder sent to 2 members.")
	env.Mail.Wait(t, "new@example.com")

	// The switch needs the admin's own 2FA first.
	r = owner.Get(org + "/security")
	has(t, r, `role="switch" aria-checked="false" aria-label="Require two-factor authentication"`, " disabled>", "Turn on two-factor authentication on your own account first")
	withTwoFactor(t, owner, clock)
	clock.Advance(30 * time.Second)
	r = owner.Get(org + "/security")
	has(t, r, `<dialog id="require-dialog"`, "1 member does not have two-factor authentication yet. They will be asked to set it up at their next login")
	if strings.Contains(string(r.Body), `aria-label="Require two-factor authentication" aria-describedby="require-state" disabled`) {
		t.Fatal("switch disabled for an admin with 2FA")
	}
	// Without JavaScript, the switch leads to the same question as a page.
	has(t, owner.Get(org+"/security/confirm?require=on"), `role="dialog"`, "Require two-factor authentication for every member?", ">Yes</button>", ">Cancel</a>")
	wantRedirect(t, owner.Form(org+"/security", map[string]string{"require": "on"}), org+"/security")
	has(t, owner.Get(org+"/security"), `aria-checked="true"`, "Two-factor authentication is now required")
	has(t, owner.Get(org+"/audit"), "Two-factor authentication required")

	// The member's next login lands on the set-up, and nothing else opens.
	m := env.Client(t)
	wantRedirect(t, m.Form("/login", map[string]string{"email": "new@example.com", "password": pw}), "/two-factor/setup")
	wantRedirect(t, m.Get("/"), "/two-factor/setup")
	wantRedirect(t, m.Get("/settings/profile"), "/two-factor/setup")
	wantRedirect(t, m.Get(org+"/overview"), "/two-factor/setup")
	has(t, m.Get("/two-factor/setup"), "Acme requires two-factor authentication from its members.", ">Enable 2FA</button>")
	wantRedirect(t, m.Form("/two-factor/setup/enable", nil), "/two-factor/setup/activate")
	page := m.Get("/two-factor/setup/activate")
	has(t, page, `action="/two-factor/setup/activate"`)
	sec := secretText.FindStringSubmatch(string(page.Body))
	secret, _ := totp.DecodeSecret(sec[1])
	r = m.Form("/two-factor/setup/activate", map[string]string{"code": totp.Code(secret, totp.Step(clock.Now()), otp.DigitsSix)})
	has(t, r, "Two-factor authentication is on. Keep these recovery codes", `<a class="button primary" href="/">`)
	has(t, m.Get("/"), "Two-factor authentication is on.")
	has(t, m.Get("/settings/two-factor"), "Acme requires two-factor authentication from its members: it cannot be turned off")

	// The admin resets the member's 2FA, with a confirmation.
	id := regexp.MustCompile(`(?s)new@example.com.*?/members/(\d+)/reset-two-factor`).FindStringSubmatch(string(owner.Get(loc).Body))
	if id == nil {
		t.Fatal("no Reset 2FA action for a member with 2FA")
	}
	has(t, owner.Get(org+"/members/"+id[1]+"/reset-two-factor"), "Reset the two-factor authentication of New Person (new@example.com)?", "Yes, reset it")
	wantRedirect(t, owner.Form(org+"/members/"+id[1]+"/reset-two-factor", nil), loc)
	has(t, owner.Get(loc), "Their two-factor authentication is reset.")
	wantRedirect(t, m.Get("/"), "/login")

	// The audit log, filtered by event and by person.
	r = owner.Get(org + "/audit?type=org.member_two_factor_reset")
	has(t, r, "Member&#39;s two-factor authentication reset", "new@example.com", "owner@example.com")
	if strings.Contains(string(r.Body), "Invitation sent</td>") {
		t.Fatal("filter by event shows other events")
	}
	r = owner.Get(org + "/audit?person=new%40example.com&type=org.member_joined")
	// The exports carry both filters (a person's address once broke them).
	has(t, r, "Member joined", `href="/api/v1/organizations/`+strings.TrimPrefix(org, "/organizations/")+`/events.csv?type=org.member_joined&amp;person=new%40example.com"`,
		`/events.jsonl?type=org.member_joined&amp;person=new%40example.com"`)
	// No account, and an account never in this organization, look the same.
	has(t, owner.Get(org+"/audit?person=nobody%40example.com"), "No events yet.")
	// A filter bookmarked when the log was on the security page still opens it.
	wantRedirect(t, owner.Get(org+"/security?person=new%40example.com"), org+"/audit?person=new%40example.com")

	// Several organizations: a switcher, and Organization settings opens the last one.
	second := owner.Form("/organizations", map[string]string{"name": "Beta"}).Header.Get("Location")
	has(t, owner.Get(second), "Your organizations", `href="`+loc+`">Acme</a>`, `aria-current="true">Beta</a>`)
	wantRedirect(t, owner.Get("/organization"), second)
	owner.Get(loc)
	wantRedirect(t, owner.Get("/organization"), loc)
}

// invited has the owner invite email as a member; the person signs up
// through the mailed invitation. It returns their client.
func invited(t *testing.T, env *apptest.Env, owner *apptest.Client, org, email, name string) *apptest.Client {
	t.Helper()
	owner.Form(org+"/invitations", map[string]string{"email": email, "role": "member"})
	m := env.Mail.Wait(t, email) // their first mail: they have no account yet
	if !strings.HasPrefix(m.Link(), env.URL+"/invitations/accept?token=") || !strings.Contains(m.Subject, " invites you to join ") {
		t.Fatalf("the invitation to %s: %q %s", email, m.Subject, m.Link())
	}
	tok := strings.TrimPrefix(m.Link(), env.URL+"/invitations/accept?token=")
	c := env.Client(t)
	c.Form("/signup", map[string]string{"name": name, "email": email, "password": pw, "invitation": tok})
	return c
}

// ownerWithOrg starts a server with an owner who has 2FA and an
// organization; it returns the owner's client and the organization's path.
func ownerWithOrg(t *testing.T) (*apptest.Env, *apptest.Client, string) {
	t.Helper()
	return ownerWithOrgAt(t)
}

// ownerWithOrgAt is ownerWithOrg with settings of the server.
func ownerWithOrgAt(t *testing.T, opts ...apptest.Option) (*apptest.Env, *apptest.Client, string) {
	t.Helper()
	clock := apptest.NewClock()
	env := apptest.Start(t, append(opts, apptest.WithClock(clock))...)
	owner := verifiedClient(t, env, "owner@example.com")
	withTwoFactor(t, owner, clock)
	return env, owner, strings.TrimSuffix(owner.Form("/organizations", map[string]string{"name": "Acme"}).Header.Get("Location"), "/members")
}

func TestSigningUpIntoAnOrganizationThatRequires2FALandsOnTheSetUp(t *testing.T) {
	t.Parallel()
	env, owner, org := ownerWithOrg(t)
	// The owner turns the requirement on, choosing to end open sessions.
	wantRedirect(t, owner.Form(org+"/security", map[string]string{"require": "on", "sessions": "end"}), org+"/security")
	has(t, owner.Get(org+"/audit"), "open sessions of members without 2FA ended")
	owner.Form(org+"/invitations", map[string]string{"email": "new@example.com", "role": "member"})
	tok := strings.TrimPrefix(env.Mail.Wait(t, "new@example.com").Link(), env.URL+"/invitations/accept?token=")
	newbie := env.Client(t)
	r := newbie.Form("/signup", map[string]string{"name": "New Person", "email": "new@example.com", "password": pw, "invitation": tok})
	wantRedirect(t, r, "/two-factor/setup")
	// Nothing else is reachable until 2FA is on.
	wantRedirect(t, newbie.Get(org+"/overview"), "/two-factor/setup")
	wantRedirect(t, newbie.Get("/settings/profile"), "/two-factor/setup")
}

// The set-up an organization requires follows the personal page's rule (a
// validated email first), and offers the validation mail again.
func TestForcedSetUpNeedsAValidatedEmailToo(t *testing.T) {
	t.Parallel()
	env, owner, org := ownerWithOrg(t)
	bob := invited(t, env, owner, org, "bob@example.com", "Bob")
	owner.Form(org+"/security", map[string]string{"require": "on"})
	// Bob's address stops being validated (say it changed); he logs in again.
	if _, err := env.DB.Exec(`UPDATE users SET email_verified_at = NULL WHERE email_key = 'bob@example.com'`); err != nil {
		t.Fatal(err)
	}
	// In the same browser: the login replaces its session.
	wantRedirect(t, bob.Form("/login", map[string]string{"email": "bob@example.com", "password": pw}), "/two-factor/setup")
	has(t, bob.Get("/two-factor/setup"), "Send the link again", `action="/verify-email/resend"`)
	r := bob.Form("/two-factor/setup/enable", nil)
	wantRedirect(t, r, "/two-factor/setup")
	has(t, bob.Get("/two-factor/setup"), "Validate your email first")
	if r := bob.Get("/two-factor/setup/activate"); r.StatusCode == 200 {
		t.Fatal("a set-up secret was made for an unvalidated email")
	}
	wantRedirect(t, bob.Form("/verify-email/resend", nil), "/")
	if m := env.Mail.Wait(t, "bob@example.com"); m.Subject != "Validate your email" {
		t.Fatalf("mail %q, want a validation mail", m.Subject)
	}
}

// A plain member reaches neither the audit log nor the general settings,
// nor their exports; an admin reads the log but only an owner renames.
func TestOrganizationSettingsAreasByRole(t *testing.T) {
	t.Parallel()
	env, owner, org := ownerWithOrg(t)
	bob := invited(t, env, owner, org, "bob@example.com", "Bob")
	for _, p := range []string{"/audit", "/general", "/security"} {
		wantRedirect(t, bob.Get(org+p), org+"/overview")
	}
	// What the member sees instead says whom to ask.
	has(t, bob.Get(org+"/overview"), "Contact an owner", `href="mailto:owner@example.com"`)
	id := strings.TrimPrefix(org, "/organizations/")
	if r := bob.Get("/api/v1/organizations/" + id + "/events.csv"); r.StatusCode != 403 {
		t.Fatalf("a member exporting the audit log: %d", r.StatusCode)
	}
	has(t, owner.Get(org+"/general"), `action="`+org+`/rename"`, `href="`+org+`/delete"`)
	has(t, owner.Get(org+"/audit"), "Member joined", "bob@example.com")
}

func TestRenamingAndDeletingAnOrganization(t *testing.T) {
	t.Parallel()
	env, owner, org := ownerWithOrg(t)
	invited(t, env, owner, org, "bob@example.com", "Bob")
	wantRedirect(t, owner.Form(org+"/rename", map[string]string{"name": "Acme Corp"}), org+"/general")
	has(t, owner.Get(org+"/general"), "The organization is now called Acme Corp.", `value="Acme Corp"`)
	has(t, owner.Get(org+"/delete"), "Delete Acme Corp?", "Download")
	r := owner.Form(org+"/delete", map[string]string{"name": "Acme"})
	if r.StatusCode != 422 {
		t.Fatalf("the wrong name: %d", r.StatusCode)
	}
	has(t, r, `id="f-name-error"`)
	wantRedirect(t, owner.Form(org+"/delete", map[string]string{"name": "Acme Corp"}), "/organization")
	has(t, owner.Get("/organization"), "The organization Acme Corp was deleted.")
	env.Mail.WaitSubject(t, "bob@example.com", "An organization you belonged to was deleted")
}

func TestTheRequirementPopUpCanEmailMembersWithout2FA(t *testing.T) {
	t.Parallel()
	env, owner, org := ownerWithOrg(t)
	invited(t, env, owner, org, "bob@example.com", "Bob")
	has(t, owner.Get(org+"/security"), `name="notify" value="on" checked`, "Email the 1 member without 2FA now")
	wantRedirect(t, owner.Form(org+"/security", map[string]string{"require": "on", "sessions": "keep", "notify": "on"}), org+"/security")
	if m := env.Mail.WaitSubject(t, "bob@example.com", "Your organization now requires two-factor authentication"); !strings.Contains(m.Text, "Acme") {
		t.Fatalf("mail to Bob:\n%s", m.Text)
	}
}

func TestInvitingAMemberOrAnInviteeAgainSaysSo(t *testing.T) {
	t.Parallel()
	env, owner, org := ownerWithOrg(t)
	members := org + "/members"
	wantRedirect(t, owner.Form(org+"/invitations", map[string]string{"email": "bob@example.com", "role": "member"}), members)
	has(t, owner.Get(members), "Invitation sent to bob@example.com.")
	env.Mail.Wait(t, "bob@example.com")
	wantRedirect(t, owner.Form(org+"/invitations", map[string]string{"email": "Bob@Example.com", "role": "admin"}), members)
	has(t, owner.Get(members), "Bob@example.com is already invited: no new invitation was sent.")
	wantRedirect(t, owner.Form(org+"/invitations", map[string]string{"email": "owner@example.com", "role": "member"}), members)
	has(t, owner.Get(members), "owner@example.com is already a member of this organization")
	env.Mail.None(t, "bob@example.com", 200*time.Millisecond)
}

// Removing a member and leaving ask first, on a page (no JavaScript
// needed); only the confirmation's button acts.
// dialogs are the pop-ups of a page, which only app.js opens.
var dialogs = regexp.MustCompile(`(?s)<dialog .*?</dialog>`)

func TestRemovingAMemberAndLeavingAskFirst(t *testing.T) {
	t.Parallel()
	env, owner, org := ownerWithOrg(t)
	members := org + "/members"
	invited(t, env, owner, org, "bob@example.com", "Bob")
	carol := invited(t, env, owner, org, "carol@example.com", "Carol")

	page := owner.Get(members)
	id := regexp.MustCompile(`(?s)bob@example.com.*?<form method="get" action="/organizations/\d+/members/(\d+)/remove" data-dialog="remove-\d+">`).FindStringSubmatch(string(page.Body))
	if id == nil {
		t.Fatalf("no Remove for Bob:\n%s", page.Body)
	}
	// The removal itself is only inside the question (a dialog, shown by
	// app.js; without it, Remove loads the confirmation page).
	if outside := dialogs.ReplaceAllString(string(page.Body), ""); strings.Contains(outside, `method="post" action="`+members+"/"+id[1]+`/remove"`) {
		t.Fatal("Remove acts in one click")
	}
	has(t, owner.Get(members+"/"+id[1]+"/remove"), "Remove Bob (bob@example.com) from Acme?", ">Yes, remove</button>", ">Cancel</a>")
	// A member sees no such page, even for another member.
	if r := carol.Get(members + "/" + id[1] + "/remove"); r.StatusCode != 403 && r.StatusCode != 404 {
		t.Fatalf("a plain member on the removal page: %d", r.StatusCode)
	}
	has(t, owner.Get(members), "bob@example.com") // the page itself removed no one
	wantRedirect(t, owner.Form(members+"/"+id[1]+"/remove", nil), members)
	has(t, owner.Get(members), "Member removed.")
	if strings.Contains(string(owner.Get(members).Body), "bob@example.com") {
		t.Fatal("Bob is still listed")
	}

	// Carol leaves, after the question.
	// A plain member's Organization settings: the organization, their role,
	// the requirement, whom to contact, and Leave (not a lone red button).
	has(t, carol.Get(org+"/overview"), "<h2>Acme</h2>", "<strong>Member</strong>", "Two-factor authentication is not required here",
		"<h3>Owners</h3>", `<a href="mailto:owner@example.com">owner@example.com</a>`, `<form method="get" action="`+org+`/leave" data-dialog="leave-dialog">`)
	if outside := dialogs.ReplaceAllString(string(carol.Get(org+"/overview").Body), ""); strings.Contains(outside, `method="post" action="`+org+`/leave"`) {
		t.Fatal("Leave acts in one click")
	}
	has(t, carol.Get(org+"/leave"), "Leave Acme?", ">Yes, leave</button>")
	if r := carol.Get(org + "/overview"); r.StatusCode != 200 {
		t.Fatalf("the question made Carol leave: %d", r.StatusCode)
	}
	wantRedirect(t, carol.Form(org+"/leave", nil), "/organization")
	has(t, carol.Get("/organization"), "You left the organization.")
	// The sole owner is told first that the organization needs an owner,
	// and offered no "Yes, leave" to press in vain.
	leave := owner.Get(org + "/leave")
	has(t, leave, "You are the only owner of Acme", "Go to Members")
	if strings.Contains(string(leave.Body), "Yes, leave") {
		t.Error("the sole owner is offered to leave")
	}
}

func TestAuditDetailsAreWrittenInTheReadersLanguage(t *testing.T) {
	t.Parallel()
	_, owner, org := ownerWithOrg(t)
	owner.Form(org+"/invitations", map[string]string{"email": "bob@example.com", "role": "admin"})
	owner.Form(org+"/security", map[string]string{"require": "on", "sessions": "end"})
	has(t, owner.Get(org+"/audit"), "bob@example.com · as admin", "open sessions of members without 2FA ended")
	owner.Form("/language", map[string]string{"lang": "fr", "next": org + "/audit"})
	has(t, owner.Get(org+"/audit"), "bob@example.com · en tant qu’administrateur", "sessions ouvertes des membres sans 2FA fermées")
}

// TestARequirementWithADeadline: the pop-up takes a date; until it,
// members without 2FA reach every page under a banner with the days left
// (in their language), admins see the progress and each member's last
// reminder; a date past or unreadable is refused and changes nothing.
func TestARequirementWithADeadline(t *testing.T) {
	t.Parallel()
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.WithClock(clock))
	owner := verifiedClient(t, env, "owner@example.com")
	withTwoFactor(t, owner, clock)
	org := strings.TrimSuffix(owner.Form("/organizations", map[string]string{"name": "Acme"}).Header.Get("Location"), "/members")
	bob := invited(t, env, owner, org, "bob@example.com", "Bob")
	has(t, owner.Get(org+"/security"), `name="when" value="next_login" checked`, `name="when" value="deadline"`, `id="f-deadline" name="deadline" type="date"`)

	// A date missing, unreadable or past: the question again, as typed,
	// with what is wrong next to the date; nothing changed.
	for bad, says := range map[string]string{"": "Choose the date of the deadline.", "tomorrow": "Type the date as YYYY-MM-DD.",
		clock.Now().UTC().Format("2006-01-02"): `id="f-deadline-error">`} {
		r := owner.Form(org+"/security", map[string]string{"require": "on", "when": "deadline", "deadline": bad})
		if r.StatusCode != 422 {
			t.Fatalf("deadline %q: %d", bad, r.StatusCode)
		}
		has(t, r, `name="when" value="deadline" checked`, `aria-describedby="f-deadline-error"`, says)
		has(t, owner.Get(org+"/security"), `aria-checked="false"`)
	}
	deadline := clock.Now().UTC().Add(10 * 24 * time.Hour)
	date := deadline.Format("2006-01-02")
	wantRedirect(t, owner.Form(org+"/security", map[string]string{"require": "on", "when": "deadline", "deadline": date, "notify": "on"}), org+"/security")
	if m := env.Mail.WaitSubject(t, "bob@example.com", "Your organization requires two-factor authentication"); !strings.Contains(m.Text, deadline.Format("Jan 2, 2006")) {
		t.Fatalf("the mail does not give the date:\n%s", m.Text)
	}
	days := int(time.Date(deadline.Year(), deadline.Month(), deadline.Day(), 0, 0, 0, 0, time.UTC).Sub(clock.Now()).Hours()/24) + 1
	has(t, owner.Get(org+"/members"), fmt.Sprintf("1 of 2 protected, 1 left, deadline in %d days (%s)", days, deadline.Format("Jan 2, 2006")),
		"reminded "+clock.Now().UTC().Format("Jan 2, 2006"))

	// Bob reaches his pages, under the banner.
	banner := fmt.Sprintf("Acme requires two-factor authentication from %s: %d days left.", deadline.Format("Jan 2, 2006"), days)
	has(t, bob.Get("/settings/profile"), banner, `href="/settings/two-factor">Set it up now</a>`)
	bob.Form("/language", map[string]string{"lang": "fr", "next": "/"})
	has(t, bob.Get("/settings/profile"), fmt.Sprintf("Acme exige l’authentification à deux facteurs à partir du %d ", deadline.Day()), fmt.Sprintf("il reste %d jours.", days))
	if strings.Contains(string(owner.Get("/settings/profile").Body), `class="notice deadline"`) {
		t.Fatal("the owner, who has 2FA, sees the banner")
	}

	// From the date, the seed's rule: the set-up at login.
	clock.Advance(time.Duration(days) * 24 * time.Hour)
	late := env.Client(t)
	wantRedirect(t, late.Form("/login", map[string]string{"email": "bob@example.com", "password": pw}), "/two-factor/setup")
}

// Members → Sign out everywhere: a question first, then the member's
// sessions end.
func TestSigningAMemberOutFromTheMembersPage(t *testing.T) {
	t.Parallel()
	env, owner, org := ownerWithOrg(t)
	bob := invited(t, env, owner, org, "bob@example.com", "Bob")
	if r := bob.Get("/settings/profile"); r.StatusCode != 200 {
		t.Fatalf("Bob's session: %d", r.StatusCode)
	}
	page := owner.Get(org + "/members")
	has(t, page, `/members.csv" download>Export as CSV</a>`)
	link := regexp.MustCompile(`href="(` + org + `/members/\d+/sign-out)"`).FindStringSubmatch(string(page.Body))
	if link == nil {
		t.Fatalf("no Sign out everywhere on the Members page:\n%s", page.Body)
	}
	has(t, owner.Get(link[1]), "Sign Bob (bob@example.com) out on every device?", ">Yes, sign out everywhere</button>")
	wantRedirect(t, owner.Form(link[1], nil), org+"/members")
	has(t, owner.Get(org+"/members"), "Signed out everywhere.")
	wantRedirect(t, bob.Get("/settings/profile"), "/login?next=%2Fsettings%2Fprofile")
}
