//! The `flightdeck` command: `serve` (the default), `config`, `openapi`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use flightdeck_server::{Application, Settings, http::openapi, telemetry};

// The request and apply paths allocate many small maps and strings; glibc's malloc/free took a
// third of the server's CPU in `make bench`'s alert ingest.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "flightdeck",
    version,
    about = "Deployments, rollbacks and infrastructure health"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the API, the live feed and the SPA.
    Serve {
        /// A TOML file; environment variables override it.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Apply webhook deliveries only (no HTTP), for scaled deployments.
    Worker {
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Print the default configuration as TOML.
    Config,
    /// Print the OpenAPI document.
    Openapi,
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse()
        .command
        .unwrap_or(Command::Serve { config: None })
    {
        Command::Config => print!("{}", Settings::default_toml()),
        Command::Openapi => println!("{}", serde_json::to_string_pretty(&openapi::document())?),
        Command::Serve { config } => serve(config).await?,
        Command::Worker { config } => {
            let settings = Settings::load(config.as_deref())?;
            telemetry::init(settings.log_format);
            flightdeck_server::startup::run_worker(settings).await?;
        }
    }
    Ok(())
}

async fn serve(config: Option<PathBuf>) -> anyhow::Result<()> {
    let settings = Settings::load(config.as_deref())?;
    telemetry::init(settings.log_format);
    let app = Application::build(settings).await?;
    // Plain stdout lines: people read them, and test harnesses wait for "listening on".
    if let Some(login) = &app.bootstrap {
        match &login.generated_password {
            Some(password) => println!(
                "flightdeck: created admin user `{}` with password `{password}` (shown once; change it in Settings)",
                login.username
            ),
            None => println!(
                "flightdeck: created admin user `{}` with the password from FLIGHTDECK_ADMIN_PASSWORD",
                login.username
            ),
        }
    }
    match &app.web_dir {
        Some(dir) => println!("flightdeck: serving the web app from {}", dir.display()),
        None => println!("flightdeck: no web app found (build it with `make spa`); API only"),
    }
    println!("flightdeck: listening on {}", app.url());
    app.run_until_stopped().await?;
    Ok(())
}
