//! The command line: `serve`, `migrate`, `user add` / `user password`, …

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use serde_json::json;

use crate::config::Config;

use crate::db::{self, Db, DbConnection};
use crate::domain::permissions::Seating;
use crate::services::{self, people, Actor, Input};

#[derive(Parser, Debug)]
#[command(name = "epa-panel", version, about = "End-point assessment panels: gateway to moderated, emailed outcome")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Migrate if needed, load the panel guides, serve HTTP.
    Serve {
        /// On an empty database, create a demo assessment body, panel and apprentice at the
        /// gateway, and print everyone's token.
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending migrations and exit.
    Migrate,
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Copy every row of one installation into an empty database (e.g. SQLite to PostgreSQL),
    /// then check row counts and the audit trail on the target.
    Copy {
        /// The source, e.g. sqlite://epa-panel.db
        #[arg(long)]
        from: String,
        /// The empty target, e.g. postgres://epa@db.internal/epa
        #[arg(long)]
        to: String,
    },
    /// Write a seeded, simulated history of EPAs (people, scores, decisions over the months, planted
    /// leans) into a database without assessments, for training and demonstration. Sends no email.
    Simulate {
        /// How many EPAs, each driven from registration to a confirmed outcome.
        #[arg(long, default_value_t = 200)]
        epas: usize,
        /// Over how many months before now the decisions are spread.
        #[arg(long, default_value_t = 12)]
        months: u32,
        #[arg(long, default_value_t = 8)]
        assessors: usize,
        /// Employers, each with one line manager.
        #[arg(long, default_value_t = 10)]
        employers: usize,
        /// Training providers, each with one tutor.
        #[arg(long, default_value_t = 4)]
        providers: usize,
        /// The same seed writes the same history.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// A lean planted on a scorer, added to every score they give, e.g.
        /// assessor1@simulated-epa.test=+0.5 (by email or name; repeat for several).
        #[arg(long = "lean", value_name = "EMAIL_OR_NAME=LEAN")]
        leans: Vec<services::simulate::PlantedLean>,
        /// The standard's id (default: the first by id whose panel is the three v1 seats; the
        /// simulation runs those panels only).
        #[arg(long)]
        standard: Option<String>,
    },
    /// Check or export the tamper-evident audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Exit 0 if the trail is intact; otherwise name the first bad entry and exit 1.
    Verify {
        /// Verify an exported trail (from `audit export`) instead of the database.
        #[arg(long)]
        file: Option<std::path::PathBuf>,
        /// A head kept earlier (from `audit head`): its JSON, or a file of one head per line. The
        /// trail must still hold each unchanged; with EPA_AUDIT_KEY set, each must carry its MAC.
        #[arg(long, value_name = "FILE_OR_JSON")]
        head: Option<String>,
    },
    /// Check the trail and print its head (seq, hash, time; with EPA_AUDIT_KEY a MAC) as one
    /// JSON line, to be kept outside the database for a later `audit verify --head`.
    Head,
    /// Write the trail as JSON lines (entries, then the head) for an outside verifier.
    Export {
        /// Where to write (default: standard output).
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create a user and print `{"id":…,"token":"…"}`.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// admin, moderator, independent_assessor, line_manager or training_provider
        #[arg(long)]
        role: String,
        /// The organisation's id.
        #[arg(long)]
        organisation: Option<String>,
        /// A password for signing in to the web pages (at least 10 characters).
        #[arg(long)]
        password: Option<String>,
    },
    /// Set (or replace) a user's web sign-in password; ends their browser sessions.
    Password {
        #[arg(long)]
        email: String,
        /// The new password (at least 10 characters).
        #[arg(long)]
        password: String,
    },
    /// Revoke a user's token (every request with it gets 401 from now on) and end their browser
    /// sessions; they may still sign in with their password (`user disable` stops that too).
    Revoke {
        #[arg(long)]
        email: String,
    },
    /// Disable a user: no sign-in, their token gets 401, their browser sessions end (`user enable` undoes it).
    Disable {
        #[arg(long)]
        email: String,
    },
    /// Enable a disabled user again.
    Enable {
        #[arg(long)]
        email: String,
    },
    /// Issue a new token for a user (the old one stops working); prints `{"id":…,"token":"…"}`.
    Token {
        #[arg(long)]
        email: String,
    },
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = Config::from_env()?;
    match cli.command {
        Command::Serve { demo } => serve(config, demo),
        Command::Migrate => {
            let db = Db::open(&config.database_url, 1)?;
            let applied = db::migrate(&mut *db.conn()?)?;
            eprintln!("{} migration(s) applied", applied.len());
            Ok(ExitCode::SUCCESS)
        }
        Command::User { command: UserCommand::Add { email, name, role, organisation, password } } => {
            let mut conn = open_migrated(&config)?;
            // Checked before the user is created, so a weak password creates nobody.
            let hash =
                password.as_deref().map(people::hash_password).transpose().map_err(|e| anyhow::anyhow!("{e}"))?;
            let input = people::NewUser { email, name, role, organisation_id: organisation };
            let (user, token) =
                people::create_user(&mut conn, None, input.into()).map_err(|e| anyhow::anyhow!("{e}"))?;
            if let Some(hash) = hash {
                people::set_password_hash(&mut conn, None, &user.email, &hash).map_err(|e| anyhow::anyhow!("{e}"))?;
            }
            println!("{}", json!({"id": user.id, "token": token}));
            Ok(ExitCode::SUCCESS)
        }
        Command::User { command: UserCommand::Password { email, password } } => {
            let mut conn = open_migrated(&config)?;
            let user = people::set_password(&mut conn, None, &email, &password).map_err(|e| anyhow::anyhow!("{e}"))?;
            eprintln!("password set for {} ({}); their browser sessions were ended", user.name, user.email);
            Ok(ExitCode::SUCCESS)
        }
        Command::User { command: UserCommand::Revoke { email } } => {
            let mut conn = open_migrated(&config)?;
            let user = people::revoke(&mut conn, &email).map_err(|e| anyhow::anyhow!("{e}"))?;
            eprintln!("revoked the token of {} ({}) and ended their browser sessions", user.name, user.email);
            Ok(ExitCode::SUCCESS)
        }
        Command::User { command: UserCommand::Disable { email } } => {
            let mut conn = open_migrated(&config)?;
            let user = people::disable(&mut conn, &email).map_err(|e| anyhow::anyhow!("{e}"))?;
            eprintln!(
                "disabled {} ({}): no sign-in, no token, their browser sessions were ended",
                user.name, user.email
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::User { command: UserCommand::Enable { email } } => {
            let mut conn = open_migrated(&config)?;
            let user = people::enable(&mut conn, &email).map_err(|e| anyhow::anyhow!("{e}"))?;
            eprintln!("enabled {} ({}) again", user.name, user.email);
            Ok(ExitCode::SUCCESS)
        }
        Command::User { command: UserCommand::Token { email } } => {
            let mut conn = open_migrated(&config)?;
            let (user, token) = people::reissue_token(&mut conn, &email).map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{}", json!({"id": user.id, "token": token}));
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit { command: AuditCommand::Verify { file, head } } => {
            let kept = head.as_deref().map(services::audit_trail::read_heads).transpose()?.unwrap_or_default();
            if let Err((h, why)) = services::audit_trail::check_macs(&kept, config.audit_key.as_ref()) {
                println!("kept head REFUSED (entry {}, taken at {}): {why}", h.seq, h.taken_at);
                return Ok(ExitCode::FAILURE);
            }
            if config.audit_key.is_none() && kept.iter().any(|h| h.mac.is_some()) {
                eprintln!("note: the kept head's MAC was not checked (EPA_AUDIT_KEY is not set)");
            }
            let n_kept = kept.len();
            let verified = match file {
                Some(path) => {
                    let f = std::fs::File::open(&path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                    services::audit_trail::verify_file_against(std::io::BufReader::new(f), kept)?
                }
                None => services::audit_trail::verify_db_against(&mut *open_migrated(&config)?, kept)?,
            };
            match verified {
                Ok(n) if n_kept > 0 => {
                    println!("audit trail intact: {n} entries, holding the {n_kept} kept head(s) unchanged");
                    Ok(ExitCode::SUCCESS)
                }
                Ok(n) => {
                    println!("audit trail intact: {n} entries");
                    Ok(ExitCode::SUCCESS)
                }
                Err(broken) => {
                    println!("audit trail BROKEN at {broken}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::Audit { command: AuditCommand::Head } => {
            let mut conn = open_migrated(&config)?;
            match services::audit_trail::head(&mut conn, config.audit_key.as_ref())? {
                Ok(head) => {
                    println!("{}", serde_json::to_string(&head)?);
                    Ok(ExitCode::SUCCESS)
                }
                Err(broken) => {
                    println!("audit trail BROKEN at {broken}; no head taken");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::Copy { from, to } => {
            let from = db::DatabaseUrl::parse(&from).map_err(|e| anyhow::anyhow!("--from: {e}"))?;
            let to = db::DatabaseUrl::parse(&to).map_err(|e| anyhow::anyhow!("--to: {e}"))?;
            for (table, rows) in db::copy::copy(&from, &to)? {
                println!("{table:<18} {rows:>8} rows");
            }
            println!("copied; row counts match and the audit trail verifies on the target");
            Ok(ExitCode::SUCCESS)
        }
        Command::Simulate { epas, months, assessors, employers, providers, seed, leans, standard } => {
            let plan = services::simulate::Plan { epas, months, assessors, employers, providers, seed, leans };
            simulate(config, plan, standard)
        }
        Command::Audit { command: AuditCommand::Export { out } } => {
            let mut conn = open_migrated(&config)?;
            let n = match out {
                Some(path) => {
                    let f = std::fs::File::create(&path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                    let mut w = std::io::BufWriter::new(f);
                    let n = services::audit_trail::export(&mut conn, &mut w)?;
                    std::io::Write::flush(&mut w)?;
                    n
                }
                None => services::audit_trail::export(&mut conn, &mut std::io::stdout().lock())?,
            };
            eprintln!("{n} audit entries exported");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// A connection to an up-to-date database, for the one-shot commands.
fn open_migrated(config: &Config) -> anyhow::Result<db::Pooled> {
    let db = Db::open(&config.database_url, 1)?;
    let mut conn = db.conn()?;
    db::migrate(&mut conn)?;
    Ok(conn)
}

fn serve(config: Config, demo: bool) -> anyhow::Result<ExitCode> {
    let prepared = crate::prepare(&config)?;
    if demo {
        let mut conn = prepared.state.db.conn()?;
        seed_demo(&mut conn, &prepared.state.guides, &config.bind)?;
    }
    tracing::info!(?config, "starting");
    actix_web::rt::System::new().block_on(async move {
        let running = crate::start(prepared, &config.bind)?;
        tracing::info!(addr = %running.addr, "listening");
        eprintln!("epa-panel listening on http://{}", running.addr);
        running.server.await??;
        Ok(ExitCode::SUCCESS)
    })
}

fn simulate(config: Config, plan: services::simulate::Plan, standard: Option<String>) -> anyhow::Result<ExitCode> {
    use services::simulate;
    use std::io::IsTerminal;
    let prepared = crate::prepare(&config)?;
    let state = &prepared.state;
    let mut conn = state.db.conn()?;
    let err = |e: crate::error::AppError| anyhow::anyhow!("simulate: {e}");
    simulate::check_empty(&mut conn).map_err(err)?;
    let guide = match &standard {
        Some(id) => state
            .guides
            .latest(&mut conn, id)
            .map_err(err)?
            .ok_or_else(|| anyhow::anyhow!("--standard: no standard {id:?} is loaded (from EPA_GUIDES_DIR)"))?,
        None => state
            .guides
            .list_latest(&mut conn)
            .map_err(err)?
            .into_iter()
            .find(|g| g.seating() == Seating::default())
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "--standard: no standard with a three-seat panel is loaded; put a panel guide in EPA_GUIDES_DIR"
                )
            })?,
    };
    // The simulated day scores with the line manager, the provider and the assessor breaking ties.
    if guide.seating() != Seating::default() {
        anyhow::bail!(
            "--standard: {} is scored by another panel than the line manager, the training provider and the independent assessor breaking deadlocks; simulate runs those three-seat panels only",
            guide.id
        );
    }
    let history =
        simulate::generate(&plan, guide.score_items().len(), (guide.scale.min, guide.scale.max), chrono::Utc::now())
            .map_err(anyhow::Error::msg)?;
    eprintln!(
        "simulating {} EPAs of {} over {} months (seed {}): {} assessors, {} employers, {} providers; no email is sent",
        plan.epas, guide.id, plan.months, plan.seed, plan.assessors, plan.employers, plan.providers
    );
    for p in history.scorers().filter(|p| p.lean != 0.0) {
        eprintln!("  planted lean {:+.2}: {} <{}>", p.lean, p.name, p.email);
    }
    let target = if std::io::stderr().is_terminal() {
        indicatif::ProgressDrawTarget::stderr()
    } else {
        indicatif::ProgressDrawTarget::hidden()
    };
    let bar = indicatif::ProgressBar::with_draw_target(Some(plan.epas as u64), target);
    let written =
        simulate::write(&mut conn, &state.guides, &state.composer, &guide, &history, || bar.inc(1)).map_err(err)?;
    bar.finish_and_clear();
    println!("{}", serde_json::to_string(&json!({"simulated": written}))?);
    Ok(ExitCode::SUCCESS)
}

/// A demo on an empty database: an assessment body, an employer, a provider, a panel, a
/// moderator and an apprentice registered for the shipped L4 guide's EPA.
fn seed_demo(conn: &mut DbConnection, guides: &services::standards::Guides, bind: &str) -> anyhow::Result<()> {
    let users = crate::db::people::count_users(conn)?;
    if users > 0 {
        eprintln!("--demo: the database already has users, so no demo data was added (tokens are shown only when created; delete the database file to start again)");
        return Ok(());
    }
    let err = |e: crate::error::AppError| anyhow::anyhow!("demo: {e}");
    let (admin_user, admin_token) = people::create_user(
        conn,
        None,
        Input::from(people::NewUser {
            email: "admin@fair-epa.test".into(),
            name: "Ada Admin".into(),
            role: "admin".into(),
            organisation_id: None,
        }),
    )
    .map_err(err)?;
    let admin = Actor::from_user(&admin_user).map_err(err)?;
    let org = |conn: &mut DbConnection, name: &str, kind: &str| {
        people::create_organisation(
            conn,
            &admin,
            people::NewOrganisation { name: name.into(), kind: kind.into() }.into(),
        )
        .map_err(err)
    };
    let body = org(conn, "Fair EPA Ltd", "assessment_body")?;
    let employer = org(conn, "Northgate Homes", "employer")?;
    let provider = org(conn, "Riverside Training", "training_provider")?;
    let mut tokens = vec![("admin", admin_user.email.clone(), admin_token)];
    let mut ids = std::collections::HashMap::new();
    for (email, name, role, org_id) in [
        ("lena@northgate.test", "Lena Line", "line_manager", &employer.id),
        ("tom@riverside.test", "Tom Tutor", "training_provider", &provider.id),
        ("iris@fair-epa.test", "Iris Independent", "independent_assessor", &body.id),
        // A second independent assessor, so that a panel can be re-appointed.
        ("ivan@fair-epa.test", "Ivan Independent", "independent_assessor", &body.id),
        ("max@fair-epa.test", "Max Moderator", "moderator", &body.id),
    ] {
        let input = people::NewUser {
            email: email.into(),
            name: name.into(),
            role: role.into(),
            organisation_id: Some(org_id.clone()),
        };
        let (user, token) = people::create_user(conn, Some(&admin), input.into()).map_err(err)?;
        ids.entry(role).or_insert(user.id);
        tokens.push((role, email.to_string(), token));
    }
    let apprentice = people::create_apprentice(
        conn,
        &admin,
        Input::from(people::NewApprentice {
            name: "Amy Apprentice".into(),
            email: "amy@northgate.test".into(),
            employer_id: employer.id.clone(),
            training_provider_id: provider.id.clone(),
        }),
    )
    .map_err(err)?;
    let assessment = services::assessments::register(
        conn,
        guides,
        &admin,
        Input::from(services::assessments::NewAssessment {
            apprentice_id: apprentice.id,
            standard_id: "senior-housing-property-management-l4".into(),
            line_manager_id: ids["line_manager"].clone(),
            training_provider_user_id: ids["training_provider"].clone(),
        }),
    )
    .map_err(err)?;
    println!("Demo data created. An EPA for Amy Apprentice is registered and waiting at the gateway:");
    println!("  assessment id: {}", assessment.id);
    println!("  independent assessor id (for PUT /panel): {}", ids["independent_assessor"]);
    // Web passwords too, so the pages can be tried at once (random: a demo may be reachable).
    let mut passwords = Vec::new();
    for (_, email, _) in &tokens {
        let password = people::new_token()[4..20].to_string();
        people::set_password(conn, None, email, &password).map_err(err)?;
        passwords.push(password);
    }
    println!("Sign in at http://{bind}/ or call the API with a token (both shown only now):");
    println!("  {:<21} {:<22} {:<17} API token", "role", "email", "web password");
    for ((role, email, token), password) in tokens.iter().zip(&passwords) {
        println!("  {role:<21} {email:<22} {password:<17} {token}");
    }
    println!("Try: curl -H 'Authorization: Bearer {}' http://{bind}/api/v1/assessments", tokens[1].2);
    Ok(())
}
