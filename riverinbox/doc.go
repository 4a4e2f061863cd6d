// Package riverinbox receives Merge's webhooks into a River queue
// (github.com/riverqueue/river) and works them later: receive now,
// process later.
//
// A Handler verifies each delivery exactly as mergelink.WebhookHandler and
// agenthandler.WebhookHandler do (the same limits, and the same answers to
// a wrong method, a body too large, a bad signature or a body that is not
// a webhook), then inserts one River job that carries the raw signed body
// and its delivery key, and answers 200 as soon as the insert commits. The
// job is unique by delivery key, so Merge's retries of one delivery never
// make a second job; a failed insert is answered 503 with Retry-After, so
// that Merge sends the delivery again. On PostgreSQL, deliveries that
// arrive while an insert runs are inserted together in the next one, a
// transaction for many jobs, so that under load an answer waits for about
// two inserts, not for every delivery ahead of it.
//
// A worker (NewWorker, NewAgentWorker) decodes the job's body into the
// typed event and calls your function, under River's retries and backoff.
// Options.MaxAttempts bounds the attempts. For effects that must happen
// exactly once, write them in a transaction of the queue's database and
// complete the job in that same transaction with river.JobCompleteTx (see
// the example of NewWorker): the writes and the completion commit
// together or not at all, so a worker that dies mid-job leaves nothing
// behind, and the job's next attempt does the work once.
//
// River runs on PostgreSQL (riverpgxv5 or riverdatabasesql) and on SQLite
// (riversqlite). Its tables are made by its migrator, rivermigrate, in
// code, or by its CLI: see the README.
package riverinbox
