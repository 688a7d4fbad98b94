package alert

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// slackMessage is a Slack incoming-webhook message; Mattermost, Rocket.Chat
// and Teams' Slack-compatible endpoints read the same "text".
type slackMessage struct {
	Text string `json:"text"`
}

func slackSender(client *http.Client, target string) sender {
	return func(ctx context.Context, in *Incident, now time.Time) error {
		return postJSON(ctx, client, "slack", target, nil, slackMessage{Text: slackText(in)}, now)
	}
}

// slackText renders an incident in Slack mrkdwn.
func slackText(in *Incident) string {
	var b strings.Builder
	if in.State == StateResolved {
		fmt.Fprintf(&b, ":white_check_mark: *RESOLVED* (%s) %s\n", in.Severity, slackEscape(in.Summary))
		fmt.Fprintf(&b, "after %s\n", in.ResolvedAt.Sub(in.StartedAt).Round(time.Second))
	} else {
		icon := ":warning:"
		if in.Severity == SeverityCritical {
			icon = ":rotating_light:"
		}
		fmt.Fprintf(&b, "%s *FIRING* (%s) %s\n", icon, in.Severity, slackEscape(in.Summary))
		for _, f := range in.Facts {
			fmt.Fprintf(&b, "• %s: %s\n", slackEscape(f.Name), slackEscape(f.Value))
		}
		if len(in.ErrorSamples) > 0 {
			b.WriteString("Top errors:\n")
			for _, s := range in.ErrorSamples {
				fmt.Fprintf(&b, "• `%s`\n", slackEscape(strings.ReplaceAll(s, "`", "'")))
			}
		}
	}
	fmt.Fprintf(&b, "Runbook: <%s|%s> · alert `%s` · since %s", in.RunbookURL, in.Runbook,
		slackEscape(in.Key), in.StartedAt.UTC().Format(time.RFC3339))
	return b.String()
}

// slackEscape escapes the three characters Slack's mrkdwn reserves.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
