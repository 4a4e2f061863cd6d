package mergelink

import (
	"context"
	"iter"
	"net/http"
	"time"
)

// SyncState is the state of a model's sync, in SyncStatus.Status and
// SyncStatus.LastSyncResult.
type SyncState string

// The states of a sync, as Merge's sync-status endpoint gives them.
const (
	// SyncSyncing: Merge is syncing the model, or a sync is queued.
	SyncSyncing SyncState = "SYNCING"
	// SyncDone: the last sync of the model succeeded.
	SyncDone SyncState = "DONE"
	// SyncFailed: the sync failed.
	SyncFailed SyncState = "FAILED"
	// SyncDisabled: the model is turned off in the common model scopes.
	SyncDisabled SyncState = "DISABLED"
	// SyncPaused: syncs of the model are paused.
	SyncPaused SyncState = "PAUSED"
	// SyncPartiallySynced: some fields of the model failed to sync.
	SyncPartiallySynced SyncState = "PARTIALLY_SYNCED"
)

// SyncStatus is the sync state of one model of a Linked Account.
type SyncStatus struct {
	// ModelName is the common model, such as "Employee".
	ModelName string `json:"model_name"`
	// ModelID names it with its category, such as "hris.Employee".
	ModelID string `json:"model_id"`
	// LastSyncStart is when a sync of the model last began; zero if never.
	LastSyncStart time.Time `json:"last_sync_start"`
	// NextSyncStart is when the next sync is due; zero if unknown.
	NextSyncStart time.Time `json:"next_sync_start"`
	// LastSyncResult is how the last finished sync ended.
	LastSyncResult SyncState `json:"last_sync_result"`
	// LastSyncFinished is when a sync last finished. It may belong to
	// another sync than LastSyncStart: the data is current as of
	// LastSyncFinished when LastSyncResult is SyncDone.
	LastSyncFinished time.Time `json:"last_sync_finished"`
	// Status is the model's current state.
	Status SyncState `json:"status"`
	// IsInitialSync is true until the first sync after linking finished.
	IsInitialSync bool `json:"is_initial_sync"`
	// SelectiveSyncConfigurationsUsage is "IN_NEXT_SYNC" or
	// "IN_LAST_SYNC", when selective sync is configured.
	SelectiveSyncConfigurationsUsage string `json:"selective_sync_configurations_usage,omitempty"`
}

// SyncStatus lists the sync state of each model of the Linked Account (GET
// sync-status), every page of it:
//
//	for st, err := range acct.SyncStatus(ctx) {
//		if err != nil {
//			return err
//		}
//		fmt.Println(st.ModelID, st.Status, st.LastSyncFinished)
//	}
//
// On failure it yields one error, with a zero SyncStatus, and stops: a
// *ValidationError, before any request, when the account's category or
// token is wrong; an *APIError when Merge refuses a page; a *DecodeError
// when a page cannot be read, its next is not a bare cursor, or the pages
// cycle.
func (a *Account) SyncStatus(ctx context.Context) iter.Seq2[SyncStatus, error] {
	if err := a.check("Account.SyncStatus"); err != nil {
		return failed[SyncStatus](err)
	}
	base, path := a.base()
	return cursorList[SyncStatus](ctx, a.c.s.Transport, base+"sync-status", path+"sync-status", nil, http.Header{AccountTokenHeader: {*a.token}})
}

// Resync asks Merge for a full re-sync of every model of the Linked Account
// (POST sync-status/resync) and returns the models' sync states. Merge
// allows it on some plans only, and each one uses a sync credit.
//
// It fails with a *ValidationError, having sent nothing, when the account's
// category or token is wrong; with an *APIError when Merge refuses (such
// as ErrForbidden on a plan without force re-syncs); and with a
// *DecodeError when a 2xx answer is not a list of sync states.
func (a *Account) Resync(ctx context.Context) ([]SyncStatus, error) {
	if err := a.check("Account.Resync"); err != nil {
		return nil, err
	}
	const rel = "sync-status/resync"
	var sts []SyncStatus
	if _, err := a.do(ctx, http.MethodPost, rel, rel, nil, &sts); err != nil {
		return nil, err
	}
	return sts, nil
}
