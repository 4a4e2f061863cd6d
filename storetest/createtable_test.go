package storetest

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mergelink/mergelink/sqlstore"
)

// envCreateTableChild makes the test binary a replica that calls
// CreateTable (on the dialect it names, at the data source in
// envCreateTableDSN) once its stdin closes.
const (
	envCreateTableChild = "MERGELINK_TEST_CREATETABLE_CHILD"
	envCreateTableDSN   = "MERGELINK_TEST_CREATETABLE_DSN"
	createTableReplicas = 8
	createTableRounds   = 10
)

// Every replica may call CreateTable at start: 8 processes call it at the
// same moment on a new PostgreSQL database, 10 times, and all succeed.
// (Without a lock, PostgreSQL fails most of them with 42P07, 42710 or
// 23505.)
func TestCreateTableFromManyProcessesPostgres(t *testing.T) {
	t.Parallel()
	db := postgres(t)
	base, err := url.Parse(os.Getenv(envPostgres))
	require.NoError(t, err)
	for round := range createTableRounds {
		name := fmt.Sprintf("mergelink_ct_%d_%d", time.Now().UnixNano(), round)
		_, err := db.Exec("CREATE DATABASE " + name)
		require.NoError(t, err)
		t.Cleanup(func() { db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)") })
		dsn := *base
		dsn.Path = "/" + name
		createTableAtOnce(t, "postgres", dsn.String(), round)
	}
}

// The same on one SQLite file, new at each round.
func TestCreateTableFromManyProcessesSQLite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for round := range createTableRounds {
		createTableAtOnce(t, "sqlite", sqliteDSN(filepath.Join(dir, fmt.Sprintf("round-%d.db", round))), round)
	}
}

// createTableAtOnce starts the replicas, lets them all call CreateTable at
// once (by closing their stdin), and fails the test for each that failed.
func createTableAtOnce(t *testing.T, dialect, dsn string, round int) {
	t.Helper()
	type child struct {
		cmd    *exec.Cmd
		stdin  io.Closer
		stderr bytes.Buffer
	}
	children := make([]*child, createTableReplicas)
	for i := range children {
		c := &child{cmd: exec.Command(os.Args[0], "-test.run=^$")}
		c.cmd.Env = append(os.Environ(), envCreateTableChild+"="+dialect, envCreateTableDSN+"="+dsn)
		c.cmd.Stderr = &c.stderr
		stdin, err := c.cmd.StdinPipe()
		require.NoError(t, err)
		stdout, err := c.cmd.StdoutPipe()
		require.NoError(t, err)
		c.stdin = stdin
		require.NoError(t, c.cmd.Start())
		line, err := bufio.NewReader(stdout).ReadString('\n')
		require.NoError(t, err, "replica %d did not start: %s", i, &c.stderr)
		require.Equal(t, "ready\n", line)
		children[i] = c
	}
	for _, c := range children { // go
		c.stdin.Close()
	}
	for i, c := range children {
		if err := c.cmd.Wait(); err != nil {
			t.Errorf("round %d, replica %d: %v: %s", round, i, err, strings.TrimSpace(c.stderr.String()))
		}
	}
}

// createTableChild is a replica: it opens the database, says "ready",
// waits for its stdin to close, calls CreateTable with the default table
// and exits 0 when it succeeded.
func createTableChild(dialect string) {
	driver, d := "pgx", sqlstore.Postgres
	if dialect == "sqlite" {
		driver, d = "sqlite", sqlstore.SQLite
	}
	db, err := sql.Open(driver, os.Getenv(envCreateTableDSN))
	if err == nil {
		fmt.Println("ready")
		io.Copy(io.Discard, os.Stdin)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		err = sqlstore.New(db, sqlstore.Options{Dialect: d}).CreateTable(ctx)
		cancel()
		db.Close()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}
