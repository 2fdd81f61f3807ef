package room

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Token settings.
const (
	// TokenIssuer is the "iss" of every join token; a token from another
	// service that happens to share the secret is refused.
	TokenIssuer = "hearth"
	// TokenLeeway absorbs small clock differences between the issuer and
	// the server.
	TokenLeeway = 5 * time.Second
	// MinSecretLen is the shortest HMAC secret accepted, in bytes.
	MinSecretLen = 16
)

// TokenParams describe a join token to issue.
type TokenParams struct {
	Room     string
	Identity string // stable identity ("sub")
	Name     string // display name
	Role     Role
	TTL      time.Duration // > 0
	Now      time.Time     // zero means time.Now()
}

// Claims are the verified contents of a join token.
type Claims struct {
	Room      string
	Identity  string
	Name      string
	Role      Role
	IssuedAt  time.Time
	NotBefore time.Time
	ExpiresAt time.Time
}

// jwtClaims is the wire form: registered claims plus room, name and role.
type jwtClaims struct {
	Room string `json:"room"`
	Name string `json:"name"`
	Role Role   `json:"role"`
	jwt.RegisteredClaims
}

// IssueToken signs a join token with HMAC-SHA256.
func IssueToken(secret []byte, p TokenParams) (string, error) {
	if len(secret) < MinSecretLen {
		return "", fmt.Errorf("%w: token secret must be at least %d bytes", ErrInvalid, MinSecretLen)
	}
	if !ValidRoomName(p.Room) {
		return "", fmt.Errorf("%w: room name must be 1-%d characters of A-Z a-z 0-9 . _ -", ErrInvalid, MaxNameLen)
	}
	if err := ValidIdentity(p.Identity); err != nil {
		return "", err
	}
	name, err := CleanName(p.Name)
	if err != nil {
		return "", err
	}
	if !p.Role.Valid() {
		return "", fmt.Errorf("%w: unknown role %q", ErrInvalid, p.Role)
	}
	if p.TTL <= 0 {
		return "", fmt.Errorf("%w: token TTL must be positive", ErrInvalid)
	}
	now := p.Now
	if now.IsZero() {
		now = time.Now()
	}
	c := jwtClaims{
		Room: p.Room,
		Name: name,
		Role: p.Role,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    TokenIssuer,
			Subject:   p.Identity,
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(p.TTL)),
		},
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(secret)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return s, nil
}

// VerifyToken checks a join token's signature (HS256 only), times and
// claims, as of now. Errors wrap ErrTokenInvalid, ErrTokenExpired or
// ErrTokenNotYetValid.
func VerifyToken(secret []byte, token string, now time.Time) (Claims, error) {
	if len(secret) < MinSecretLen {
		// A misconfigured server must not accept tokens signed with an
		// empty or trivial key.
		return Claims{}, fmt.Errorf("%w: server token secret is too short", ErrTokenInvalid)
	}
	if now.IsZero() {
		now = time.Now()
	}
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithLeeway(TokenLeeway),
		jwt.WithTimeFunc(func() time.Time { return now }),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithIssuer(TokenIssuer),
	)
	var c jwtClaims
	_, err := p.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) {
		// Belt and braces on top of WithValidMethods: never hand the HMAC
		// secret to a non-HMAC method.
		if _, ok := t.Method.(*jwt.SigningMethodHMAC); !ok {
			return nil, fmt.Errorf("unexpected signing method %v", t.Header["alg"])
		}
		return secret, nil
	})
	if err != nil {
		return Claims{}, mapJWTError(err)
	}
	if !ValidRoomName(c.Room) {
		return Claims{}, fmt.Errorf("%w: bad room claim", ErrTokenInvalid)
	}
	if err := ValidIdentity(c.Subject); err != nil {
		return Claims{}, fmt.Errorf("%w: bad sub claim: %v", ErrTokenInvalid, err)
	}
	if !c.Role.Valid() {
		return Claims{}, fmt.Errorf("%w: bad role claim %q", ErrTokenInvalid, c.Role)
	}
	name, err := CleanName(c.Name)
	if err != nil {
		return Claims{}, fmt.Errorf("%w: bad name claim: %v", ErrTokenInvalid, err)
	}
	out := Claims{Room: c.Room, Identity: c.Subject, Name: name, Role: c.Role, ExpiresAt: c.ExpiresAt.Time}
	if c.IssuedAt != nil {
		out.IssuedAt = c.IssuedAt.Time
	}
	if c.NotBefore != nil {
		out.NotBefore = c.NotBefore.Time
	}
	return out, nil
}

// VerifyTokenFor is VerifyToken plus a check that the token is for room;
// a token for another room wraps ErrWrongRoom.
func VerifyTokenFor(secret []byte, token, room string, now time.Time) (Claims, error) {
	c, err := VerifyToken(secret, token, now)
	if err != nil {
		return Claims{}, err
	}
	if c.Room != room {
		return Claims{}, fmt.Errorf("%w: token is for %q, not %q", ErrWrongRoom, c.Room, room)
	}
	return c, nil
}

// mapJWTError turns the library's errors into ours. Structural problems win
// over time problems, so a forged token is never reported as merely expired.
func mapJWTError(err error) error {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed),
		errors.Is(err, jwt.ErrTokenSignatureInvalid),
		errors.Is(err, jwt.ErrTokenUnverifiable),
		errors.Is(err, jwt.ErrTokenRequiredClaimMissing),
		errors.Is(err, jwt.ErrTokenInvalidIssuer),
		errors.Is(err, jwt.ErrInvalidType):
		return fmt.Errorf("%w: %v", ErrTokenInvalid, err)
	case errors.Is(err, jwt.ErrTokenExpired):
		return fmt.Errorf("%w: %v", ErrTokenExpired, err)
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return fmt.Errorf("%w: %v", ErrTokenNotYetValid, err)
	}
	return fmt.Errorf("%w: %v", ErrTokenInvalid, err)
}
