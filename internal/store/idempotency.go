package store

// Idempotency keys (package idempotency): a template building block. A
// write records its response with CompleteIdempotencyKey in its own
// transaction, so the key and the effect commit together.

import (
	"bytes"
	"context"
	"database/sql"
	"time"

	"github.com/dozen-go/dozen/internal/idempotency"
)

// ClaimIdempotencyKey claims c's key for a request. It returns the
// stored response when the key was already served with the same request,
// idempotency.ErrKeyReused when with another, and
// idempotency.ErrKeyInFlight while another request holds the claim. A
// claim older than c.StaleAfter without a response, or an expired key, is
// taken over.
func (s *Store) ClaimIdempotencyKey(ctx context.Context, c idempotency.Claim) (*idempotency.Response, error) {
	now := c.Now.UTC().Truncate(time.Microsecond)
	var stored *idempotency.Response
	err := s.InTx(ctx, "claim idempotency key", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			`INSERT INTO idempotency_keys (scope, key, request_hash, claim_id, created_at, expires_at)
			 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (scope, key) DO NOTHING`,
			c.Scope, c.Key, c.Hash, c.ID, now, now.Add(c.TTL))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return nil // claimed
		}
		var (
			hash                  []byte
			status                sql.NullInt64
			contentType, location sql.NullString
			body                  []byte
			createdAt             time.Time
			expiresAt             time.Time
		)
		err = tx.QueryRowContext(ctx,
			`SELECT request_hash, response_status, response_content_type, response_location, response_body, created_at, expires_at
			 FROM idempotency_keys WHERE scope = $1 AND key = $2`, c.Scope, c.Key).
			Scan(&hash, &status, &contentType, &location, &body, &createdAt, &expiresAt)
		if err != nil {
			return err
		}
		expired := !now.Before(expiresAt.UTC())
		stale := !status.Valid && !now.Before(createdAt.UTC().Add(c.StaleAfter))
		switch {
		case expired || stale:
			// Take the key over: it expired, or the request that claimed it
			// can no longer finish (its write would have completed it). The
			// row must still be as read: a completion that committed since
			// (the old request's write landing at its deadline) wins.
			res, err := tx.ExecContext(ctx,
				`UPDATE idempotency_keys SET request_hash = $1, claim_id = $2, response_status = NULL, response_content_type = NULL,
				 response_location = NULL, response_body = NULL, created_at = $3, expires_at = $4
				 WHERE scope = $5 AND key = $6 AND created_at = $7 AND response_status IS NOT DISTINCT FROM $8`,
				c.Hash, c.ID, now, now.Add(c.TTL), c.Scope, c.Key, createdAt, status)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return idempotency.ErrKeyInFlight
			}
			return nil
		case !bytes.Equal(hash, c.Hash):
			return idempotency.ErrKeyReused
		case !status.Valid:
			return idempotency.ErrKeyInFlight
		}
		stored = &idempotency.Response{Status: int(status.Int64), ContentType: contentType.String, Location: location.String, Body: body}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return stored, nil
}

// ReleaseIdempotencyKey drops the unfinished claim that the request
// claimID made, so that a request that wrote nothing can be retried at
// once. A claim that another request holds, or one completed, stays.
func (s *Store) ReleaseIdempotencyKey(ctx context.Context, scope, key, claimID string) error {
	_, err := s.db.ExecContext(ctx,
		`DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND claim_id = $3 AND response_status IS NULL`,
		scope, key, claimID)
	if err != nil {
		return Classify("release idempotency key", err)
	}
	return nil
}

// CompleteIdempotencyKey records done's response under its claimed key in
// tx, the transaction of the write the response describes, so that either
// both happen or neither does. It fails with idempotency.ErrKeyInFlight
// when the claim was lost (taken over after going stale, or released):
// another request owns the key now, or none does, so this one must not
// write.
func CompleteIdempotencyKey(ctx context.Context, tx *sql.Tx, done *idempotency.Completion) error {
	res, err := tx.ExecContext(ctx,
		`UPDATE idempotency_keys SET response_status = $1, response_content_type = $2, response_location = $3, response_body = $4
		 WHERE scope = $5 AND key = $6 AND claim_id = $7 AND response_status IS NULL`,
		done.Status, done.ContentType, done.Location, done.Body, done.Scope, done.Key, done.ClaimID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return idempotency.ErrKeyInFlight
	}
	return nil
}

// PurgeIdempotencyKeys deletes the keys that expired before now, and
// returns how many; a periodic job calls it (jobs.AddIdempotencyPurge).
func (s *Store) PurgeIdempotencyKeys(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE expires_at <= $1`, now.UTC())
	if err != nil {
		return 0, Classify("purge idempotency keys", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
