// Package password hashes and checks passwords with argon2id, and refuses
// weak ones. At most a fixed number of hashes run at once: each costs 19 MiB,
// so a flood of logins waits in line instead of exhausting memory.
package password

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id's cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// OWASP's minimum for argon2id (Password Storage Cheat Sheet): 19 MiB, t=2, p=1.
var DefaultParams = Params{Memory: 19 * 1024, Time: 2, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32
	// MinLength and MaxLength bound a password, in characters. The upper
	// bound keeps hashing cost independent of what a client sends.
	MinLength = 10
	MaxLength = 256
)

// ErrMismatch is returned by Verify for a wrong password.
var ErrMismatch = errors.New("password: mismatch")

// Hasher hashes and verifies passwords, a bounded number at once.
type Hasher struct {
	params Params
	slots  chan struct{}
	dummy  string // a hash of nothing, verified for unknown accounts
	// OnWait, when set, is told how long each hash waited for its slot
	// (the hash queue, for metrics).
	OnWait func(time.Duration)
}

// NewHasher returns a Hasher running at most concurrency hashes at once.
func NewHasher(p Params, concurrency int) *Hasher {
	if concurrency < 1 {
		concurrency = 1
	}
	h := &Hasher{params: p, slots: make(chan struct{}, concurrency)}
	// The dummy is verified only for its cost, and always mismatches: its
	// key need not be a real hash. Computing one here would cost every
	// start a hash's time and its memory (19 MiB held until the runtime
	// gives it back).
	h.dummy = h.encode(make([]byte, saltLen), make([]byte, keyLen))
	return h
}

func (h *Hasher) acquire(ctx context.Context) error {
	start := time.Now()
	select {
	case h.slots <- struct{}{}:
		if h.OnWait != nil {
			h.OnWait(time.Since(start))
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("password: waiting for a hashing slot: %w", ctx.Err())
	}
}

func (h *Hasher) release() { <-h.slots }

func (h *Hasher) key(pw string, salt []byte, p Params) []byte {
	return argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, keyLen)
}

func (h *Hasher) encode(salt, key []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		h.params.Memory, h.params.Time, h.params.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Hash returns the PHC-format argon2id hash of pw.
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: salt: %w", err)
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return h.encode(salt, h.key(pw, salt, h.params)), nil
}

// Verify checks pw against an encoded hash; ErrMismatch when it is wrong.
// An empty encoded hash (an unknown account) or one that is no argon2id
// hash (an account with no password, such as an SSO one) is checked against
// a dummy hash, so that the answer takes as long as for a real account,
// and is a mismatch.
func (h *Hasher) Verify(ctx context.Context, encoded, pw string) error {
	return h.VerifyCounted(ctx, encoded, pw, nil)
}

// VerifyCounted is Verify that runs count (when not nil) once it holds a
// hashing slot, just before the hash, and returns count's error without
// hashing. A limit counted there sees at most as many tries in flight as
// there are slots: tries waiting in the queue count nothing yet, so a
// burst of right passwords is not refused for the ones ahead of it.
func (h *Hasher) VerifyCounted(ctx context.Context, encoded, pw string, count func() error) error {
	p, salt, want, err := decode(encoded)
	dummy := err != nil
	if dummy {
		p, salt, want, _ = decode(h.dummy)
	}
	if err := h.acquire(ctx); err != nil {
		return err
	}
	if count != nil {
		if err := count(); err != nil {
			h.release()
			return err
		}
	}
	got := h.key(pw, salt, p)
	h.release()
	if subtle.ConstantTimeCompare(got, want) != 1 || dummy {
		return ErrMismatch
	}
	return nil
}

func decode(encoded string) (Params, []byte, []byte, error) {
	var p Params
	var version int
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return p, nil, nil, errors.New("password: not an argon2id hash")
	}
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, nil, nil, errors.New("password: unsupported argon2 version")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return p, nil, nil, fmt.Errorf("password: parameters: %w", err)
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return p, nil, nil, fmt.Errorf("password: salt: %w", err)
	}
	key, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil {
		return p, nil, nil, fmt.Errorf("password: key: %w", err)
	}
	return p, salt, key, nil
}

//go:generate go run ./gencommon

//go:embed breached.txt common.txt
var lists embed.FS

// common are the passwords refused as common or breached (NIST SP 800-63B
// §5.1.1.2): zxcvbn's list of the 30,000 most common passwords of breaches,
// as github.com/trustelem/zxcvbn ships it (breached.txt, generated from the
// module: no outside service is asked), and common.txt's additions. Only
// those of MinLength or more could be chosen at all.
var common = func() map[string]struct{} {
	m := map[string]struct{}{}
	for _, name := range []string{"breached.txt", "common.txt"} {
		b, _ := lists.ReadFile(name)
		addLines(m, string(b))
	}
	return m
}()

func addLines(m map[string]struct{}, list string) {
	sc := bufio.NewScanner(strings.NewReader(list))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" && !strings.HasPrefix(line, "#") {
			m[strings.ToLower(line)] = struct{}{}
		}
	}
}

// Check says what is wrong with a new password, as a catalog key, or "".
func Check(pw string) string {
	n := utf8.RuneCountInString(pw)
	switch {
	case n < MinLength:
		return "err.password_too_short"
	case n > MaxLength:
		return "err.password_too_long"
	}
	if _, ok := common[strings.ToLower(pw)]; ok {
		return "err.password_common"
	}
	return ""
}
