package store

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/restic-manager/restic-manager/common/protocol"
)

// RestoreRequest asks for a restore job on a host, with one of its repositories.
type RestoreRequest struct {
	RepositoryID string
	Restore      protocol.RestoreSpec
	ActorType    string
	ActorID      string
}

// EnqueueRestore creates a queued restore job and its command.run, atomically. The job
// runs like any other (per-repository queue, progress, logs, cancel).
func (s *Store) EnqueueRestore(ctx context.Context, hostID string, in RestoreRequest) (Job, Command, error) {
	now := s.now()
	var (
		job Job
		cmd Command
	)
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var r Repository
		if err := tx.Where("id = ? AND host_id = ?", in.RepositoryID, hostID).Take(&r).Error; err != nil {
			return notFound(err)
		}
		wr, err := s.WireRepository(r)
		if err != nil {
			return err
		}
		rs := in.Restore
		spec := protocol.RunSpec{JobID: uuid.NewString(), Kind: protocol.KindRestore, Repository: wr, Restore: &rs}
		job = newJob(hostID, spec, in.ActorType, in.ActorID, now)
		if err := tx.Create(&job).Error; err != nil {
			return fmt.Errorf("store: create restore job: %w", err)
		}
		cmd, err = insertCommand(tx, hostID, protocol.CommandRun, job.ID, protocol.Command{Run: &spec}, now)
		return err
	})
	return job, cmd, err
}
