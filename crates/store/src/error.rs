/// What can go wrong in the store, in terms the API maps to statuses: not found → 404,
/// conflict → 409, unavailable → 503, the rest → 500. Database messages stay in the logs.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness or check constraint refused the write; `constraint` names it.
    #[error("conflict on {constraint}")]
    Conflict { constraint: String },
    /// The database could not be reached (pool timeout, connection refused, I/O).
    #[error("database unavailable")]
    Unavailable(#[source] sqlx::Error),
    #[error("invalid database configuration: {0}")]
    Config(String),
    #[error("migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Data in the database that the code cannot read (a role name it does not know, …).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    #[error("database error")]
    Database(#[source] sqlx::Error),
}

/// PostgreSQL names the constraint; SQLite only says `UNIQUE constraint failed: users.username`,
/// so the `table.column` list stands in for the name there.
fn constraint_name(db: &dyn sqlx::error::DatabaseError) -> String {
    if let Some(name) = db.constraint() {
        return name.to_owned();
    }
    let message = db.message();
    message
        .split_once("constraint failed: ")
        .map(|(_, cols)| cols.to_owned())
        .unwrap_or_else(|| "unknown".to_owned())
}

pub type StoreResult<T> = Result<T, StoreError>;

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(db) if db.is_unique_violation() || db.is_check_violation() => {
                StoreError::Conflict {
                    constraint: constraint_name(db.as_ref()),
                }
            }
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(err),
            _ => StoreError::Database(err),
        }
    }
}

impl StoreError {
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}
