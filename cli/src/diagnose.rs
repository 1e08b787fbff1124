//! `peerwire diagnose <pcx-id>`: the field guides' troubleshooting table, answered for one
//! peering. The checks are [`peerwire_diagnose`]'s; this module finds the peering, prints the
//! table (colour on a terminal only) or the JSON, and picks the exit code.

use std::io::IsTerminal;
use std::process::ExitCode;

use peerwire::aws::permissions::Job;
use peerwire::model::{AccountId, IdError, Peering, PeeringId, PeeringRef, Region};
use peerwire::App;
use peerwire_diagnose::{DiagnoseOptions, Diagnosis, Status};

use crate::find;

/// Every layer ok (warnings allowed).
pub const EXIT_HEALTHY: u8 = 0;
/// At least one layer is broken (or, for `apply`, the wiring is blocked).
pub const EXIT_BROKEN: u8 = 1;
/// No answer: bad arguments, configuration, a peering nobody sees, an AWS error.
pub const EXIT_UNUSABLE: u8 = 2;

/// Which peering, and where to read it.
#[derive(Debug, Clone, clap::Args)]
pub struct Target {
    /// The VPC peering connection, e.g. pcx-0abc123def456ghi7.
    pub peering_id: String,
    /// Account to read the peering from, through its member role (default: every accepter
    /// account of the policy).
    #[arg(long)]
    pub account: Option<String>,
    /// Region to read it in (default: the policy's regions for that account, else AWS_REGION).
    #[arg(long)]
    pub region: Option<String>,
}

/// A [`Target`] with its values parsed.
#[derive(Debug, Clone)]
pub struct CheckedTarget {
    pub peering_id: PeeringId,
    pub account: Option<AccountId>,
    pub region: Option<Region>,
}

impl Target {
    /// Refuses malformed ids before any configuration is read or call made.
    pub fn check(&self) -> Result<CheckedTarget, String> {
        let peering_id = self
            .peering_id
            .parse()
            .map_err(|e: IdError| e.to_string())?;
        let account = self
            .account
            .as_deref()
            .map(|a| a.parse().map_err(|e: IdError| format!("--account {e}")))
            .transpose()?;
        let region = self
            .region
            .as_deref()
            .map(|r| r.parse().map_err(|e: IdError| format!("--region {e}")))
            .transpose()?;
        Ok(CheckedTarget {
            peering_id,
            account,
            region,
        })
    }
}

#[derive(Debug, clap::Args)]
pub struct DiagnoseArgs {
    #[command(flatten)]
    pub target: Target,
    /// Print the diagnosis as JSON (schema: docs/schemas/diagnosis.schema.json).
    #[arg(long)]
    pub json: bool,
    /// How far back the Traffic layer reads the VPC flow logs: 90s, 15m, 2h, 1d. Flow logs
    /// arrive 1 to 10 minutes late, so a window shorter than that may find nothing.
    #[arg(long, default_value = "15m", value_parser = peerwire_diagnose::parse_window)]
    pub since: std::time::Duration,
}

/// A progress line on stderr, only when a person watches it (stdout stays clean for pipes).
pub fn progress(line: &str) {
    if std::io::stderr().is_terminal() {
        eprintln!("… {line}");
    }
}

/// Colour only on a terminal, and never with `NO_COLOR` set (no-color.org).
pub fn colour_stdout() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Where a peering was looked for, and what was found.
#[derive(Debug)]
pub struct Lookup {
    pub app: App,
    pub peering_id: PeeringId,
    /// The peering, as the first account and region that shows it describes it; `None` when
    /// none does (AWS forgets a gone peering after about two hours).
    pub found: Option<(Peering, PeeringRef)>,
    /// Where it was looked for: `222222222222/us-east-1, …`.
    pub tried: String,
}

impl Lookup {
    /// The peering found, or "not found" as an answer-less error.
    fn into_found(self) -> Result<(App, Peering, PeeringRef), String> {
        match self.found {
            Some((peering, at)) => Ok((self.app, peering, at)),
            None => Err(format!(
                "peering {} not found in {}; pass --account and --region of one of its sides",
                self.peering_id, self.tried
            )),
        }
    }
}

/// The configured app, and the peering read through the member role of each candidate account
/// and region in turn. Every error here means "no answer" (exit 2); not finding the peering
/// is not one.
pub async fn look_up(target: &Target) -> Result<Lookup, String> {
    look_up_as(Job::All, target).await
}

/// [`look_up`], the member roles assumed for `job` only (their session policy).
async fn look_up_as(job: Job, target: &Target) -> Result<Lookup, String> {
    // Malformed ids are refused before any configuration is read.
    let peering_id = target.check()?.peering_id;
    let app = App::from_env(job).await.map_err(|e| e.to_string())?;
    let (found, tried) = search(&app, target).await?;
    Ok(Lookup {
        app,
        peering_id,
        found,
        tried,
    })
}

/// The configured app and the peering, read through the member role of the first account
/// and region that sees it. Every error here means "no answer" (exit 2).
pub async fn connect(target: &Target) -> Result<(App, Peering, PeeringRef), String> {
    connect_as(Job::All, target).await
}

/// [`connect`], the member roles assumed for `job` only (their session policy).
pub async fn connect_as(job: Job, target: &Target) -> Result<(App, Peering, PeeringRef), String> {
    look_up_as(job, target).await?.into_found()
}

/// The peering `target` names, as the first account and region that sees it describes it.
pub async fn find_peering(app: &App, target: &Target) -> Result<(Peering, PeeringRef), String> {
    let (found, tried) = search(app, target).await?;
    found.ok_or_else(|| {
        format!(
            "peering {} not found in {tried}; pass --account and --region of one of its sides",
            target.peering_id
        )
    })
}

/// The peering `target` names, from the first candidate account and region that shows it, and
/// where it was looked for.
async fn search(
    app: &App,
    target: &Target,
) -> Result<(Option<(Peering, PeeringRef)>, String), String> {
    let target = target.check()?;
    let policy = app.policies.current().await.map_err(|e| e.to_string())?;
    let default_region = app
        .aws
        .base()
        .region()
        .and_then(|r| r.as_ref().parse().ok());
    let candidates = find::candidates(
        &policy,
        target.account.as_ref(),
        target.region.as_ref(),
        default_region.as_ref(),
    );
    if candidates.is_empty() {
        return Err(format!(
            "nowhere to look for {}: pass --account and --region (the policy names no accepter \
             there)",
            target.peering_id
        ));
    }
    let tried = candidates
        .iter()
        .map(|(a, r)| format!("{a}/{r}"))
        .collect::<Vec<_>>()
        .join(", ");
    progress(&format!("reading {} from {tried}", target.peering_id));
    let found = find::peering(app, &target.peering_id, &candidates)
        .await
        .map_err(|e| e.to_string())?;
    Ok((found, tried))
}

/// Runs `peerwire diagnose`. `Err` is "no answer" (exit 2).
pub async fn run(args: DiagnoseArgs) -> Result<ExitCode, String> {
    let (app, peering, _) = connect(&args.target).await?;
    progress("reading both VPCs: routes, security groups, network ACLs, DNS, RDS, flow logs");
    let options = DiagnoseOptions {
        traffic_window: args.since,
    };
    let diagnosis = peerwire_diagnose::diagnose_peering_with(&app, peering, &options)
        .await
        .map_err(|e| e.to_string())?;
    if args.json {
        println!("{}", to_json(&diagnosis)?);
    } else {
        print!("{}", render(&diagnosis, colour_stdout()));
    }
    Ok(ExitCode::from(exit_code(&diagnosis)))
}

/// `1` when any layer is broken, else `0`.
pub fn exit_code(diagnosis: &Diagnosis) -> u8 {
    if diagnosis.healthy {
        EXIT_HEALTHY
    } else {
        EXIT_BROKEN
    }
}

/// The `--json` document.
pub fn to_json(diagnosis: &Diagnosis) -> Result<String, String> {
    serde_json::to_string_pretty(diagnosis).map_err(|e| e.to_string())
}

fn paint(text: &str, status: Status, colour: bool) -> String {
    if !colour {
        return text.to_owned();
    }
    let code = match status {
        Status::Ok => "32",
        Status::Warning => "33",
        Status::Broken => "1;31",
        Status::Skipped => "2",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

/// `text` padded to `width` columns, then painted (escape codes take no columns).
fn cell(text: &str, width: usize, status: Status, colour: bool) -> String {
    let pad = width.saturating_sub(text.chars().count());
    format!("{}{}", paint(text, status, colour), " ".repeat(pad))
}

const LAYER_WIDTH: usize = 19;
const STATUS_WIDTH: usize = 9;

/// The table for people: one row per layer (one more per extra problem), each finding with
/// its fix underneath, and a verdict line.
pub fn render(d: &Diagnosis, colour: bool) -> String {
    let mut out = String::new();
    let rule = d
        .rule
        .as_deref()
        .map(|r| format!(", policy rule `{r}`"))
        .unwrap_or_default();
    out.push_str(&format!("{} ({}{rule})\n", d.peering_id, d.status));
    for (name, side) in [("requester", &d.requester), ("accepter", &d.accepter)] {
        let cidrs = side
            .cidrs
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        out.push_str(&format!(
            "  {name:<9} {} {} {} {cidrs}\n",
            side.account, side.vpc_id, side.region
        ));
    }
    out.push_str(&format!(
        "\n{:<LAYER_WIDTH$}{:<STATUS_WIDTH$}FINDING / FIX\n",
        "LAYER", "STATUS"
    ));
    let indent = " ".repeat(LAYER_WIDTH + STATUS_WIDTH);
    for (index, layer) in d.layers.iter().enumerate() {
        let name = format!("{} {}", index + 1, layer.title);
        let rows: Vec<(Status, &str, Option<&str>)> = if layer.problems.is_empty() {
            vec![(layer.status, &layer.finding, layer.fix.as_deref())]
        } else {
            layer
                .problems
                .iter()
                .map(|p| (p.status, p.finding.as_str(), Some(p.fix.as_str())))
                .collect()
        };
        for (row, (status, finding, fix)) in rows.into_iter().enumerate() {
            let label = if row == 0 { name.as_str() } else { "" };
            out.push_str(&format!(
                "{:<LAYER_WIDTH$}{}{finding}\n",
                label,
                cell(status.as_str(), STATUS_WIDTH, status, colour)
            ));
            if let Some(fix) = fix.filter(|f| !f.is_empty()) {
                out.push_str(&format!("{indent}fix: {fix}\n"));
            }
        }
    }
    let names = |status: Status| {
        d.layers
            .iter()
            .filter(|l| l.status == status)
            .map(|l| l.layer.as_str())
            .collect::<Vec<_>>()
    };
    let broken = names(Status::Broken);
    let warnings = names(Status::Warning);
    let verdict = if !broken.is_empty() {
        paint(
            &format!("broken: {}", broken.join(", ")),
            Status::Broken,
            colour,
        )
    } else if !warnings.is_empty() {
        paint(
            &format!("healthy, with warnings: {}", warnings.join(", ")),
            Status::Warning,
            colour,
        )
    } else {
        paint("healthy: nothing broken", Status::Ok, colour)
    };
    out.push_str(&format!("\n{verdict}\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use peerwire::testing::id;
    use peerwire_diagnose::{Layer, LayerId, Problem, SideSummary, SCHEMA_VERSION};

    fn layer(id: LayerId, status: Status, finding: &str, problems: Vec<Problem>) -> Layer {
        Layer {
            layer: id,
            title: id.title().to_owned(),
            status,
            finding: finding.to_owned(),
            fix: problems.first().map(|p| p.fix.clone()),
            problems,
        }
    }

    fn sample() -> Diagnosis {
        let side = |account: &str, vpc: &str, cidr: &str| SideSummary {
            account: id(account),
            vpc_id: id(vpc),
            region: id("us-east-1"),
            cidrs: vec![cidr.parse().unwrap()],
        };
        let problem = Problem {
            status: Status::Broken,
            side: None,
            resource: Some("rtb-1".to_owned()),
            subnets: vec!["subnet-b".to_owned()],
            finding: "accepter route table rtb-1 (subnets subnet-b) has no route".to_owned(),
            fix: "add route".to_owned(),
        };
        Diagnosis {
            schema_version: SCHEMA_VERSION,
            peering_id: id("pcx-12345678"),
            status: "active".to_owned(),
            status_message: None,
            requester: side("111111111111", "vpc-1111aaaa", "10.0.0.0/16"),
            accepter: side("222222222222", "vpc-2222aaaa", "10.1.0.0/16"),
            rule: Some("payments".to_owned()),
            healthy: false,
            layers: vec![
                layer(
                    LayerId::PeeringStatus,
                    Status::Ok,
                    "pcx-12345678 is active",
                    vec![],
                ),
                layer(
                    LayerId::Routes,
                    Status::Broken,
                    "accepter route table rtb-1 (subnets subnet-b) has no route",
                    vec![problem],
                ),
                layer(LayerId::Rds, Status::Skipped, "no DB instance", vec![]),
            ],
            traffic: None,
        }
    }

    #[test]
    fn the_table_shows_layer_status_finding_and_fix_without_colour() {
        let text = render(&sample(), false);
        let expected = "\
pcx-12345678 (active, policy rule `payments`)
  requester 111111111111 vpc-1111aaaa us-east-1 10.0.0.0/16
  accepter  222222222222 vpc-2222aaaa us-east-1 10.1.0.0/16

LAYER              STATUS   FINDING / FIX
1 Peering status   ok       pcx-12345678 is active
2 Routes           broken   accepter route table rtb-1 (subnets subnet-b) has no route
                            fix: add route
3 RDS              skipped  no DB instance

broken: routes
";
        assert_eq!(text, expected);
        assert!(!text.contains('\x1b'));
    }

    #[test]
    fn colour_marks_the_status_words_only_when_asked() {
        let text = render(&sample(), true);
        assert!(text.contains("\x1b[1;31mbroken\x1b[0m"), "{text}");
        assert!(text.contains("\x1b[32mok\x1b[0m"), "{text}");
    }

    #[test]
    fn a_broken_layer_exits_1_and_a_healthy_diagnosis_0() {
        let mut d = sample();
        assert_eq!(exit_code(&d), EXIT_BROKEN);
        d.healthy = true;
        assert_eq!(exit_code(&d), EXIT_HEALTHY);
    }

    #[test]
    fn since_defaults_to_15_minutes_and_takes_a_unit() {
        use clap::Parser;
        #[derive(Debug, clap::Parser)]
        struct Cli {
            #[command(flatten)]
            args: DiagnoseArgs,
        }
        let parse = |extra: &[&str]| {
            let argv = [&["peerwire", "pcx-12345678"][..], extra].concat();
            Cli::try_parse_from(argv).map(|cli| cli.args.since)
        };
        assert_eq!(
            parse(&[]).ok(),
            Some(std::time::Duration::from_secs(15 * 60))
        );
        assert_eq!(
            parse(&["--since", "2h"]).ok(),
            Some(std::time::Duration::from_secs(7200))
        );
        assert!(parse(&["--since", "soon"]).is_err());
    }

    #[test]
    fn malformed_ids_are_usage_errors() {
        let target = |id: &str, account: Option<&str>, region: Option<&str>| Target {
            peering_id: id.to_owned(),
            account: account.map(str::to_owned),
            region: region.map(str::to_owned),
        };
        assert!(target("pcx-0123456789abcdef0", None, None).check().is_ok());
        assert!(target("vpc-12345678", None, None).check().is_err());
        assert!(target("pcx-12345678", Some("1111"), None).check().is_err());
        assert!(target("pcx-12345678", None, Some("mars")).check().is_err());
    }
}
