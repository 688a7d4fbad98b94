package console

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/hookyard/hookyard/internal/api"
)

// GET /console/login
func (c *Console) loginForm(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if sess, _ := c.sessions.get(r); sess != nil {
		http.Redirect(w, r, "/console/", http.StatusSeeOther)
		return
	}
	c.renderLogin(w, r, http.StatusOK, "")
}

func (c *Console) renderLogin(w http.ResponseWriter, r *http.Request, status int, msg string) {
	csrf := randomToken()
	setCookie(w, r, loginCookie, csrf, c.sessions.ttl)
	c.render(w, r, nil, status, "login", map[string]any{"CSRF": csrf, "Message": msg})
}

// POST /console/login: the token is checked by the admin API itself
// (GET /api/v1/whoami), so every kind of token the API accepts logs in,
// with the role the API gives it.
func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	// Every attempt counts, before the form is even read, so guessing
	// tokens from one address is slow whatever the guesses look like.
	if ok, wait := c.logins.allow(clientAddr(r), c.now()); !ok {
		secs := int(math.Ceil(wait.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		c.log.Warn("console login rate limited", "remote", r.RemoteAddr)
		c.renderLogin(w, r, http.StatusTooManyRequests,
			fmt.Sprintf("Too many login attempts from your address. Try again in %d seconds.", secs))
		return
	}
	ck, err := r.Cookie(loginCookie)
	if err != nil || ck.Value == "" {
		c.renderLogin(w, r, http.StatusForbidden, "The login form expired. Try again.")
		return
	}
	if err := checkPost(r, ck.Value); err != nil {
		var pe *pageError
		if errors.As(err, &pe) && pe != errCSRF {
			c.renderLogin(w, r, pe.status, pe.msg)
			return
		}
		c.renderLogin(w, r, http.StatusForbidden, "The login form expired. Try again.")
		return
	}
	token := strings.TrimSpace(r.PostForm.Get("token"))
	if token == "" {
		c.renderLogin(w, r, http.StatusBadRequest, "Enter an admin token.")
		return
	}
	ctx := context.WithValue(r.Context(), remoteKey{}, r.RemoteAddr)
	id, err := c.client(token).Whoami(ctx)
	var p *api.Problem
	switch {
	case errors.As(err, &p) && p.Status == http.StatusUnauthorized:
		c.log.Info("console login refused", "remote", r.RemoteAddr)
		c.renderLogin(w, r, http.StatusUnauthorized, "That token is not valid.")
		return
	case err != nil:
		c.log.Error("console login failed", "remote", r.RemoteAddr, "error", err.Error())
		c.renderLogin(w, r, http.StatusServiceUnavailable, "Login is unavailable; see the server log.")
		return
	}
	sid, err := c.sessions.create(r.Context(), token, id.Name, id.Role)
	if err != nil {
		c.log.Error("console login failed", "remote", r.RemoteAddr, "error", err.Error())
		c.renderLogin(w, r, http.StatusServiceUnavailable, "Login is unavailable; see the server log.")
		return
	}
	setCookie(w, r, sessionCookie, sid, c.sessions.ttl)
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Path: "/console/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: secure(r)})
	c.log.Info("console login", "name", id.Name, "role", id.Role, "remote", r.RemoteAddr)
	http.Redirect(w, r, "/console/", http.StatusSeeOther)
}

// POST /console/logout
func (c *Console) logout(w http.ResponseWriter, r *http.Request, q *request) error {
	if err := c.sessions.drop(r); err != nil {
		return err // the session stays; the user may retry
	}
	clearSessionCookie(w, r)
	c.log.Info("console logout", "name", q.sess.name)
	http.Redirect(w, r, "/console/login", http.StatusSeeOther)
	return nil
}
