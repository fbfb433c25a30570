package dispatch

import (
	"context"

	"github.com/restic-manager/restic-manager/server/internal/notify"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

// UpdateRepository validates and applies a change to a repository; the host's schedule
// set changes with it. Secrets that are not sent keep their stored values.
func (d *Dispatcher) UpdateRepository(ctx context.Context, hostID, id string, in store.RepositoryUpdate) (store.Repository, error) {
	cur, err := d.store.Repository(ctx, hostID, id)
	if err != nil {
		return store.Repository{}, err
	}
	// Validate the repository as it will be: a placeholder stands for a kept password.
	merged := store.RepositoryInput{Name: cur.Name, URL: cur.URL, Password: "(kept)", RestUsername: cur.RestUsername}
	if in.Name != nil {
		merged.Name = *in.Name
	}
	if in.URL != nil {
		merged.URL = *in.URL
	}
	if in.Password != nil {
		merged.Password = *in.Password
	}
	if in.Env != nil {
		merged.Env = *in.Env
	}
	if err := ValidateRepository(merged); err != nil {
		return store.Repository{}, err
	}
	r, err := d.store.UpdateRepository(ctx, hostID, id, in)
	if err != nil {
		return store.Repository{}, err
	}
	d.schedulesChanged(ctx, hostID)
	return r, nil
}

// DeleteRepository removes a repository and its schedules.
func (d *Dispatcher) DeleteRepository(ctx context.Context, hostID, id string) error {
	if err := d.store.DeleteRepository(ctx, hostID, id); err != nil {
		return err
	}
	d.schedulesChanged(ctx, hostID)
	return nil
}

// DecommissionHost retires a host, revokes its credential and tells every server
// process to forget the credential it may have cached, so the agent is refused at once.
func (d *Dispatcher) DecommissionHost(ctx context.Context, hostID string) (store.Host, error) {
	h, err := d.store.DecommissionHost(ctx, hostID)
	if err != nil {
		return store.Host{}, err
	}
	d.publish(ctx, notify.Event{HostID: hostID, CredentialsChanged: true})
	return h, nil
}
