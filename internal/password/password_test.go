package password

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn/frequency"
)

// Cheap parameters keep these tests fast; DefaultParams is checked apart.
var testParams = Params{Memory: 64, Time: 1, Threads: 1}

func TestHashAndVerify(t *testing.T) {
	h := NewHasher(testParams, 2)
	ctx := context.Background()
	enc, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("encoding %q", enc)
	}
	if err := h.Verify(ctx, enc, "correct horse battery staple"); err != nil {
		t.Fatalf("right password refused: %v", err)
	}
	if err := h.Verify(ctx, enc, "correct horse battery stapler"); !errors.Is(err, ErrMismatch) {
		t.Fatalf("wrong password: %v", err)
	}
	again, _ := h.Hash(ctx, "correct horse battery staple")
	if again == enc {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	// A hash made with other parameters still verifies (parameters travel in it).
	h2 := NewHasher(Params{Memory: 128, Time: 2, Threads: 1}, 1)
	if err := h2.Verify(ctx, enc, "correct horse battery staple"); err != nil {
		t.Fatalf("hash with older parameters: %v", err)
	}
}

func TestUnknownAccountStillHashes(t *testing.T) {
	h := NewHasher(testParams, 1)
	if err := h.Verify(context.Background(), "", ""); !errors.Is(err, ErrMismatch) {
		t.Fatalf("empty hash with empty password: %v, want mismatch", err)
	}
	if err := h.Verify(context.Background(), "", "dummy"); !errors.Is(err, ErrMismatch) {
		t.Fatalf("empty hash with the dummy's own password: %v, want mismatch", err)
	}
}

func TestDefaultParamsAreOWASPMinimum(t *testing.T) {
	if DefaultParams.Memory < 19*1024 || DefaultParams.Time < 2 || DefaultParams.Threads < 1 {
		t.Fatalf("DefaultParams %+v below OWASP's argon2id minimum (19 MiB, t=2, p=1)", DefaultParams)
	}
}

// An account whose stored hash is no argon2id hash (no password, as for
// SSO people) cannot log in with one, and does not make a login fail with 500.
func TestMalformedHashes(t *testing.T) {
	h := NewHasher(testParams, 1)
	for _, enc := range []string{"x", "-", "!", "$argon2i$v=19$m=64,t=1,p=1$AAAA$AAAA", "$argon2id$v=18$m=64,t=1,p=1$AAAA$AAAA", "$argon2id$v=19$m=x$AAAA$AAAA", "$argon2id$v=19$m=64,t=1,p=1$!!$AAAA"} {
		if err := h.Verify(context.Background(), enc, "pw"); !errors.Is(err, ErrMismatch) {
			t.Errorf("%q: %v, want a mismatch (no password can match it)", enc, err)
		}
	}
}

func TestConcurrentHashesAreBounded(t *testing.T) {
	h := NewHasher(testParams, 2)
	var running, peak atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			h.acquire(context.Background())
			n := running.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(5 * time.Millisecond)
			running.Add(-1)
			h.release()
		})
	}
	wg.Wait()
	if peak.Load() != 2 {
		t.Fatalf("%d hashes ran at once, want at most 2 (and 2 reached)", peak.Load())
	}
	// A caller that gives up while waiting gets its context's error.
	h.acquire(context.Background())
	h.acquire(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := h.Hash(ctx, "x"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("hash while all slots busy: %v", err)
	}
}

func TestCheck(t *testing.T) {
	for pw, want := range map[string]string{
		"":                               "err.password_too_short",
		"ninechars":                      "err.password_too_short",
		"éééééééé":                       "err.password_too_short", // 8 characters, 16 bytes
		"tencharsok":                     "",
		strings.Repeat("a", MaxLength):   "",
		strings.Repeat("a", MaxLength+1): "err.password_too_long",
		"qwertyuiop":                     "err.password_common",
		"QWERTYUIOP":                     "err.password_common",
		"motdepasse1":                    "err.password_common",
		"1234567890":                     "err.password_common",
		"correct horse battery staple":   "",
	} {
		if got := Check(pw); got != want {
			t.Errorf("Check(%q) = %q, want %q", pw, got, want)
		}
	}
	if len(common) < 1000 {
		t.Fatalf("common list has %d entries", len(common))
	}
}

// BenchmarkHashDefault is the cost of one password check at the production
// parameters: what bounds a login, by design.
func BenchmarkHashDefault(b *testing.B) {
	h := NewHasher(DefaultParams, 1)
	for b.Loop() {
		if _, err := h.Hash(context.Background(), "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

// TestANewHasherComputesNoHash: starting costs no hash (its time and its
// memory held by the process); the check of an unknown account still
// computes one, like a real account's.
func TestANewHasherComputesNoHash(t *testing.T) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	h := NewHasher(DefaultParams, 1)
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
		t.Fatalf("NewHasher allocated %d KiB: it computed a hash", grew>>10)
	}
	hashed := 0
	h.OnWait = func(time.Duration) { hashed++ }
	runtime.ReadMemStats(&before)
	if err := h.Verify(context.Background(), "", "anything"); !errors.Is(err, ErrMismatch) {
		t.Fatalf("unknown account: %v", err)
	}
	runtime.ReadMemStats(&after)
	if hashed != 1 || after.TotalAlloc-before.TotalAlloc < uint64(DefaultParams.Memory)<<10 {
		t.Fatalf("an unknown account's check did not compute a hash (%d slots, %d KiB)", hashed, (after.TotalAlloc-before.TotalAlloc)>>10)
	}
}

// VerifyCounted counts a try only once it holds a slot: with the slots
// taken, a try waits uncounted; a count that refuses stops the hash.
func TestVerifyCountsOnlyInItsSlot(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(testParams, 1)
	enc, err := h.Hash(ctx, "pw")
	if err != nil {
		t.Fatal(err)
	}
	refused := errors.New("over the limit")
	if err := h.VerifyCounted(ctx, enc, "pw", func() error { return refused }); !errors.Is(err, refused) {
		t.Fatalf("a refused count: %v", err)
	}
	if err := h.acquire(ctx); err != nil { // the one slot, taken
		t.Fatal(err)
	}
	var counted atomic.Int32
	done := make(chan error)
	go func() { done <- h.VerifyCounted(ctx, enc, "pw", func() error { counted.Add(1); return nil }) }()
	time.Sleep(50 * time.Millisecond)
	if counted.Load() != 0 {
		t.Fatal("a try waiting for its slot was counted")
	}
	h.release()
	if err := <-done; err != nil || counted.Load() != 1 {
		t.Fatalf("once in its slot: %v, counted %d", err, counted.Load())
	}
}

// breached.txt is zxcvbn's list as the module in go.mod ships it: bumping
// the module and running go generate keep it current.
func TestTheBreachedListIsTheLibrarys(t *testing.T) {
	b, err := lists.ReadFile("breached.txt")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range strings.Split(string(b), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			got = append(got, l)
		}
	}
	var want []string
	for _, pw := range frequency.FrequencyLists["passwords"] {
		if utf8.RuneCountInString(pw) >= MinLength {
			want = append(want, pw)
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("breached.txt (%d) is not zxcvbn's list (%d): run go generate ./internal/password", len(got), len(want))
	}
	for _, pw := range []string{"qwertyuiop", "1234567890", "PassWord12345", "motdepasse123", "iloveyou123"} {
		if Check(pw) != "err.password_common" {
			t.Errorf("%q is not refused as common", pw)
		}
	}
	if Check("correct horse battery staple") != "" {
		t.Error("a passphrase is refused")
	}
}
