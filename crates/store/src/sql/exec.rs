//! A thin, backend-neutral way to run one SQL text on SQLite or PostgreSQL.
//!
//! Queries are written once, in the SQL both databases accept (`$n` placeholders, `RETURNING`,
//! `ON CONFLICT DO NOTHING`); arguments are bound per backend here. This keeps the store
//! non-generic (sqlx's generic executors make async trait methods hard to keep `Send`) without
//! writing every query twice.

use sqlx::postgres::{PgArguments, PgRow};
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{PgConnection, PgPool, Postgres, Row as _, Sqlite, SqliteConnection, SqlitePool};

use crate::{Result, StoreError};

/// One bound argument. Only the types the schema uses exist, so both backends agree on them.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Int(Option<i64>),
    Text(Option<String>),
    Bool(bool),
    Blob(Option<Vec<u8>>),
}

macro_rules! arg_from {
    ($($t:ty => |$v:ident| $e:expr),* $(,)?) => {$(
        impl From<$t> for Arg {
            fn from($v: $t) -> Self { $e }
        }
    )*};
}

arg_from!(
    i64 => |v| Arg::Int(Some(v)),
    Option<i64> => |v| Arg::Int(v),
    u32 => |v| Arg::Int(Some(i64::from(v))),
    &str => |v| Arg::Text(Some(v.to_owned())),
    String => |v| Arg::Text(Some(v)),
    &String => |v| Arg::Text(Some(v.clone())),
    Option<String> => |v| Arg::Text(v),
    Option<&str> => |v| Arg::Text(v.map(str::to_owned)),
    bool => |v| Arg::Bool(v),
    Option<Vec<u8>> => |v| Arg::Blob(v),
);

/// A SQL text with its arguments. The text is always a literal, so nothing user-supplied is
/// ever spliced into SQL.
pub(crate) struct Query {
    pub sql: &'static str,
    pub args: Vec<Arg>,
}

/// Builds a [`Query`]: `q!("SELECT .. WHERE id = $1", id)`.
macro_rules! q {
    ($sql:expr $(, $arg:expr)* $(,)?) => {
        $crate::sql::exec::Query { sql: $sql, args: vec![$($crate::sql::exec::Arg::from($arg)),*] }
    };
}
pub(crate) use q;

fn bind_sqlite(q: Query) -> sqlx::query::Query<'static, Sqlite, SqliteArguments> {
    q.args.into_iter().fold(sqlx::query(q.sql), |acc, a| match a {
        Arg::Int(v) => acc.bind(v),
        Arg::Text(v) => acc.bind(v),
        Arg::Bool(v) => acc.bind(v),
        Arg::Blob(v) => acc.bind(v),
    })
}

fn bind_pg(q: Query) -> sqlx::query::Query<'static, Postgres, PgArguments> {
    q.args.into_iter().fold(sqlx::query(q.sql), |acc, a| match a {
        Arg::Int(v) => acc.bind(v),
        Arg::Text(v) => acc.bind(v),
        Arg::Bool(v) => acc.bind(v),
        Arg::Blob(v) => acc.bind(v),
    })
}

/// Where a query runs: a pool, or a connection inside a transaction.
pub(crate) enum Conn<'a> {
    SqlitePool(&'a SqlitePool),
    PgPool(&'a PgPool),
    SqliteTx(&'a mut SqliteConnection),
    PgTx(&'a mut PgConnection),
}

impl Conn<'_> {
    pub async fn all(&mut self, q: Query) -> Result<Vec<Row>> {
        let rows: Vec<Row> = match self {
            Conn::SqlitePool(p) => bind_sqlite(q).fetch_all(*p).await?.into_iter().map(Row::Sqlite).collect(),
            Conn::SqliteTx(c) => {
                bind_sqlite(q).fetch_all(&mut **c).await?.into_iter().map(Row::Sqlite).collect()
            }
            Conn::PgPool(p) => bind_pg(q).fetch_all(*p).await?.into_iter().map(Row::Pg).collect(),
            Conn::PgTx(c) => bind_pg(q).fetch_all(&mut **c).await?.into_iter().map(Row::Pg).collect(),
        };
        Ok(rows)
    }

    pub async fn opt(&mut self, q: Query) -> Result<Option<Row>> {
        let row = match self {
            Conn::SqlitePool(p) => bind_sqlite(q).fetch_optional(*p).await?.map(Row::Sqlite),
            Conn::SqliteTx(c) => bind_sqlite(q).fetch_optional(&mut **c).await?.map(Row::Sqlite),
            Conn::PgPool(p) => bind_pg(q).fetch_optional(*p).await?.map(Row::Pg),
            Conn::PgTx(c) => bind_pg(q).fetch_optional(&mut **c).await?.map(Row::Pg),
        };
        Ok(row)
    }

    pub async fn one(&mut self, q: Query) -> Result<Row> {
        self.opt(q).await?.ok_or(StoreError::NotFound)
    }

    /// Runs a statement and returns how many rows it changed.
    pub async fn exec(&mut self, q: Query) -> Result<u64> {
        let n = match self {
            Conn::SqlitePool(p) => bind_sqlite(q).execute(*p).await?.rows_affected(),
            Conn::SqliteTx(c) => bind_sqlite(q).execute(&mut **c).await?.rows_affected(),
            Conn::PgPool(p) => bind_pg(q).execute(*p).await?.rows_affected(),
            Conn::PgTx(c) => bind_pg(q).execute(&mut **c).await?.rows_affected(),
        };
        Ok(n)
    }
}

pub(crate) enum Tx {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Pg(sqlx::Transaction<'static, Postgres>),
}

impl Tx {
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            Tx::Sqlite(t) => Conn::SqliteTx(t),
            Tx::Pg(t) => Conn::PgTx(t),
        }
    }

    pub async fn commit(self) -> Result<()> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Pg(t) => t.commit().await?,
        }
        Ok(())
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Tx::Pg(_))
    }
}

/// A result row from either backend, read through typed getters.
pub(crate) enum Row {
    Sqlite(SqliteRow),
    Pg(PgRow),
}

macro_rules! getter {
    ($name:ident -> $t:ty) => {
        pub fn $name(&self, col: &str) -> Result<$t> {
            Ok(match self {
                Row::Sqlite(r) => r.try_get::<$t, _>(col)?,
                Row::Pg(r) => r.try_get::<$t, _>(col)?,
            })
        }
    };
}

impl Row {
    getter!(int -> i64);
    getter!(opt_int -> Option<i64>);
    getter!(text -> String);
    getter!(opt_text -> Option<String>);
    getter!(boolean -> bool);
    getter!(opt_blob -> Option<Vec<u8>>);

    /// Reads a text column and parses it, reporting unparsable values as corruption.
    pub fn parsed<T: std::str::FromStr>(&self, col: &str) -> Result<T> {
        let s = self.text(col)?;
        s.parse().map_err(|_| StoreError::Corrupt(format!("{col} = {s:?}")))
    }
}
