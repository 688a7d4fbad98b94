package alert

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/deliver"
)

// smtpTimeout bounds one whole SMTP conversation.
const smtpTimeout = 30 * time.Second

func emailSender(c config.SMTP) sender {
	return func(ctx context.Context, in *Incident, now time.Time) error {
		return sendMail(ctx, c, emailMessage(c.From, c.To, in, now))
	}
}

// emailMessage builds a plain-text message. The resolved message replies
// to the firing one (In-Reply-To), so mail clients thread an incident.
func emailMessage(from string, to []string, in *Incident, now time.Time) []byte {
	var b bytes.Buffer
	state := "FIRING"
	if in.State == StateResolved {
		state = "RESOLVED"
	}
	subject := fmt.Sprintf("[hookyard %s] %s: %s", state, in.Severity, in.Summary)
	fmt.Fprintf(&b, "From: %s\r\n", from)
	fmt.Fprintf(&b, "To: %s\r\n", strings.Join(to, ", "))
	fmt.Fprintf(&b, "Subject: %s\r\n", headerSafe(subject))
	fmt.Fprintf(&b, "Date: %s\r\n", now.UTC().Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: %s\r\n", messageID(in, in.State))
	if in.State == StateResolved {
		fmt.Fprintf(&b, "In-Reply-To: %s\r\nReferences: %s\r\n", messageID(in, StateFiring), messageID(in, StateFiring))
	}
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\r\n", args...) }
	line("%s (%s): %s", state, in.Severity, in.Summary)
	line("")
	for _, f := range in.Facts {
		line("%s: %s", f.Name, f.Value)
	}
	if len(in.ErrorSamples) > 0 {
		line("")
		line("Top errors:")
		for _, s := range in.ErrorSamples {
			line("  %s", s)
		}
	}
	line("")
	line("Alert:   %s", in.Key)
	line("Since:   %s", in.StartedAt.UTC().Format(time.RFC3339))
	if in.State == StateResolved {
		line("Resolved: %s (after %s)", in.ResolvedAt.UTC().Format(time.RFC3339), in.ResolvedAt.Sub(in.StartedAt).Round(time.Second))
	}
	line("Runbook: %s", in.RunbookURL)
	return dotSafe(b.Bytes())
}

func messageID(in *Incident, state string) string {
	sum := sha256.Sum256([]byte(in.Key + "\x00" + strconv.FormatInt(in.StartedAt.UnixNano(), 10)))
	return "<" + hex.EncodeToString(sum[:12]) + "." + state + "@hookyard>"
}

// headerSafe keeps a header value on one line.
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}

// dotSafe normalises line ends to CRLF; net/smtp's data writer
// dot-stuffs lines that start with ".".
func dotSafe(b []byte) []byte {
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))
}

// sendMail is smtp.SendMail with a deadline: STARTTLS when the server
// offers it, AUTH PLAIN when a username is configured (net/smtp refuses
// to send credentials unencrypted except to localhost). 5xx replies are
// permanent; anything else retries.
func sendMail(ctx context.Context, c config.SMTP, msg []byte) (err error) {
	addr := net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
	ctx, cancel := context.WithTimeout(ctx, smtpTimeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("email: %w", err)
	}
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	cl, err := smtp.NewClient(conn, c.Host)
	if err != nil {
		conn.Close()
		return smtpErr(err)
	}
	defer cl.Close()
	if err := cl.Hello("hookyard"); err != nil {
		return smtpErr(err)
	}
	if ok, _ := cl.Extension("STARTTLS"); ok {
		if err := cl.StartTLS(&tls.Config{ServerName: c.Host, MinVersion: tls.VersionTLS12}); err != nil {
			return smtpErr(err)
		}
	}
	if c.Username != "" {
		if err := cl.Auth(smtp.PlainAuth("", c.Username, c.Password, c.Host)); err != nil {
			// Rejected credentials, or net/smtp refusing to send them
			// unencrypted: retrying cannot help unless the server said 4xx.
			if te, ok := errors.AsType[*textproto.Error](err); ok && te.Code < 500 {
				return smtpErr(err)
			}
			return deliver.Permanent(fmt.Errorf("email: authentication: %w", err))
		}
	}
	if err := cl.Mail(c.From); err != nil {
		return smtpErr(err)
	}
	for _, to := range c.To {
		if err := cl.Rcpt(to); err != nil {
			return smtpErr(err)
		}
	}
	w, err := cl.Data()
	if err != nil {
		return smtpErr(err)
	}
	if _, err := w.Write(msg); err != nil {
		return smtpErr(err)
	}
	if err := w.Close(); err != nil {
		return smtpErr(err)
	}
	return smtpErr(cl.Quit())
}

func smtpErr(err error) error {
	if err == nil {
		return nil
	}
	err = fmt.Errorf("email: %w", err)
	if te, ok := errors.AsType[*textproto.Error](err); ok && te.Code >= 500 {
		return deliver.Permanent(err)
	}
	return err
}
