//! The store contract: every test runs against SQLite and, when `KEFU_TEST_DATABASE_URL` is set,
//! against PostgreSQL, so both backends are held to the same behaviour.

mod helpers;

mod agents;
mod conversations;
mod customers;
mod feed;
mod guards;
mod ingest;
mod jobs;
mod kb;
mod outbox;
mod platform;
mod routing;
