package notify

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Channel is the PostgreSQL notification channel.
const Channel = "restic_manager_events"

// Postgres is the Bus of server replicas sharing one PostgreSQL database. Publish applies
// the event locally at once and sends a NOTIFY; one dedicated connection per process
// LISTENs (never through a transaction-mode pooler: it would receive nothing).
type Postgres struct {
	url    string
	local  Handler
	pool   *pgxpool.Pool
	logger *slog.Logger
}

// NewPostgres connects a small publishing pool. Run must be called to receive.
func NewPostgres(ctx context.Context, url string, local Handler, logger *slog.Logger) (*Postgres, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("notify: %w", err)
	}
	cfg.MaxConns = 4
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("notify: %w", err)
	}
	return &Postgres{url: url, local: local, pool: pool, logger: logger}, nil
}

// Close releases the publishing pool.
func (p *Postgres) Close() { p.pool.Close() }

// Publish applies ev locally and notifies the other replicas.
func (p *Postgres) Publish(ctx context.Context, ev Event) error {
	p.local.Apply(ev)
	payload, err := encode(ev)
	if err != nil {
		return err
	}
	if _, err := p.pool.Exec(ctx, "SELECT pg_notify($1, $2)", Channel, payload); err != nil {
		return fmt.Errorf("notify: publish: %w", err)
	}
	return nil
}

// Run listens until ctx ends, reconnecting with jittered backoff. After every
// reconnect it calls Reset on the handler, since notifications sent while it was away are lost.
func (p *Postgres) Run(ctx context.Context) error {
	h := p.local
	backoff := 100 * time.Millisecond
	first := true
	for ctx.Err() == nil {
		err := p.listen(ctx, h, func() {
			if !first {
				h.Reset()
			}
			first = false
			backoff = 100 * time.Millisecond
		})
		if ctx.Err() != nil {
			return nil
		}
		p.logger.Warn("notify: listen connection lost; reconnecting", "err", err)
		h.Reset()
		wait := backoff/2 + rand.N(backoff/2+1)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
	return nil
}

func (p *Postgres) listen(ctx context.Context, h Handler, connected func()) error {
	conn, err := pgx.Connect(ctx, p.url)
	if err != nil {
		return fmt.Errorf("notify: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+Channel); err != nil {
		return fmt.Errorf("notify: listen: %w", err)
	}
	connected()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("notify: wait: %w", err)
		}
		ev, err := decode(n.Payload)
		if err != nil {
			p.logger.Warn("notify: bad payload", "err", err)
			continue
		}
		h.Apply(ev)
	}
}
