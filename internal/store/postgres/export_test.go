package postgres

import "context"

// The claim statements, for the plan test.
var (
	ClaimQuery    = claimQuery
	ClaimGapQuery = claimGapQuery
)

// QueueSetting reads a setting on a connection of the queue pool.
func QueueSetting(ctx context.Context, s *Store, name string) (string, error) {
	var v string
	err := s.queue.QueryRow(ctx, `SELECT current_setting($1)`, name).Scan(&v)
	return v, err
}

// RetentionLock is the retention statement that locks candidates'
// deliveries, for the plan test.
var RetentionLock = retentionLock

// DeadCountQuery is the queue metrics' dead-letter count, for the plan test.
const DeadCountQuery = deadCountQuery
