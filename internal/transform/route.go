package transform

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"strconv"

	"github.com/hookyard/hookyard/internal/webhook"
	"github.com/itchyny/gojq"
)

// Filter evaluates a route's filter: true routes the event. The first
// output decides; no output or null is false; any other non-boolean is an
// *Error of kind ErrFailed (a filter of `.body.total_price` is a bug to
// surface, not a truthy string).
//
//	.topic == "orders/create" and (.body.total_price | tonumber) > 0
func (p *Program) Filter(ctx context.Context, input any) (bool, error) {
	v, err := p.First(ctx, input)
	if err != nil {
		return false, err
	}
	switch v := v.(type) {
	case nil:
		return false, nil
	case bool:
		return v, nil
	}
	return false, p.typeError("a filter must give true, false or null", v)
}

// Priority evaluates a route's priority expression: "high", "normal" or
// "low" map to webhook.PriorityHigh, PriorityNormal and PriorityLow; no
// output or null means normal; anything else is an *Error of kind ErrFailed.
//
//	if (.body.total_price | tonumber) >= 500 then "high" else "normal" end
func (p *Program) Priority(ctx context.Context, input any) (int, error) {
	v, err := p.First(ctx, input)
	if err != nil {
		return webhook.PriorityNormal, err
	}
	switch v {
	case nil, "normal":
		return webhook.PriorityNormal, nil
	case "high":
		return webhook.PriorityHigh, nil
	case "low":
		return webhook.PriorityLow, nil
	}
	return webhook.PriorityNormal, p.typeError(`a priority must be "high", "normal" or "low"`, v)
}

// MaxOrderingKey bounds an ordering key's length.
const MaxOrderingKey = 512

// OrderingKey evaluates a route's ordering key: a string as is, a number in
// its shortest decimal form (450789469, not 4.50789469e+08); no output or
// null is "" (no ordering). Anything else, or a key longer than
// MaxOrderingKey bytes, is an *Error of kind ErrFailed.
//
//	.body.id
//	"customer:" + (.body.customer.id | tostring)
func (p *Program) OrderingKey(ctx context.Context, input any) (string, error) {
	v, err := p.First(ctx, input)
	if err != nil {
		return "", err
	}
	var key string
	switch v := v.(type) {
	case nil:
		return "", nil
	case string:
		key = v
	case int:
		key = strconv.Itoa(v)
	case *big.Int:
		key = v.String()
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return "", p.typeError("an ordering key must be a string or a number", v)
		}
		key = strconv.FormatFloat(v, 'f', -1, 64)
	default:
		return "", p.typeError("an ordering key must be a string or a number", v)
	}
	if len(key) > MaxOrderingKey {
		return "", &Error{Kind: ErrFailed, Program: p.name,
			Message: fmt.Sprintf("ordering key is %d bytes, more than %d", len(key), MaxOrderingKey)}
	}
	return key, nil
}

func (p *Program) typeError(want string, got any) error {
	return &Error{Kind: ErrFailed, Program: p.name, Message: fmt.Sprintf("%s, got %s", want, gojq.Preview(got))}
}
