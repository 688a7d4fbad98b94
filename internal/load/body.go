package load

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// orderTemplate is a Shopify orders/create payload, trimmed. The three
// marked slots are rewritten for every body; "note" pads it to the size.
// Numeric slots are right-aligned in spaces (JSON allows whitespace before a
// value), so every body of a run has the same length and layout and Next
// only copies bytes and writes digits: no marshalling per request.
const orderTemplate = `{"id":@ID@,"admin_graphql_api_id":"gid://shopify/Order/450789469","app_id":580111,` +
	`"bench_id":"@KEY@","bench_sent_ns":@SENT@,` +
	`"browser_ip":"203.0.113.7","buyer_accepts_marketing":false,"created_at":"2026-11-28T10:01:09-05:00",` +
	`"currency":"USD","current_subtotal_price":"199.00","current_total_price":"219.47","current_total_tax":"11.94",` +
	`"email":"bob.norman@example.com","financial_status":"paid","fulfillment_status":null,"name":"#1001",` +
	`"order_number":1001,"presentment_currency":"USD","source_name":"web","subtotal_price":"199.00",` +
	`"tags":"bench","taxes_included":false,"test":true,"total_discounts":"0.00","total_price":"219.47",` +
	`"total_tax":"11.94","total_weight":0,"updated_at":"2026-11-28T10:01:10-05:00",` +
	`"customer":{"id":207119551,"email":"bob.norman@example.com","first_name":"Bob","last_name":"Norman",` +
	`"state":"enabled","verified_email":true,"currency":"USD"},` +
	`"line_items":[{"id":466157049,"product_id":632910392,"variant_id":39072856,"sku":"IPOD2008GREEN",` +
	`"title":"IPod Nano - 8gb","variant_title":"green","vendor":"Apple","quantity":1,"price":"199.00",` +
	`"requires_shipping":true,"taxable":true,"fulfillment_service":"manual","grams":200}],` +
	`"shipping_address":{"first_name":"Bob","last_name":"Norman","address1":"Chestnut Street 92",` +
	`"city":"Louisville","province":"Kentucky","province_code":"KY","zip":"40202","country":"United States",` +
	`"country_code":"US","phone":"+1(502)-459-2181"},` +
	`"shipping_lines":[{"code":"INT.TP","price":"4.00","source":"shopify","title":"Small Packet International Air"}],` +
	`"note":"@NOTE@"}`

// Widths of the numeric slots: an int64 has at most 19 digits and a sign.
const (
	idWidth   = 20
	sentWidth = 20
	seqWidth  = 12 // digits of the sequence number in bench_id
)

// Bodies makes unique, valid JSON bodies of exactly one size from a
// template: each carries its own order id, a bench_id (the delivery id the
// request is signed with, so dedup never fires) and bench_sent_ns, the time
// the request was due to be sent, which the sink reads.
type Bodies struct {
	tmpl                   []byte
	idAt, keyAt, seqAt     int
	sentAt, keyLen, minLen int
}

// NewBodies returns a generator of size-byte bodies whose bench_id starts
// with runID (which keeps ids unique across runs against one store).
func NewBodies(size int, runID string) (*Bodies, error) {
	if strings.ContainsAny(runID, "\"\\") || len(runID) > 64 {
		return nil, errors.New("load: run id must be at most 64 characters, without quotes or backslashes")
	}
	key := runID + "-" + strings.Repeat("0", seqWidth)
	t := strings.Replace(orderTemplate, "@ID@", strings.Repeat(" ", idWidth), 1)
	t = strings.Replace(t, "@KEY@", key, 1)
	t = strings.Replace(t, "@SENT@", strings.Repeat(" ", sentWidth), 1)
	minLen := len(t) - len("@NOTE@")
	if size < minLen {
		return nil, fmt.Errorf("load: body size %d is below the template's %d bytes", size, minLen)
	}
	t = strings.Replace(t, "@NOTE@", strings.Repeat("x", size-minLen), 1)
	b := &Bodies{tmpl: []byte(t), keyLen: len(key), minLen: minLen}
	b.idAt = strings.Index(t, `"id":`) + len(`"id":`)
	b.keyAt = strings.Index(t, `"bench_id":"`) + len(`"bench_id":"`)
	b.seqAt = b.keyAt + len(key) - seqWidth
	b.sentAt = strings.Index(t, `"bench_sent_ns":`) + len(`"bench_sent_ns":`)
	return b, nil
}

// MinSize is the smallest size NewBodies accepts for the same run id.
func (b *Bodies) MinSize() int { return b.minLen }

// Next returns body number n (n ≥ 0) stamped with sent, and its delivery id.
// The body is a fresh slice: the caller may hand it to a request.
func (b *Bodies) Next(n int64, sent time.Time) (body []byte, id string) {
	body = make([]byte, len(b.tmpl))
	copy(body, b.tmpl)
	putRight(body[b.idAt:b.idAt+idWidth], 450789469_000000000+n)
	putZeroPadded(body[b.seqAt:b.seqAt+seqWidth], n)
	putRight(body[b.sentAt:b.sentAt+sentWidth], sent.UnixNano())
	return body, string(body[b.keyAt : b.keyAt+b.keyLen])
}

// putRight writes v right-aligned into slot, which holds spaces.
func putRight(slot []byte, v int64) {
	var d [20]byte
	s := strconv.AppendInt(d[:0], v, 10)
	copy(slot[len(slot)-len(s):], s)
}

// putZeroPadded writes v into slot with leading zeros (inside a string,
// where they are allowed); n beyond the slot keeps its last digits.
func putZeroPadded(slot []byte, v int64) {
	for i := len(slot) - 1; i >= 0; i-- {
		slot[i] = byte('0' + v%10)
		v /= 10
	}
}
