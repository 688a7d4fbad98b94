package dest

import (
	"errors"
	"fmt"
	"net/netip"
	"syscall"

	"github.com/hookyard/hookyard/internal/outcome"
	"github.com/hookyard/hookyard/internal/webhook"
)

// The SSRF guard runs in the HTTP dialer's Control hook, that is after DNS
// and just before connect(2), on the very address the socket is about to
// reach. Checking there, rather than resolving the host name first and
// checking the answer, is what defeats DNS rebinding: a name that resolved
// to a public address for a check and to 127.0.0.1 for the connection is
// still refused, because the connection's address is the one checked.
//
// IPv6 forms that carry an IPv4 address (IPv4-mapped, IPv4-compatible,
// IPv4-translated, NAT64 and 6to4) are judged by the address they carry, so
// ::ffff:127.0.0.1 and 64:ff9b::a00:5 are refused like 127.0.0.1 and
// 10.0.0.5. Teredo (2001::/32), whose embedded address is obfuscated and
// which needs a local tunnel to route, is not decoded.

// ssrfRule names a forbidden network.
type ssrfRule struct {
	prefix netip.Prefix
	name   string
}

// ssrfRules are the networks refused unless allowed, first match wins.
var ssrfRules = []ssrfRule{
	{netip.MustParsePrefix("0.0.0.0/8"), "unspecified (0.0.0.0/8)"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback"},
	{netip.MustParsePrefix("10.0.0.0/8"), "private (RFC 1918)"},
	{netip.MustParsePrefix("172.16.0.0/12"), "private (RFC 1918)"},
	{netip.MustParsePrefix("192.168.0.0/16"), "private (RFC 1918)"},
	{netip.MustParsePrefix("100.64.0.0/10"), "CGNAT shared address space (RFC 6598)"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast"},
	{netip.MustParsePrefix("255.255.255.255/32"), "broadcast"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved (240.0.0.0/4)"},

	{netip.MustParsePrefix("::/128"), "unspecified"},
	{netip.MustParsePrefix("::1/128"), "loopback"},
	{netip.MustParsePrefix("fc00::/7"), "private (unique local, fc00::/7)"},
	{netip.MustParsePrefix("fe80::/10"), "link-local"},
	{netip.MustParsePrefix("fec0::/10"), "private (site-local, fec0::/10)"},
	{netip.MustParsePrefix("ff00::/8"), "multicast"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "NAT64 local-use (RFC 8215)"},
}

// metadataAddrs are cloud instance-metadata and credential endpoints. They
// are refused even inside an allowed network: no webhook has any business
// there, and reaching one hands out the host's cloud credentials.
var metadataAddrs = []netip.Addr{
	netip.MustParseAddr("169.254.169.254"), // AWS, GCP, Azure, OCI, DigitalOcean, …
	netip.MustParseAddr("169.254.170.2"),   // AWS ECS task credentials
	netip.MustParseAddr("169.254.170.23"),  // AWS EKS pod identity
	netip.MustParseAddr("100.100.100.200"), // Alibaba Cloud
	netip.MustParseAddr("fd00:ec2::254"),   // AWS IMDS over IPv6
	netip.MustParseAddr("fd00:ec2::23"),    // AWS EKS pod identity over IPv6
}

// v4Embeddings are the IPv6 forms that carry an IPv4 address: the prefix
// and the byte offset of the four IPv4 bytes.
var v4Embeddings = []struct {
	prefix netip.Prefix
	offset int
	form   string
}{
	{netip.MustParsePrefix("::ffff:0:0/96"), 12, "IPv4-mapped"},
	{netip.MustParsePrefix("::ffff:0:0:0/96"), 12, "IPv4-translated"},
	{netip.MustParsePrefix("64:ff9b::/96"), 12, "NAT64"},
	{netip.MustParsePrefix("::/96"), 12, "IPv4-compatible"},
	{netip.MustParsePrefix("2002::/16"), 2, "6to4"},
}

// SSRFError is why the guard refused an address. The worker records it
// with class ssrf_blocked as a permanent failure.
type SSRFError struct {
	Addr     netip.Addr // the address the connection was going to
	Embedded netip.Addr // the IPv4 address Addr carries, when that is what was judged
	Form     string     // how Addr carries Embedded: "IPv4-mapped", "NAT64", …
	Rule     string     // the forbidden network's name; "" for a metadata address
	Metadata bool       // a cloud metadata address: never allowed
}

func (e *SSRFError) Error() string {
	what := e.Addr.String() + " is"
	if e.Embedded.IsValid() {
		what = fmt.Sprintf("%s is %s %s, which is", e.Addr, e.Form, e.Embedded)
	}
	if e.Metadata {
		return fmt.Sprintf("ssrf: %s a cloud metadata address; it is never allowed", what)
	}
	return fmt.Sprintf("ssrf: %s %s; allow it with destinations[].allow_private (or server.allow_private)", what, e.Rule)
}

// CheckAddress returns an *SSRFError if the guard refuses a connection to
// addr, or nil. Addresses inside allow pass unless they are cloud metadata
// addresses. A zone (fe80::1%eth0) is ignored.
func CheckAddress(addr netip.Addr, allow []netip.Prefix) error {
	addr = addr.WithZone("")
	embedded, form := embeddedV4(addr)
	if isMetadata(addr) {
		return &SSRFError{Addr: addr, Metadata: true}
	}
	if embedded.IsValid() && isMetadata(embedded) {
		return &SSRFError{Addr: addr, Embedded: embedded, Form: form, Metadata: true}
	}
	rule := ssrfRuleFor(addr)
	judged := addr
	if rule == "" && embedded.IsValid() {
		rule, judged = ssrfRuleFor(embedded), embedded
	}
	if rule == "" || allowed(addr, allow) || embedded.IsValid() && allowed(embedded, allow) {
		return nil
	}
	e := &SSRFError{Addr: addr, Rule: rule}
	if judged != addr {
		e.Embedded, e.Form = embedded, form
	}
	return e
}

func isMetadata(a netip.Addr) bool {
	for _, m := range metadataAddrs {
		if a == m {
			return true
		}
	}
	return false
}

func ssrfRuleFor(a netip.Addr) string {
	for _, r := range ssrfRules {
		if r.prefix.Contains(a) {
			return r.name
		}
	}
	return ""
}

// embeddedV4 returns the IPv4 address an IPv6 address carries, and the
// form that carries it; the zero Addr if none. :: and ::1 carry none.
func embeddedV4(a netip.Addr) (netip.Addr, string) {
	if !a.Is6() || a == netip.IPv6Unspecified() || a == netip.IPv6Loopback() {
		return netip.Addr{}, ""
	}
	b := a.As16()
	for _, e := range v4Embeddings {
		if e.prefix.Contains(a) {
			return netip.AddrFrom4([4]byte(b[e.offset : e.offset+4])), e.form
		}
	}
	return netip.Addr{}, ""
}

func allowed(a netip.Addr, allow []netip.Prefix) bool {
	for _, p := range allow {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ssrfControl returns a net.Dialer Control func that refuses what
// CheckAddress refuses, and then runs next (if any). The refusal is an
// *outcome.Error: permanent, class ssrf_blocked, wrapping the *SSRFError.
func ssrfControl(allow []netip.Prefix, next func(network, address string, c syscall.RawConn) error) func(network, address string, c syscall.RawConn) error {
	return func(network, address string, c syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			// The dialer always passes ip:port; refuse rather than guess.
			return blocked(fmt.Errorf("ssrf: cannot check address %q: %w", address, err))
		}
		if err := CheckAddress(ap.Addr(), allow); err != nil {
			return blocked(err)
		}
		if next != nil {
			return next(network, address, c)
		}
		return nil
	}
}

func blocked(err error) error {
	return &outcome.Error{Err: err, Permanent: true, Class: webhook.ClassSSRFBlocked}
}

// IsSSRF reports whether err is, or wraps, a refusal by the guard.
func IsSSRF(err error) bool {
	_, ok := errors.AsType[*SSRFError](err)
	return ok
}
