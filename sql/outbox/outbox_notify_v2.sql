-- outbox_notify_v2: wake the outbox relay at commit, only when it may be asleep.
--
-- Why not on every insert (v1, migrations/versions/0002_ledger.py): a transaction that NOTIFYs takes one lock
-- for the whole cluster at commit and holds it through its WAL flush (PostgreSQL 15, async.c PreCommit_Notify),
-- so notifying transactions commit one at a time, each flushing WAL alone. With every wallet call notifying,
-- that lock, not CPU, set the pace at 16 concurrent calls (bench/README.md section 1, branch perf-wallet2).
--
-- The relay (core/outbox.Relay) marks itself awake in the sequence outbox_relay_awake - the time, in ms since
-- the epoch, until which it promises to read the outbox again - while it drains, and sets it to 0 before it
-- sleeps, then drains once more. A writer notifies unless that deadline is still ahead: a relay that is
-- draining reads its event anyway. A sequence is read without a lock and written outside any transaction.
-- What is left: a writer that saw the mark and commits after the relay's last drain waits for the relay's
-- fallback poll (poll_seconds); a relay that died awake stops nobody past its deadline.
-- The sequence is created by the migration that installs this file (0025): one statement a file.
CREATE OR REPLACE FUNCTION outbox_notify_v2() RETURNS trigger
LANGUAGE plpgsql AS $$  -- plpgsql: its plan is kept per session
BEGIN
    IF (SELECT last_value FROM outbox_relay_awake) <= (extract(epoch FROM clock_timestamp()) * 1000)::bigint THEN
        PERFORM pg_notify('croupier_outbox', '');
    END IF;
    RETURN NULL;
END
$$;
