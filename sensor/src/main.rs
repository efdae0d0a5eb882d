//! `faro-sensor`: the passive OT network sensor's command line.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand, ValueEnum};
use faro_firmware_config::Config;
use faro_sensor::Pipeline;
use faro_sensor::capture::CaptureFile;
use faro_sensor::decode::LinkType;
use faro_sensor::findings::rules;
use faro_sensor::report::{InputReport, table};
use indicatif::{ProgressBar, ProgressStyle};

/// Exit status when an input could not be read (the others were still analysed).
const EXIT_INPUT_ERROR: u8 = 2;

/// Exit status when the configuration file has problems.
const EXIT_CONFIG_ERROR: u8 = 2;

/// Exit status of `status` when no sensor runs (as for LSB init scripts).
const EXIT_NOT_RUNNING: u8 = 3;

#[derive(Parser)]
#[command(
    name = "faro-sensor",
    version,
    about = "Faro passive OT network sensor"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Analyse capture files (pcap or pcapng) and print the OT inventory.
    Analyze(AnalyzeArgs),
    /// Check an appliance configuration file and report every problem in it.
    CheckConfig(CheckConfigArgs),
    /// List the detection rules (ids to silence in the configuration).
    Rules(RulesArgs),
    /// Create the sensor's signing key pair (DIR/sensor.key, DIR/sensor.pub)
    /// and print the public key and its fingerprint for enrollment.
    Keygen(KeygenArgs),
    /// Run the sensor: capture live on the configured interfaces (or replay a
    /// capture with --pcap), signed summaries every interval, spooled on disk
    /// and delivered to the collector. SIGTERM or SIGINT spools a last
    /// summary and stops; SIGHUP reloads the configuration.
    Run(RunArgs),
    /// Show the running sensor's counters (packets, drops, shed, spool,
    /// deliveries, uptime, pid), or say that none runs.
    Status(StatusArgs),
}

#[derive(clap::Args)]
struct StatusArgs {
    /// The running sensor's state directory.
    #[arg(long, value_name = "DIR", default_value = "/var/lib/faro")]
    state: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

#[derive(clap::Args)]
struct RunArgs {
    /// The appliance configuration (needs its [uplink] section).
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// Replay this capture (pcap or pcapng) instead of capturing live on the
    /// configuration's [[interfaces]].
    #[arg(long, value_name = "FILE")]
    pcap: Option<PathBuf>,
    /// Where the spool of summaries and the status live (kept across
    /// restarts; owned by the sensor's user, writable by no one else).
    #[arg(long, value_name = "DIR", default_value = "/var/lib/faro")]
    state: PathBuf,
    /// Started as root, become this user once the captures are open (the
    /// sensor never captures as root; default: faro).
    #[arg(long, value_name = "NAME", conflicts_with = "pcap")]
    user: Option<String>,
    /// Replay at the recorded pace instead of as fast as possible.
    #[arg(long, conflicts_with = "speed")]
    recorded_speed: bool,
    /// Replay at this multiple of the recorded pace (10: ten times faster).
    #[arg(long, value_name = "FACTOR")]
    speed: Option<f64>,
    /// Seconds to keep delivering after the capture ended; what is left stays
    /// spooled for the next start.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    drain: u64,
    /// The spool's bound in bytes, overriding `uplink.spool_max_mib`: for
    /// tests, which need a spool smaller than the configuration's 1 MiB least.
    #[arg(long, value_name = "BYTES", hide = true)]
    spool_max_bytes: Option<u64>,
}

#[derive(clap::Args)]
struct KeygenArgs {
    /// Directory for sensor.key (PKCS#8 PEM, mode 0600) and sensor.pub (SPKI PEM).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Replace an existing sensor.key (the sensor must then be enrolled again).
    #[arg(long)]
    force: bool,
}

#[derive(clap::Args)]
struct RulesArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

#[derive(clap::Args)]
struct CheckConfigArgs {
    /// The configuration file (TOML; see firmware-config/faro.example.toml).
    #[arg(value_name = "FILE")]
    file: PathBuf,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// Tables for people.
    Table,
    /// JSON for machines (schema: sensor/schema/analyze.schema.json).
    Json,
}

#[derive(clap::Args)]
struct AnalyzeArgs {
    /// Capture files, analysed in order as one observation of the network.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Most flows tracked at once (least recently seen evicted beyond it).
    #[arg(long, value_name = "N")]
    max_flows: Option<usize>,
    /// Seconds of capture time after which an idle flow is closed.
    #[arg(long, value_name = "SECS")]
    flow_timeout: Option<u64>,
    /// Never draw a progress bar.
    #[arg(long)]
    no_progress: bool,
    /// Appliance configuration (zones, known assets, policy, silenced rules,
    /// limits); without one, the private address ranges are the plant and
    /// there is no policy.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Analyze(args) => analyze(args),
        Command::CheckConfig(args) => check_config(&args.file),
        Command::Rules(args) => list_rules(args.format),
        Command::Run(args) => run(&args),
        Command::Status(args) => status(&args),
        Command::Keygen(args) => match keygen(&args.out, args.force) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("faro-sensor keygen: {e:#}");
                ExitCode::FAILURE
            }
        },
    }
}

/// Writes a new key pair into `dir` and prints the public half for enrollment.
fn keygen(dir: &Path, force: bool) -> anyhow::Result<()> {
    use anyhow::Context as _;
    use faro_protocols::uplink;
    use std::os::unix::fs::DirBuilderExt as _;

    let key_path = dir.join("sensor.key");
    if !force && key_path.exists() {
        anyhow::bail!(
            "{} already exists; pass --force to replace it (the sensor must then be enrolled again)",
            key_path.display()
        );
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))?;
    let key = uplink::generate_key();
    let private = uplink::signing_key_to_pem(&key).context("encoding the private key")?;
    let public =
        uplink::verifying_key_to_pem(&key.verifying_key()).context("encoding the public key")?;
    write_atomically(&key_path, private.as_bytes(), 0o600, force)?;
    write_atomically(&dir.join("sensor.pub"), public.as_bytes(), 0o644, true)?;
    print!("{public}");
    println!("fingerprint: {}", uplink::fingerprint(&key.verifying_key()));
    Ok(())
}

/// Writes `path` so that it never exists partly written nor, even for an
/// instant, with a mode wider than `mode`: a temporary file created with
/// `mode`, synced, then renamed over `path` (`replace`) or hard-linked to it
/// (which fails if `path` appeared meanwhile).
fn write_atomically(path: &Path, bytes: &[u8], mode: u32, replace: bool) -> anyhow::Result<()> {
    use anyhow::Context as _;
    use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};

    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)
            .with_context(|| format!("creating {}", tmp.display()))?;
        // The umask may have narrowed the mode; the public key must stay readable.
        file.set_permissions(std::fs::Permissions::from_mode(mode))
            .with_context(|| format!("setting the mode of {}", tmp.display()))?;
        file.write_all(bytes)
            .and_then(|()| file.sync_all())
            .with_context(|| format!("writing {}", tmp.display()))?;
        if replace {
            std::fs::rename(&tmp, path)
        } else {
            std::fs::hard_link(&tmp, path)
        }
        .with_context(|| format!("writing {}", path.display()))?;
        // The rename or link itself must survive a power cut.
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .with_context(|| format!("syncing {}", dir.display()))
    })();
    // Already renamed on success, else a leftover: either way it must go.
    let _ = std::fs::remove_file(&tmp);
    result
}

/// Prints the rule catalogue.
fn list_rules(format: Format) -> ExitCode {
    let rendered = match format {
        Format::Json => {
            let rules: Vec<serde_json::Value> = rules::RULES
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "rule": r.id,
                        "protocol": r.protocol.map(|p| p.name()),
                        "severity": r.severity.name(),
                        "attack": r.attack,
                        "title": r.title,
                        "remediation": r.remediation,
                        "exposure": r.exposure.name(),
                    })
                })
                .collect();
            serde_json::Value::Array(rules).to_string() + "\n"
        }
        Format::Table => {
            let mut table = table::table(&["Rule", "Severity", "ATT&CK", "Title"]);
            for r in rules::RULES {
                table.add_row([r.id, r.severity.name(), &r.attack.join(", "), r.title]);
            }
            format!("{table}\n")
        }
    };
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(rendered.as_bytes()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("faro-sensor: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Prints `FILE: ok (…)`, or every problem on stderr and fails.
fn check_config(file: &Path) -> ExitCode {
    match faro_firmware_config::load(file, &rules::ids()) {
        Ok(config) => {
            println!(
                "{}: ok ({} zones, {} known assets, {} policy rules)",
                file.display(),
                config.zones.len(),
                config.assets.len(),
                config.policy.len()
            );
            ExitCode::SUCCESS
        }
        Err(errors) => {
            let mut stderr = std::io::stderr().lock();
            for problem in &errors.problems {
                let _ = writeln!(stderr, "{problem}");
            }
            ExitCode::from(EXIT_CONFIG_ERROR)
        }
    }
}

fn link_name(link: LinkType) -> &'static str {
    match link {
        LinkType::Ethernet => "ethernet",
        LinkType::LinuxSll => "linux_sll",
        LinkType::LinuxSll2 => "linux_sll2",
        LinkType::RawIp => "raw_ip",
        LinkType::Loopback => "loopback",
    }
}

/// A progress bar on stderr, drawn only for a terminal and only once the work
/// has taken more than a moment.
struct Progress {
    total: u64,
    done: u64,
    started: Instant,
    bar: Option<ProgressBar>,
    enabled: bool,
}

impl Progress {
    fn new(total: u64, enabled: bool) -> Self {
        Progress {
            total,
            done: 0,
            started: Instant::now(),
            bar: None,
            enabled: enabled && std::io::stderr().is_terminal(),
        }
    }

    /// Redraws; called every few thousand packets to keep the hot loop cheap.
    fn tick(&mut self) {
        if !self.enabled {
            return;
        }
        match &self.bar {
            Some(bar) => bar.set_position(self.done),
            None if self.started.elapsed() > Duration::from_millis(500) => {
                let bar = ProgressBar::new(self.total);
                if let Ok(style) = ProgressStyle::with_template(
                    "{spinner} {bytes}/{total_bytes} [{wide_bar}] {bytes_per_sec} eta {eta}",
                ) {
                    bar.set_style(style);
                }
                bar.set_position(self.done);
                self.bar = Some(bar);
            }
            None => {}
        }
    }

    fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

fn analyze(args: AnalyzeArgs) -> ExitCode {
    let config = match &args.config {
        Some(path) => match faro_firmware_config::load(path, &rules::ids()) {
            Ok(config) => config,
            Err(errors) => {
                eprintln!("{errors}");
                return ExitCode::from(EXIT_CONFIG_ERROR);
            }
        },
        None => Config::for_analyze(),
    };
    let mut limits = config.limits.clone();
    if let Some(n) = args.max_flows {
        limits.max_flows = n;
    }
    if let Some(secs) = args.flow_timeout {
        limits.flow_idle_timeout_secs = secs;
    }
    let total: u64 = args
        .files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let mut progress = Progress::new(total, !args.no_progress);
    let mut pipeline = Pipeline::new(limits).with_max_findings(config.findings.max_findings);
    let mut inputs = Vec::new();
    let mut failed = false;
    for path in &args.files {
        let mut input = InputReport {
            file: path.display().to_string(),
            link_type: None,
            packets: 0,
            error: None,
        };
        match CaptureFile::open(path) {
            Err(e) => {
                eprintln!("faro-sensor: {e}");
                input.error = Some(e.to_string());
                failed = true;
            }
            Ok(mut capture) => {
                let link = capture.link_type();
                input.link_type = Some(link_name(link));
                loop {
                    match capture.next_frame() {
                        Ok(Some(frame)) => {
                            input.packets += 1;
                            pipeline.process(link, &frame);
                            // Record header (16 bytes) plus captured data.
                            progress.done += 16 + frame.data.len() as u64;
                            if input.packets % 4096 == 0 {
                                progress.tick();
                            }
                        }
                        Ok(None) => break,
                        Err(e) => {
                            eprintln!("faro-sensor: {e}");
                            input.error = Some(e.to_string());
                            failed = true;
                            break;
                        }
                    }
                }
            }
        }
        inputs.push(input);
    }
    progress.finish();
    let report = pipeline.finish().into_report(inputs, &config);
    let rendered = match args.format {
        Format::Json => match serde_json::to_string_pretty(&report) {
            Ok(json) => json + "\n",
            Err(e) => {
                eprintln!("faro-sensor: cannot encode the report: {e}");
                return ExitCode::FAILURE;
            }
        },
        Format::Table => table::render(&report),
    };
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout
        .write_all(rendered.as_bytes())
        .and_then(|()| stdout.flush())
    {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("faro-sensor: cannot write the report: {e}");
            return ExitCode::FAILURE;
        }
    }
    if failed {
        ExitCode::from(EXIT_INPUT_ERROR)
    } else {
        ExitCode::SUCCESS
    }
}

/// Logs to stderr (journald takes them from there under systemd) with
/// `tracing`; `FARO_LOG` filters (`info` by default, e.g. `debug`).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("FARO_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .with_env_filter(filter)
        .init();
}

/// `status`: prints the running sensor's status; exit status 0 when a
/// sensor runs, 3 when none does, 1 when the status cannot be read.
fn status(args: &StatusArgs) -> ExitCode {
    use faro_sensor::status::{self, Found};
    let found = match status::read(&args.state) {
        Ok(found) => found,
        Err(e) => {
            eprintln!("faro-sensor: {e}");
            return ExitCode::FAILURE;
        }
    };
    let rendered = match args.format {
        Format::Table => status::render(&found, &args.state),
        Format::Json => {
            let (state, status) = match &found {
                Found::Nothing => ("none", None),
                Found::Running(s) => ("running", Some(s)),
                Found::Stale(s) => ("stale", Some(s)),
                Found::Stopped(s) => ("stopped", Some(s)),
                Found::Died(s) => ("died", Some(s)),
            };
            serde_json::json!({ "running": found.running(), "found": state, "status": status })
                .to_string()
                + "\n"
        }
    };
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(rendered.as_bytes());
    if found.running() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_NOT_RUNNING)
    }
}

/// `run`: the sensor, live or replaying a capture. Exit status 0 when it
/// stopped on a signal (what is left in the spool is sent after the next
/// start) or, replaying, when every summary was delivered; 3 when a replay
/// left summaries in the spool.
fn run(args: &RunArgs) -> ExitCode {
    init_logging();
    let config = match faro_firmware_config::load(&args.config, &rules::ids()) {
        Ok(config) => config,
        Err(errors) => {
            eprintln!("{errors}");
            return ExitCode::from(EXIT_CONFIG_ERROR);
        }
    };
    let options = faro_sensor::run::RunOptions {
        pcap: args.pcap.clone(),
        user: args.user.clone(),
        state_dir: args.state.clone(),
        speed: if args.recorded_speed {
            Some(1.0)
        } else {
            args.speed
        },
        drain: std::time::Duration::from_secs(args.drain),
        spool_max_bytes: args.spool_max_bytes,
    };
    match faro_sensor::run::run(&config, &options) {
        Ok(done) => {
            eprintln!(
                "faro-sensor: {} summaries spooled, {} delivered, {} refused, {} merged, {} shed, {} left in the spool",
                done.spooled, done.delivered, done.rejected, done.merged, done.shed, done.left
            );
            if done.left == 0 || done.stopped_by.is_some() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(3)
            }
        }
        Err(e) => {
            eprintln!("faro-sensor: {e}");
            ExitCode::FAILURE
        }
    }
}
