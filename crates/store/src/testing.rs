//! Fresh, isolated databases for tests (this crate's and the server's). Each call makes a new
//! SQLite file or a new PostgreSQL database, so tests run in parallel without sharing state.
//!
//! PostgreSQL is a real server: `TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`) must reach it. When it does not, the test
//! fails with a message saying so — it never passes silently.

use sqlx::{Connection, PgConnection};

pub fn postgres_admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// Creates an empty database and returns its URL.
pub async fn fresh_postgres_url() -> String {
    let admin = postgres_admin_url();
    let mut conn = PgConnection::connect(&admin).await.unwrap_or_else(|e| {
        panic!("PostgreSQL is required for this test and is not reachable at {admin}: {e}")
    });
    let name = format!("fd_test_{}", uuid::Uuid::now_v7().simple());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
    let (base, _) = admin.rsplit_once('/').expect("URL has a database path");
    format!("{base}/{name}")
}

/// A SQLite file in a fresh temporary folder (removed when the process exits is not promised;
/// the OS temp dir is cleaned as usual).
pub fn fresh_sqlite_url() -> String {
    let dir =
        std::env::temp_dir().join(format!("flightdeck-test-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    format!("sqlite://{}", dir.join("flightdeck.db").display())
}

/// Drops the databases this process's tests created, best effort; call from nothing that
/// still uses them.
pub async fn drop_postgres(url: &str) {
    let Some((_, name)) = url.rsplit_once('/') else {
        return;
    };
    if let Ok(mut conn) = PgConnection::connect(&postgres_admin_url()).await {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut conn)
            .await;
    }
}
