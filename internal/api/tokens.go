package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/webhook"
)

// Token lifetimes: a token always expires.
const (
	DefaultTokenTTL = 90 * 24 * time.Hour
	MaxTokenTTL     = 366 * 24 * time.Hour
	minTokenTTL     = time.Minute
)

// tokenNameRE is the config file's name rule, so stored and configured
// token names read alike in the audit log.
var tokenNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

// TokenRequest is the body of POST /api/v1/tokens.
type TokenRequest struct {
	Name string `json:"name"`
	Role string `json:"role"` // viewer, operator or admin
	// ExpiresIn is a Go duration ("720h"); default 2160h (90 days), at
	// most 8784h (366 days).
	ExpiresIn string `json:"expires_in,omitempty"`
}

// TokenInfo describes a token without its secret: GET /api/v1/tokens.
// Source is "api" for a token created through the API, "config" for one
// from the config file (which has no id and is managed in the file).
type TokenInfo struct {
	ID         string    `json:"id,omitempty"`
	Name       string    `json:"name"`
	Role       string    `json:"role"`
	Source     string    `json:"source"`
	State      string    `json:"state"` // active, expired or revoked
	CreatedAt  time.Time `json:"created_at,omitzero"`
	CreatedBy  string    `json:"created_by,omitempty"`
	ExpiresAt  time.Time `json:"expires_at,omitzero"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
	RevokedAt  time.Time `json:"revoked_at,omitzero"`
}

// CreatedToken answers POST /api/v1/tokens. Token is the bearer token
// itself: it is shown this once and cannot be retrieved again.
type CreatedToken struct {
	TokenInfo
	Token string `json:"token"`
}

// TokenList answers GET /api/v1/tokens: configured tokens first, then
// stored ones, newest first.
type TokenList struct {
	Tokens []TokenInfo `json:"tokens"`
}

var errNoTokenStore = fmt.Errorf("%w: this store keeps no API tokens; use admin.tokens in the config", webhook.ErrNotFound)

// POST /api/v1/tokens
func (s *server) tokenCreate(w http.ResponseWriter, r *http.Request, caller who) error {
	if s.tokens == nil {
		return errNoTokenStore
	}
	var req TokenRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	ttl := DefaultTokenTTL
	switch {
	case !tokenNameRE.MatchString(req.Name):
		return invalid("name", "use 1-64 of a-z, 0-9, _ . - starting with a letter or digit, got %q", req.Name)
	case parseRole(req.Role) == roleNone:
		return invalid("role", "want viewer, operator or admin, got %q", req.Role)
	case s.auth.configName(req.Name):
		return fmt.Errorf("%w: name %q belongs to a token in the config file", errConflict, req.Name)
	case req.ExpiresIn != "":
		d, err := time.ParseDuration(req.ExpiresIn)
		if err != nil || d < minTokenTTL || d > MaxTokenTTL {
			return invalid("expires_in", "want a duration from 1m to %s (e.g. 720h), got %q", MaxTokenTTL, req.ExpiresIn)
		}
		ttl = d
	}
	tok, id, err := newStoredToken()
	if err != nil {
		return fmt.Errorf("token: random: %w", err)
	}
	now := s.now().UTC()
	t := store.Token{ID: id, Name: req.Name, Role: req.Role, Digest: digest(tok), CreatedAt: now,
		CreatedBy: caller.name, ExpiresAt: now.Add(ttl)}
	if err := s.tokens.TokenCreate(r.Context(), t); err != nil {
		if errors.Is(err, store.ErrTokenNameTaken) {
			return fmt.Errorf("%w: a token named %q exists (names of revoked tokens stay taken)", errConflict, req.Name)
		}
		return err
	}
	noteAudit(r, id, fmt.Sprintf("name=%s role=%s expires_at=%s", t.Name, t.Role, t.ExpiresAt.Format(time.RFC3339)), false)
	s.log.Info("admin token created", "token_id", id, "token_name", t.Name, "role", t.Role, "by", caller.name)
	return writeJSON(w, http.StatusCreated, CreatedToken{TokenInfo: tokenInfo(&t, now), Token: tok})
}

// GET /api/v1/tokens
func (s *server) tokenList(w http.ResponseWriter, r *http.Request, _ who) error {
	if _, err := params(r, nil); err != nil {
		return err
	}
	out := TokenList{Tokens: []TokenInfo{}}
	for _, c := range s.auth.creds {
		out.Tokens = append(out.Tokens, TokenInfo{Name: c.name, Role: c.role.String(), Source: "config", State: "active"})
	}
	if s.tokens != nil {
		ts, err := s.tokens.TokenList(r.Context())
		if err != nil {
			return err
		}
		now := s.now()
		for i := range ts {
			out.Tokens = append(out.Tokens, tokenInfo(&ts[i], now))
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

// DELETE /api/v1/tokens/{id}: revokes a stored token at once; revoking a
// revoked token answers it unchanged.
func (s *server) tokenRevoke(w http.ResponseWriter, r *http.Request, caller who) error {
	if s.tokens == nil {
		return errNoTokenStore
	}
	id := r.PathValue("id")
	t, err := s.tokens.TokenRevoke(r.Context(), id, s.now())
	if err != nil {
		return err
	}
	noteAudit(r, id, "name="+t.Name, false)
	s.log.Info("admin token revoked", "token_id", id, "token_name", t.Name, "by", caller.name)
	return writeJSON(w, http.StatusOK, tokenInfo(&t, s.now()))
}

func tokenInfo(t *store.Token, now time.Time) TokenInfo {
	state := "active"
	switch {
	case !t.RevokedAt.IsZero():
		state = "revoked"
	case !now.Before(t.ExpiresAt):
		state = "expired"
	}
	return TokenInfo{ID: t.ID, Name: t.Name, Role: t.Role, Source: "api", State: state, CreatedAt: utc(t.CreatedAt),
		CreatedBy: t.CreatedBy, ExpiresAt: utc(t.ExpiresAt), LastUsedAt: utc(t.LastUsedAt), RevokedAt: utc(t.RevokedAt)}
}

// configName reports whether a configured token has name.
func (a *Authenticator) configName(name string) bool {
	for _, c := range a.creds {
		if c.name == name {
			return true
		}
	}
	return false
}

// CreateToken creates a stored token; the answer holds the token itself,
// which cannot be retrieved again.
func (c *Client) CreateToken(ctx context.Context, req TokenRequest) (CreatedToken, error) {
	var out CreatedToken
	return out, c.do(ctx, http.MethodPost, "/api/v1/tokens", nil, req, &out)
}

// Tokens lists the configured and stored tokens, without secrets.
func (c *Client) Tokens(ctx context.Context) (TokenList, error) {
	var out TokenList
	return out, c.do(ctx, http.MethodGet, "/api/v1/tokens", nil, nil, &out)
}

// RevokeToken revokes a stored token and returns it.
func (c *Client) RevokeToken(ctx context.Context, id string) (TokenInfo, error) {
	var out TokenInfo
	return out, c.do(ctx, http.MethodDelete, "/api/v1/tokens/"+url.PathEscape(id), nil, nil, &out)
}
