package room_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/hearth-rtc/hearth/room"
)

var (
	testSecret = []byte("0123456789abcdef0123456789abcdef")
	testNow    = time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)
)

func issue(t *testing.T, p room.TokenParams) string {
	t.Helper()
	if p.Room == "" {
		p.Room = "tuesday-grief"
	}
	if p.Identity == "" {
		p.Identity = "client-04"
	}
	if p.Name == "" {
		p.Name = "Rae"
	}
	if p.Role == "" {
		p.Role = room.RoleMember
	}
	if p.TTL == 0 {
		p.TTL = 2 * time.Hour
	}
	if p.Now.IsZero() {
		p.Now = testNow
	}
	tok, err := room.IssueToken(testSecret, p)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// claimsMap is a valid claim set for hand-made tokens.
func claimsMap() jwt.MapClaims {
	return jwt.MapClaims{
		"iss": room.TokenIssuer, "sub": "client-04", "room": "tuesday-grief", "name": "Rae", "role": "member",
		"iat": testNow.Unix(), "nbf": testNow.Unix(), "exp": testNow.Add(time.Hour).Unix(),
	}
}

func b64(v any) string {
	raw, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(raw)
}

func TestTokenRoundTrip(t *testing.T) {
	tok := issue(t, room.TokenParams{Role: room.RoleCoFacilitator, Name: "  Dr Lee "})
	c, err := room.VerifyTokenFor(testSecret, tok, "tuesday-grief", testNow.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	want := room.Claims{Room: "tuesday-grief", Identity: "client-04", Name: "Dr Lee", Role: room.RoleCoFacilitator,
		IssuedAt: testNow, NotBefore: testNow, ExpiresAt: testNow.Add(2 * time.Hour)}
	if !c.IssuedAt.Equal(want.IssuedAt) || !c.NotBefore.Equal(want.NotBefore) || !c.ExpiresAt.Equal(want.ExpiresAt) {
		t.Fatalf("times = %+v, want %+v", c, want)
	}
	c.IssuedAt, c.NotBefore, c.ExpiresAt = want.IssuedAt, want.NotBefore, want.ExpiresAt
	if c != want {
		t.Fatalf("claims = %+v, want %+v", c, want)
	}
	// The header says HS256 and the payload carries the documented claims.
	parts := strings.Split(tok, ".")
	hdr, _ := base64.RawURLEncoding.DecodeString(parts[0])
	body, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if !strings.Contains(string(hdr), `"alg":"HS256"`) {
		t.Fatalf("header %s", hdr)
	}
	for _, k := range []string{`"room":`, `"sub":`, `"name":`, `"role":`, `"exp":`, `"nbf":`, `"iat":`} {
		if !strings.Contains(string(body), k) {
			t.Errorf("payload %s lacks %s", body, k)
		}
	}
}

func TestIssueTokenRefusesBadParams(t *testing.T) {
	base := room.TokenParams{Room: "r", Identity: "i", Name: "N", Role: room.RoleMember, TTL: time.Hour, Now: testNow}
	cases := map[string]func(p *room.TokenParams){
		"room":     func(p *room.TokenParams) { p.Room = "a b" },
		"identity": func(p *room.TokenParams) { p.Identity = "" },
		"name":     func(p *room.TokenParams) { p.Name = " " },
		"role":     func(p *room.TokenParams) { p.Role = "owner" },
		"ttl":      func(p *room.TokenParams) { p.TTL = 0 },
	}
	for what, f := range cases {
		p := base
		f(&p)
		if _, err := room.IssueToken(testSecret, p); !errors.Is(err, room.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", what, err)
		}
	}
	if _, err := room.IssueToken([]byte("short"), base); !errors.Is(err, room.ErrInvalid) {
		t.Errorf("short secret: %v", err)
	}
}

func TestVerifyTokenRefusals(t *testing.T) {
	good := issue(t, room.TokenParams{})
	parts := strings.Split(good, ".")

	hs512, err := jwt.NewWithClaims(jwt.SigningMethodHS512, claimsMap()).SignedString(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	hs384, err := jwt.NewWithClaims(jwt.SigningMethodHS384, claimsMap()).SignedString(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, claimsMap()).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	es256, err := jwt.NewWithClaims(jwt.SigningMethodES256, claimsMap()).SignedString(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	// Algorithm confusion: header claims RS256, signature is an HMAC with
	// the server secret.
	confused := b64(map[string]string{"alg": "RS256", "typ": "JWT"}) + "." + b64(claimsMap())
	mac := hmac.New(sha256.New, testSecret)
	mac.Write([]byte(confused))
	confused += "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))

	hmacToken := func(claims jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(testSecret)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	without := func(k string) string {
		c := claimsMap()
		delete(c, k)
		return hmacToken(c)
	}
	with := func(k string, v any) string {
		c := claimsMap()
		c[k] = v
		return hmacToken(c)
	}
	otherSecret, err := room.IssueToken([]byte("another-secret-of-32-bytes-long!"), room.TokenParams{
		Room: "tuesday-grief", Identity: "client-04", Name: "Rae", Role: room.RoleFacilitator, TTL: time.Hour, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	tamperedPayload := b64(func() jwt.MapClaims { c := claimsMap(); c["role"] = "facilitator"; return c }())

	cases := []struct {
		name  string
		token string
		now   time.Time
		want  error
		code  room.Code
	}{
		{"invalid signature (other secret)", otherSecret, testNow, room.ErrTokenInvalid, room.CodeInvalidToken},
		{"tampered payload", parts[0] + "." + tamperedPayload + "." + parts[2], testNow, room.ErrTokenInvalid, room.CodeInvalidToken},
		{"truncated signature", parts[0] + "." + parts[1] + "." + parts[2][:10], testNow, room.ErrTokenInvalid, room.CodeInvalidToken},
		{"expired", good, testNow.Add(2*time.Hour + room.TokenLeeway + time.Second), room.ErrTokenExpired, room.CodeTokenExpired},
		{"not yet valid", good, testNow.Add(-room.TokenLeeway - 2*time.Second), room.ErrTokenNotYetValid, room.CodeTokenExpired},
		{"nbf in the future", with("nbf", testNow.Add(time.Hour).Unix()), testNow, room.ErrTokenNotYetValid, room.CodeTokenExpired},
		{"alg none", none, testNow, room.ErrTokenInvalid, room.CodeInvalidToken},
		{"alg none, no signature", strings.TrimSuffix(none, "."), testNow, room.ErrTokenInvalid, room.CodeInvalidToken},
		{"HS512", hs512, testNow, room.ErrTokenInvalid, room.CodeInvalidToken},
		{"HS384", hs384, testNow, room.ErrTokenInvalid, room.CodeInvalidToken},
		{"ES256", es256, testNow, room.ErrTokenInvalid, room.CodeInvalidToken},
		{"RS256 header with HMAC signature", confused, testNow, room.ErrTokenInvalid, room.CodeInvalidToken},
		{"garbage", "not.a.jwt", testNow, room.ErrTokenInvalid, room.CodeInvalidToken},
		{"empty", "", testNow, room.ErrTokenInvalid, room.CodeInvalidToken},
		{"two parts", parts[0] + "." + parts[1], testNow, room.ErrTokenInvalid, room.CodeInvalidToken},
		{"no exp", without("exp"), testNow, room.ErrTokenInvalid, room.CodeInvalidToken},
		{"no sub", without("sub"), testNow, room.ErrTokenInvalid, room.CodeInvalidToken},
		{"no room", without("room"), testNow, room.ErrTokenInvalid, room.CodeInvalidToken},
		{"no name", without("name"), testNow, room.ErrTokenInvalid, room.CodeInvalidToken},
		{"wrong issuer", with("iss", "someone-else"), testNow, room.ErrTokenInvalid, room.CodeInvalidToken},
		{"unknown role", with("role", "admin"), testNow, room.ErrTokenInvalid, room.CodeInvalidToken},
		{"role of wrong type", with("role", 7), testNow, room.ErrTokenInvalid, room.CodeInvalidToken},
		{"exp of wrong type", with("exp", "tomorrow"), testNow, room.ErrTokenInvalid, room.CodeInvalidToken},
		{"forged and expired", otherSecret, testNow.Add(48 * time.Hour), room.ErrTokenInvalid, room.CodeInvalidToken},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := room.VerifyTokenFor(testSecret, c.token, "tuesday-grief", c.now)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if got := room.ErrorCode(err); got != c.code {
				t.Fatalf("ErrorCode = %q, want %q", got, c.code)
			}
		})
	}

	t.Run("wrong room", func(t *testing.T) {
		_, err := room.VerifyTokenFor(testSecret, good, "another-room", testNow)
		if !errors.Is(err, room.ErrWrongRoom) || room.ErrorCode(err) != room.CodeWrongRoom {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("within leeway", func(t *testing.T) {
		if _, err := room.VerifyToken(testSecret, good, testNow.Add(2*time.Hour+room.TokenLeeway/2)); err != nil {
			t.Fatalf("token refused within leeway: %v", err)
		}
	})
	t.Run("server secret too short", func(t *testing.T) {
		if _, err := room.VerifyToken(nil, good, testNow); !errors.Is(err, room.ErrTokenInvalid) {
			t.Fatalf("err = %v", err)
		}
	})
}
