//! The one way the collector's code talks to its database, whichever it is:
//! SQL text in SQLite's placeholder style (`?1`, `?`), parameters and column
//! values as one small [`Value`] type, and a connection ([`Db`]) that runs
//! them on SQLite (rusqlite) or on PostgreSQL (the `postgres` client).
//!
//! Why a layer of our own rather than one crate for both: the store is
//! synchronous (a writer thread, `spawn_blocking` readers), SQLite is bundled
//! through rusqlite, and the crates that span both backends are either async
//! (`sqlx`'s `Any`) or link libpq and their own SQLite (`diesel`). What
//! differs between the two dialects is kept to the few helpers of [`Backend`].

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;

use anyhow::{Context, Result, anyhow, bail};

/// Which database a store is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded default: one file in the data directory.
    Sqlite,
    /// A PostgreSQL server, for fleets and replicas.
    Postgres,
}

impl Backend {
    /// A JSON member of a text column as text (`path` like `zone.purdue_level`).
    pub fn json_text(self, column: &str, path: &str) -> String {
        match self {
            Self::Sqlite => format!("json_extract({column}, '$.{path}')"),
            Self::Postgres => {
                let keys = path.split('.').collect::<Vec<_>>().join(",");
                format!("(({column})::jsonb #>> '{{{keys}}}')")
            }
        }
    }

    /// A JSON number member of a text column as a number.
    pub fn json_int(self, column: &str, path: &str) -> String {
        match self {
            Self::Sqlite => self.json_text(column, path),
            Self::Postgres => format!("CAST({} AS BIGINT)", self.json_text(column, path)),
        }
    }

    /// Whether the JSON array `key` of a text column holds the string bound to `param`.
    pub fn json_array_has(self, column: &str, key: &str, param: &str) -> String {
        match self {
            Self::Sqlite => format!(
                "EXISTS (SELECT 1 FROM json_each({column}, '$.{key}') WHERE json_each.value = {param})"
            ),
            // jsonb_exists is the `?` operator, spelled so that `?` stays a placeholder.
            Self::Postgres => format!("jsonb_exists(({column})::jsonb -> '{key}', {param})"),
        }
    }

    /// The database's clock as RFC 3339 seconds in UTC (`2026-12-07T20:38:34Z`).
    pub fn now_rfc3339(self) -> &'static str {
        match self {
            Self::Sqlite => "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
            Self::Postgres => {
                "to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
            }
        }
    }

    /// The database's clock in milliseconds since the epoch (leases).
    pub fn now_millis(self) -> &'static str {
        match self {
            Self::Sqlite => "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)",
            Self::Postgres => "CAST(extract(epoch FROM clock_timestamp()) * 1000 AS BIGINT)",
        }
    }

    /// What ends a `SELECT` that reads a row it will update in the same
    /// transaction: PostgreSQL locks it so that two replicas take turns;
    /// SQLite has one writer at a time already.
    pub fn for_update(self) -> &'static str {
        match self {
            Self::Sqlite => "",
            Self::Postgres => " FOR UPDATE",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        })
    }
}

/// A parameter or a column value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// An integer (SQLite INTEGER, PostgreSQL BIGINT/INTEGER/SMALLINT/BOOLEAN).
    Int(i64),
    /// A float.
    Real(f64),
    /// Text.
    Text(String),
    /// Bytes (BLOB, BYTEA).
    Blob(Vec<u8>),
}

/// What can be bound as a parameter.
pub trait ToValue {
    /// The value to bind.
    fn to_value(&self) -> Result<Value>;
}

/// What can be read from a column.
pub trait FromValue: Sized {
    /// The column's value as `Self`.
    fn from_value(value: &Value) -> Result<Self>;
}

/// Parameters as the [`Db`] methods take them.
pub type Params<'a> = &'a [&'a dyn ToValue];

/// `params![a, b]`: a parameter list for [`Db`].
#[macro_export]
macro_rules! sql_params {
    () => { &[] as $crate::store::sql::Params<'_> };
    ($($p:expr),+ $(,)?) => { &[$(&$p as &dyn $crate::store::sql::ToValue),+] as $crate::store::sql::Params<'_> };
}
pub use crate::sql_params as params;

impl ToValue for Value {
    fn to_value(&self) -> Result<Value> {
        Ok(self.clone())
    }
}

impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Result<Value> {
        (**self).to_value()
    }
}

impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Result<Value> {
        match self {
            Some(v) => v.to_value(),
            None => Ok(Value::Null),
        }
    }
}

macro_rules! to_value_int {
    ($($t:ty),*) => {$(
        impl ToValue for $t {
            fn to_value(&self) -> Result<Value> {
                i64::try_from(*self)
                    .map(Value::Int)
                    .map_err(|_| anyhow!("{} is beyond the store's integer range", self))
            }
        }
    )*};
}
to_value_int!(i64, i32, i16, i8, u64, u32, u16, u8, usize);

impl ToValue for bool {
    fn to_value(&self) -> Result<Value> {
        Ok(Value::Int(i64::from(*self)))
    }
}

impl ToValue for f64 {
    fn to_value(&self) -> Result<Value> {
        Ok(Value::Real(*self))
    }
}

impl ToValue for f32 {
    fn to_value(&self) -> Result<Value> {
        Ok(Value::Real(f64::from(*self)))
    }
}

impl ToValue for str {
    fn to_value(&self) -> Result<Value> {
        Ok(Value::Text(self.to_owned()))
    }
}

impl ToValue for String {
    fn to_value(&self) -> Result<Value> {
        Ok(Value::Text(self.clone()))
    }
}

impl ToValue for [u8] {
    fn to_value(&self) -> Result<Value> {
        Ok(Value::Blob(self.to_vec()))
    }
}

impl ToValue for Vec<u8> {
    fn to_value(&self) -> Result<Value> {
        Ok(Value::Blob(self.clone()))
    }
}

impl FromValue for Value {
    fn from_value(value: &Value) -> Result<Self> {
        Ok(value.clone())
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: &Value) -> Result<Self> {
        match value {
            Value::Null => Ok(None),
            v => T::from_value(v).map(Some),
        }
    }
}

macro_rules! from_value_int {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn from_value(value: &Value) -> Result<Self> {
                match value {
                    Value::Int(v) => <$t>::try_from(*v)
                        .map_err(|_| anyhow!("{v} does not fit {}", stringify!($t))),
                    other => bail!("expected an integer, found {}", other.kind()),
                }
            }
        }
    )*};
}
from_value_int!(i64, i32, i16, u64, u32, u16, u8, usize);

impl FromValue for bool {
    fn from_value(value: &Value) -> Result<Self> {
        Ok(i64::from_value(value)? != 0)
    }
}

impl FromValue for f64 {
    fn from_value(value: &Value) -> Result<Self> {
        match value {
            Value::Real(v) => Ok(*v),
            #[allow(clippy::cast_precision_loss)]
            Value::Int(v) => Ok(*v as f64),
            other => bail!("expected a number, found {}", other.kind()),
        }
    }
}

impl FromValue for String {
    fn from_value(value: &Value) -> Result<Self> {
        match value {
            Value::Text(s) => Ok(s.clone()),
            other => bail!("expected text, found {}", other.kind()),
        }
    }
}

impl FromValue for Vec<u8> {
    fn from_value(value: &Value) -> Result<Self> {
        match value {
            Value::Blob(b) => Ok(b.clone()),
            other => bail!("expected bytes, found {}", other.kind()),
        }
    }
}

impl Value {
    fn kind(&self) -> &'static str {
        match self {
            Self::Null => "NULL",
            Self::Int(_) => "an integer",
            Self::Real(_) => "a float",
            Self::Text(_) => "text",
            Self::Blob(_) => "bytes",
        }
    }
}

/// One result row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row(Vec<Value>);

impl Row {
    /// Column `i` as `T`.
    pub fn get<T: FromValue>(&self, i: usize) -> Result<T> {
        let value = self
            .0
            .get(i)
            .ok_or_else(|| anyhow!("the row has no column {i}"))?;
        T::from_value(value).with_context(|| format!("column {i}"))
    }

    /// Column `i` as borrowed text.
    pub fn text(&self, i: usize) -> Result<&str> {
        match self.0.get(i) {
            Some(Value::Text(s)) => Ok(s),
            Some(other) => bail!("column {i}: expected text, found {}", other.kind()),
            None => bail!("the row has no column {i}"),
        }
    }

    /// Column `i` as borrowed bytes.
    pub fn blob(&self, i: usize) -> Result<&[u8]> {
        match self.0.get(i) {
            Some(Value::Blob(b)) => Ok(b),
            Some(other) => bail!("column {i}: expected bytes, found {}", other.kind()),
            None => bail!("the row has no column {i}"),
        }
    }

    /// The number of columns.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the row has no column.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The columns.
    pub fn into_values(self) -> Vec<Value> {
        self.0
    }
}

/// The runtime the PostgreSQL connections of this process run on (one
/// worker: it only moves bytes). The store's calls wait on the client's
/// futures from their own thread ([`wait`]), so they work the same from a
/// blocking thread and from inside the server's runtime.
fn pg_runtime() -> Result<&'static tokio::runtime::Runtime> {
    static RUNTIME: std::sync::OnceLock<std::io::Result<tokio::runtime::Runtime>> =
        std::sync::OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("faro-postgres")
                .enable_all()
                .build()
        })
        .as_ref()
        .map_err(|e| anyhow!("starting the PostgreSQL connections' runtime: {e}"))
}

/// Waits for `f` on this thread.
fn wait<F: std::future::Future>(f: F) -> F::Output {
    futures_executor::block_on(f)
}

/// A PostgreSQL connection with its prepared statements (by SQL text).
pub(crate) struct PgConn {
    client: tokio_postgres::Client,
    statements: HashMap<String, tokio_postgres::Statement>,
}

/// Prepared statements a connection keeps at most (the collector's SQL is a
/// fixed set, plus the views' filter combinations).
const PG_STATEMENT_CACHE: usize = 512;

impl PgConn {
    /// Connects; the connection's task runs on [`pg_runtime`].
    pub(crate) fn connect(config: &tokio_postgres::Config) -> Result<Self> {
        let config = config.clone();
        let runtime = pg_runtime()?;
        let connecting = runtime.spawn(async move {
            let (client, connection) = config.connect(tokio_postgres::NoTls).await?;
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    tracing::warn!("PostgreSQL connection closed: {e}");
                }
            });
            Ok::<_, tokio_postgres::Error>(client)
        });
        let client = wait(connecting)
            .map_err(|e| anyhow!("connecting to PostgreSQL: {e}"))?
            .map_err(|e| pg_error(e, ""))?;
        Ok(Self {
            client,
            statements: HashMap::new(),
        })
    }

    fn statement(&mut self, sql: &str) -> Result<tokio_postgres::Statement> {
        if let Some(stmt) = self.statements.get(sql) {
            return Ok(stmt.clone());
        }
        let translated = postgres_placeholders(sql);
        let stmt = wait(self.client.prepare(&translated)).map_err(|e| pg_error(e, &translated))?;
        if self.statements.len() >= PG_STATEMENT_CACHE {
            self.statements.clear();
        }
        self.statements.insert(sql.to_owned(), stmt.clone());
        Ok(stmt)
    }

    /// Whether the connection broke (it is dropped rather than pooled again).
    pub(crate) fn is_closed(&self) -> bool {
        self.client.is_closed()
    }
}

/// A PostgreSQL error with its server-side detail and the statement.
pub(crate) fn pg_error(e: tokio_postgres::Error, sql: &str) -> anyhow::Error {
    let detail = e
        .as_db_error()
        .map(|d| {
            let mut s = format!("{}: {}", d.code().code(), d.message());
            if let Some(detail) = d.detail() {
                s.push_str(&format!(" ({detail})"));
            }
            s
        })
        .unwrap_or_else(|| e.to_string());
    if sql.is_empty() {
        return anyhow!("postgres: {detail}");
    }
    let head: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    let head: String = head.chars().take(160).collect();
    anyhow!("postgres: {detail}; in: {head}")
}

/// A connection (or the transaction open on it) to run statements on.
pub struct Db<'c> {
    conn: Conn<'c>,
}

enum Conn<'c> {
    Sqlite(&'c rusqlite::Connection),
    Postgres(&'c RefCell<PgConn>),
}

impl<'c> Db<'c> {
    pub(crate) fn sqlite(conn: &'c rusqlite::Connection) -> Self {
        Self {
            conn: Conn::Sqlite(conn),
        }
    }

    pub(crate) fn postgres(conn: &'c RefCell<PgConn>) -> Self {
        Self {
            conn: Conn::Postgres(conn),
        }
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        match self.conn {
            Conn::Sqlite(_) => Backend::Sqlite,
            Conn::Postgres(_) => Backend::Postgres,
        }
    }

    /// Runs one statement; the number of rows it changed.
    pub fn execute(&self, sql: &str, params: Params<'_>) -> Result<usize> {
        let values = bind(params)?;
        match &self.conn {
            Conn::Sqlite(conn) => {
                let mut stmt = conn
                    .prepare_cached(sql)
                    .with_context(|| sqlite_context(sql))?;
                Ok(stmt
                    .execute(rusqlite::params_from_iter(values.iter()))
                    .with_context(|| sqlite_context(sql))?)
            }
            Conn::Postgres(cell) => {
                let mut pg = borrow(cell)?;
                let stmt = pg.statement(sql)?;
                let n = wait(pg.client.execute(&stmt, &pg_params(&values)))
                    .map_err(|e| pg_error(e, sql))?;
                Ok(usize::try_from(n).unwrap_or(usize::MAX))
            }
        }
    }

    /// Runs statements separated by `;` with no parameters (schemas).
    pub fn execute_batch(&self, sql: &str) -> Result<()> {
        match &self.conn {
            Conn::Sqlite(conn) => conn.execute_batch(sql).with_context(|| sqlite_context(sql)),
            Conn::Postgres(cell) => {
                wait(borrow(cell)?.client.batch_execute(sql)).map_err(|e| pg_error(e, sql))
            }
        }
    }

    /// Every row of a query.
    pub fn query(&self, sql: &str, params: Params<'_>) -> Result<Vec<Row>> {
        let mut out = Vec::new();
        self.for_each(sql, params, |row| {
            out.push(row);
            Ok(())
        })?;
        Ok(out)
    }

    /// The first row of a query, if any.
    pub fn query_opt(&self, sql: &str, params: Params<'_>) -> Result<Option<Row>> {
        let values = bind(params)?;
        match &self.conn {
            Conn::Sqlite(conn) => {
                let mut stmt = conn
                    .prepare_cached(sql)
                    .with_context(|| sqlite_context(sql))?;
                let width = stmt.column_count();
                let mut rows = stmt
                    .query(rusqlite::params_from_iter(values.iter()))
                    .with_context(|| sqlite_context(sql))?;
                match rows.next().with_context(|| sqlite_context(sql))? {
                    Some(r) => Ok(Some(sqlite_row(r, width)?)),
                    None => Ok(None),
                }
            }
            Conn::Postgres(cell) => {
                let mut pg = borrow(cell)?;
                let stmt = pg.statement(sql)?;
                let rows = wait(pg.client.query(&stmt, &pg_params(&values)))
                    .map_err(|e| pg_error(e, sql))?;
                rows.first().map(pg_row).transpose()
            }
        }
    }

    /// The one row a query must return.
    pub fn query_one(&self, sql: &str, params: Params<'_>) -> Result<Row> {
        self.query_opt(sql, params)?
            .ok_or_else(|| anyhow!("no row from: {}", sql.trim()))
    }

    /// Column 0 of the one row a query must return.
    pub fn query_value<T: FromValue>(&self, sql: &str, params: Params<'_>) -> Result<T> {
        self.query_one(sql, params)?.get(0)
    }

    /// Calls `f` with each row of a query in turn, without holding them all
    /// (`f` must not use this connection).
    pub fn for_each(
        &self,
        sql: &str,
        params: Params<'_>,
        mut f: impl FnMut(Row) -> Result<()>,
    ) -> Result<()> {
        let values = bind(params)?;
        match &self.conn {
            Conn::Sqlite(conn) => {
                let mut stmt = conn
                    .prepare_cached(sql)
                    .with_context(|| sqlite_context(sql))?;
                let width = stmt.column_count();
                let mut rows = stmt
                    .query(rusqlite::params_from_iter(values.iter()))
                    .with_context(|| sqlite_context(sql))?;
                while let Some(r) = rows.next().with_context(|| sqlite_context(sql))? {
                    f(sqlite_row(r, width)?)?;
                }
                Ok(())
            }
            Conn::Postgres(cell) => {
                use futures_util::StreamExt;
                let mut pg = borrow(cell)?;
                let stmt = pg.statement(sql)?;
                let rows = wait(pg.client.query_raw(&stmt, pg_params(&values)))
                    .map_err(|e| pg_error(e, sql))?;
                let mut rows = std::pin::pin!(rows);
                while let Some(r) = wait(rows.next()) {
                    f(pg_row(&r.map_err(|e| pg_error(e, sql))?)?)?;
                }
                Ok(())
            }
        }
    }
}

fn borrow(cell: &RefCell<PgConn>) -> Result<std::cell::RefMut<'_, PgConn>> {
    cell.try_borrow_mut()
        .map_err(|_| anyhow!("a statement ran on a connection while it was reading rows"))
}

fn bind(params: Params<'_>) -> Result<Vec<Value>> {
    params
        .iter()
        .enumerate()
        .map(|(i, p)| p.to_value().with_context(|| format!("parameter {}", i + 1)))
        .collect()
}

fn sqlite_context(sql: &str) -> String {
    let head: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    format!("sqlite: in: {}", head.chars().take(160).collect::<String>())
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Self::Null => ValueRef::Null,
            Self::Int(v) => ValueRef::Integer(*v),
            Self::Real(v) => ValueRef::Real(*v),
            Self::Text(s) => ValueRef::Text(s.as_bytes()),
            Self::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

fn sqlite_row(r: &rusqlite::Row<'_>, width: usize) -> Result<Row> {
    use rusqlite::types::ValueRef;
    let mut values = Vec::with_capacity(width);
    for i in 0..width {
        values.push(match r.get_ref(i)? {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(v) => Value::Int(v),
            ValueRef::Real(v) => Value::Real(v),
            ValueRef::Text(t) => Value::Text(
                std::str::from_utf8(t)
                    .context("stored text is not UTF-8")?
                    .to_owned(),
            ),
            ValueRef::Blob(b) => Value::Blob(b.to_vec()),
        });
    }
    Ok(Row(values))
}

fn pg_params(values: &[Value]) -> Vec<&(dyn tokio_postgres::types::ToSql + Sync)> {
    values
        .iter()
        .map(|v| v as &(dyn tokio_postgres::types::ToSql + Sync))
        .collect()
}

impl tokio_postgres::types::ToSql for Value {
    fn to_sql(
        &self,
        ty: &tokio_postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> Result<tokio_postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        use tokio_postgres::types::{IsNull, Type};
        // The statement says what each parameter is; a value is encoded as
        // that type when it can be without loss (SQLite's integers serve as
        // booleans, a text's number as a number).
        match (self, ty) {
            (Self::Null, _) => Ok(IsNull::Yes),
            (Self::Int(v), &Type::INT8) => v.to_sql(ty, out),
            (Self::Int(v), &Type::INT4) => i32::try_from(*v)?.to_sql(ty, out),
            (Self::Int(v), &Type::INT2) => i16::try_from(*v)?.to_sql(ty, out),
            (Self::Int(v), &Type::BOOL) => (*v != 0).to_sql(ty, out),
            #[allow(clippy::cast_precision_loss)]
            (Self::Int(v), &Type::FLOAT8) => (*v as f64).to_sql(ty, out),
            (Self::Int(v), &Type::TEXT | &Type::VARCHAR) => v.to_string().to_sql(ty, out),
            (Self::Real(v), &Type::FLOAT8) => v.to_sql(ty, out),
            #[allow(clippy::cast_possible_truncation)]
            (Self::Real(v), &Type::FLOAT4) => (*v as f32).to_sql(ty, out),
            (Self::Text(s), &Type::TEXT | &Type::VARCHAR | &Type::BPCHAR | &Type::NAME) => {
                s.as_str().to_sql(ty, out)
            }
            (Self::Text(s), &Type::JSONB) => {
                // jsonb's binary form: version 1, then the text.
                out.extend_from_slice(&[1]);
                out.extend_from_slice(s.as_bytes());
                Ok(IsNull::No)
            }
            (Self::Text(s), &Type::JSON) => {
                out.extend_from_slice(s.as_bytes());
                Ok(IsNull::No)
            }
            (Self::Blob(b), &Type::BYTEA) => b.as_slice().to_sql(ty, out),
            (v, ty) => Err(format!("cannot bind {} as {ty}", v.kind()).into()),
        }
    }

    fn accepts(_: &tokio_postgres::types::Type) -> bool {
        true
    }

    tokio_postgres::types::to_sql_checked!();
}

fn pg_row(r: &tokio_postgres::Row) -> Result<Row> {
    use tokio_postgres::types::Type;
    let mut values = Vec::with_capacity(r.len());
    for (i, column) in r.columns().iter().enumerate() {
        let ty = column.type_();
        let value = match *ty {
            Type::INT8 => r.try_get::<_, Option<i64>>(i)?.map(Value::Int),
            Type::INT4 => r
                .try_get::<_, Option<i32>>(i)?
                .map(|v| Value::Int(v.into())),
            Type::INT2 => r
                .try_get::<_, Option<i16>>(i)?
                .map(|v| Value::Int(v.into())),
            Type::BOOL => r
                .try_get::<_, Option<bool>>(i)?
                .map(|v| Value::Int(v.into())),
            Type::FLOAT8 => r.try_get::<_, Option<f64>>(i)?.map(Value::Real),
            Type::FLOAT4 => r
                .try_get::<_, Option<f32>>(i)?
                .map(|v| Value::Real(v.into())),
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                r.try_get::<_, Option<String>>(i)?.map(Value::Text)
            }
            Type::BYTEA => r.try_get::<_, Option<Vec<u8>>>(i)?.map(Value::Blob),
            _ => bail!(
                "column {} has type {ty}, which the store does not read (cast it)",
                column.name()
            ),
        };
        values.push(value.unwrap_or(Value::Null));
    }
    Ok(Row(values))
}

/// SQLite's placeholders (`?NNN`, and `?` for the next number) as
/// PostgreSQL's (`$NNN`), leaving string literals, quoted names and comments
/// alone.
pub fn postgres_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    let mut highest = 0u32;
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                out.push(c);
                for d in chars.by_ref() {
                    out.push(d);
                    if d == c {
                        break;
                    }
                }
            }
            '-' if chars.peek() == Some(&'-') => {
                out.push(c);
                for d in chars.by_ref() {
                    out.push(d);
                    if d == '\n' {
                        break;
                    }
                }
            }
            '?' => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                    digits.push(d);
                    chars.next();
                }
                let n = match digits.parse::<u32>() {
                    Ok(n) => n,
                    Err(_) => highest + 1,
                };
                highest = highest.max(n);
                out.push('$');
                out.push_str(&n.to_string());
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_numbered_dollars() {
        assert_eq!(
            postgres_placeholders("SELECT ?1, ?2 WHERE a = ?1"),
            "SELECT $1, $2 WHERE a = $1"
        );
        assert_eq!(
            postgres_placeholders("a = ? AND b = ? AND c = ?5 AND d = ?"),
            "a = $1 AND b = $2 AND c = $5 AND d = $6"
        );
        assert_eq!(
            postgres_placeholders("SELECT '?', \"a?\" -- why?\n, ?"),
            "SELECT '?', \"a?\" -- why?\n, $1"
        );
    }

    #[test]
    fn integers_beyond_the_store_are_refused_not_clamped() {
        assert!(u64::MAX.to_value().is_err());
        assert_eq!(
            i64::MAX.unsigned_abs().to_value().ok(),
            Some(Value::Int(i64::MAX))
        );
    }

    #[test]
    fn json_paths_per_dialect() {
        assert_eq!(
            Backend::Sqlite.json_text("value", "zone.purdue_level"),
            "json_extract(value, '$.zone.purdue_level')"
        );
        assert_eq!(
            Backend::Postgres.json_text("value", "zone.purdue_level"),
            "((value)::jsonb #>> '{zone,purdue_level}')"
        );
    }
}
