"""The event log's recorder: events are given their positions in the order they commit.

Readers follow the log by position (the read models, the sweeper, subscriptions): they ask
for the events after the last one they took. Two writers that take positions N and N + 1
and commit in the other order let a reader see N + 1 first, move past N, and never apply it
— a read model that silently misses an event (seen: a computation's last chunk and its
completion skipped by the computation status, which then showed COMPUTING for good).

The eventsourcing library prevents that by locking the events table (EXCLUSIVE: reads go on)
for each inserting transaction, but not in its database-function insert, which this
project uses (storage.database.APPLICATION_SETTINGS: the pipelined insert stalls on large
events over a Unix socket). This recorder's insert function takes the same lock first.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg.sql import SQL, Identifier, Literal


class OrderedApplicationRecorder(PostgresApplicationRecorder):
    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.sql_create_pg_function_insert_events = SQL(
            "CREATE OR REPLACE FUNCTION "
            "{schema}.{insert_events}(events {schema}.{event}[]) "
            "RETURNS SETOF bigint "
            "LANGUAGE plpgsql "
            "AS "
            "$BODY$"
            "BEGIN"
            "    SET LOCAL lock_timeout = '{lock_timeout}s';"
            "    LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE;"
            "    NOTIFY {channel};"
            "    RETURN QUERY"
            "    INSERT INTO {schema}.{table} AS t ("
            "    originator_id, originator_version, topic, state)"
            "    SELECT originator_id, originator_version, topic, state"
            "    FROM unnest(events)"
            "    RETURNING notification_id;"
            "END;"
            "$BODY$"
        ).format(
            insert_events=Identifier(self.pg_function_name_insert_events),
            lock_timeout=self.datastore.lock_timeout,
            channel=Identifier(self.channel_name),
            event=Identifier(self.stored_event_type_name),
            schema=Identifier(self.datastore.schema),
            table=Identifier(self.events_table_name),
        )
        self.sql_create_statements[self.create_insert_function_statement_index] = (
            self.sql_create_pg_function_insert_events
        )
        # Payloads arrive compressed where compressing pays (storage.compression); the rest
        # (raw float32 vectors) PostgreSQL would try to compress again on every insert, and
        # pglz, finding the JSON at their start compressible, goes through all of the payload
        # before keeping it as it was: storing an embeddings upload of 100,000 vectors of 512
        # took 7.3-8.0 s with it and 3.4-3.5 s without (in process). EXTERNAL storage: out of line, as is.
        # Applies to rows written from then on; changed once, where it is not yet.
        self.sql_create_statements.append(
            SQL(
                "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
                " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = {schema_name}"
                " AND c.relname = {table_name} AND a.attname = 'state' AND a.attstorage <> 'e')"
                " THEN ALTER TABLE {schema}.{table} ALTER COLUMN state SET STORAGE EXTERNAL; END IF; END $$"
            ).format(
                schema_name=Literal(self.datastore.schema),
                table_name=Literal(self.events_table_name),
                schema=Identifier(self.datastore.schema),
                table=Identifier(self.events_table_name),
            )
        )
        # The events travel in PostgreSQL's binary format (%b): in text, psycopg writes each
        # payload as hex and escapes it with a regular expression, and the server parses it
        # back (a sixth of a 3,000-vector embeddings upload's command).
        self.sql_invoke_pg_function_insert_events = SQL("SELECT * FROM {schema}.{insert_events}((%b))").format(
            schema=Identifier(self.datastore.schema),
            insert_events=Identifier(self.pg_function_name_insert_events),
        )
