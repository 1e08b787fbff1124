//! `peerwire`: the command line over the same core as the Lambdas. The commands live in the
//! `peerwire_cli` library, so that the integration tests run exactly what the binary runs.

use peerwire_cli::args::{Cli, Command};
use peerwire_cli::{approvals, demo, diagnose, emulator, permissions, plan, status};

use std::process::ExitCode;

use clap::Parser;
use peerwire::model::ApprovalAnswer;

/// diagnose, plan, apply, status and check-permissions: `Err` means no answer (exit 2).
fn answer(result: Result<ExitCode, String>) -> ExitCode {
    result.unwrap_or_else(|message| {
        eprintln!("peerwire: {message}");
        ExitCode::from(diagnose::EXIT_UNUSABLE)
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Diagnose(args) => return answer(diagnose::run(args).await),
        Command::Plan(args) => return answer(plan::plan(args).await),
        Command::Apply(args) => return answer(plan::apply(args).await),
        Command::Status(args) => return answer(status::run(args).await),
        Command::CheckPermissions(args) => return answer(permissions::run(args).await),
        Command::Pending(args) => return answer(approvals::pending::run(args).await),
        Command::Approve(args) => {
            return answer(approvals::send::run(args.answer, ApprovalAnswer::Granted).await)
        }
        Command::Deny(args) => {
            let denied = ApprovalAnswer::Denied {
                reason: args.reason.trim().to_owned(),
            };
            return answer(approvals::send::run(args.answer, denied).await);
        }
        Command::Demo(args) => demo::run(args).await,
        Command::Emulator(args) => emulator::run(args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("peerwire: {message}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn diagnose_takes_a_peering_and_optional_account_region_and_json() {
        let cli = Cli::try_parse_from([
            "peerwire",
            "diagnose",
            "pcx-12345678",
            "--account",
            "222222222222",
            "--region",
            "us-east-1",
            "--json",
        ])
        .unwrap();
        let Command::Diagnose(args) = cli.command else {
            panic!("{cli:?}")
        };
        assert_eq!(args.target.peering_id, "pcx-12345678");
        assert_eq!(args.target.account.as_deref(), Some("222222222222"));
        assert!(args.json);
    }

    #[test]
    fn a_missing_peering_id_is_a_usage_error_exit_2() {
        let err = Cli::try_parse_from(["peerwire", "diagnose"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        let err = Cli::try_parse_from(["peerwire", "demo", "--break", "disk"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn check_permissions_takes_an_account_a_region_and_optionally_a_vpc() {
        let cli = Cli::try_parse_from([
            "peerwire",
            "check-permissions",
            "--account",
            "222222222222",
            "--region",
            "us-east-1",
            "--vpc",
            "vpc-12345678",
            "--json",
        ])
        .unwrap();
        let Command::CheckPermissions(args) = cli.command else {
            panic!("{cli:?}")
        };
        assert_eq!(args.vpc.as_deref(), Some("vpc-12345678"));
        assert!(args.json);
        let err =
            Cli::try_parse_from(["peerwire", "check-permissions", "--account", "1"]).unwrap_err();
        assert_eq!(err.exit_code(), 2, "--region is required");
    }

    #[test]
    fn approve_takes_a_peering_a_bus_and_automation_flags() {
        let cli = Cli::try_parse_from([
            "peerwire",
            "approve",
            "pcx-0123456789abcdef0",
            "--account",
            "222222222222",
            "--region",
            "us-east-1",
            "--bus",
            "arn:aws:events:us-east-1:333333333333:event-bus/peerwire-hub",
            "--yes",
            "--wait",
            "--cidrs",
            "10.0.0.0/16,10.2.0.0/16",
        ])
        .unwrap();
        let Command::Approve(args) = cli.command else {
            panic!("{cli:?}")
        };
        assert!(args.answer.yes && args.answer.wait);
        assert_eq!(args.answer.cidrs, ["10.0.0.0/16", "10.2.0.0/16"]);
        assert_eq!(args.answer.timeout, 120);
        // A denial says why.
        let err =
            Cli::try_parse_from(["peerwire", "deny", "pcx-12345678", "--bus", "b"]).unwrap_err();
        assert_eq!(err.exit_code(), 2, "--reason is required");
        let cli = Cli::try_parse_from([
            "peerwire",
            "deny",
            "pcx-12345678",
            "--bus",
            "b",
            "--reason",
            "not this quarter",
        ])
        .unwrap();
        assert!(matches!(cli.command, Command::Deny(ref d) if d.reason == "not this quarter"));
        let cli = Cli::try_parse_from(["peerwire", "pending", "--json"]).unwrap();
        assert!(matches!(cli.command, Command::Pending(ref p) if p.json));
    }

    #[test]
    fn status_takes_json_and_an_html_file() {
        let cli =
            Cli::try_parse_from(["peerwire", "status", "--json", "--html", "fleet.html"]).unwrap();
        let Command::Status(args) = cli.command else {
            panic!("{cli:?}")
        };
        assert!(args.json);
        assert_eq!(
            args.html.as_deref(),
            Some(std::path::Path::new("fleet.html"))
        );
        let err = Cli::try_parse_from(["peerwire", "status", "--html"]).unwrap_err();
        assert_eq!(err.exit_code(), 2, "--html needs a file");
    }

    #[test]
    fn demo_breaks_one_layer_on_request() {
        let cli = Cli::try_parse_from(["peerwire", "demo", "--break", "nacl"]).unwrap();
        let Command::Demo(args) = cli.command else {
            panic!("{cli:?}")
        };
        assert_eq!(args.break_layer, Some(demo::BreakLayer::Nacl));
    }

    /// The README's main command end to end on the emulator: the demo fails unless the
    /// diagnosis is clean, or names exactly the layer `--break` broke. Run on a thread of its
    /// own with the stack the real binary's main thread has (8 MiB): a debug build of the whole
    /// story nests deeper than a test thread's 2 MiB.
    fn demo(break_layer: Option<demo::BreakLayer>) {
        let story = std::thread::Builder::new()
            .name("demo".into())
            .stack_size(8 << 20)
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                // Demos run side by side: each writes its own page.
                let html = std::env::temp_dir().join(format!(
                    "peerwire-demo-{}-{break_layer:?}.html",
                    std::process::id()
                ));
                let args = demo::DemoArgs {
                    with_stranger: false,
                    break_layer,
                    html: html.clone(),
                };
                let story = runtime.block_on(demo::run(args));
                let page = std::fs::read_to_string(&html);
                let _ = std::fs::remove_file(&html);
                match page {
                    _ if story.is_err() => story,
                    Ok(page) if page.contains("<svg id=\"topology\"") => story,
                    Ok(_) => Err("the status page has no topology".to_owned()),
                    Err(err) => Err(format!("the status page was not written: {err}")),
                }
            })
            .expect("demo thread");
        match story.join() {
            Ok(Ok(())) => {}
            Ok(Err(err)) => panic!("demo --break {break_layer:?}: {err}"),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }

    #[test]
    fn the_demo_story_ends_with_a_clean_diagnosis() {
        demo(None);
    }

    #[test]
    fn the_demo_breaks_dns_and_diagnose_points_at_it() {
        demo(Some(demo::BreakLayer::Dns));
    }

    #[test]
    fn the_demo_breaks_routes_and_diagnose_points_at_it() {
        demo(Some(demo::BreakLayer::Routes));
    }

    #[test]
    fn the_demo_breaks_sg_and_diagnose_points_at_it() {
        demo(Some(demo::BreakLayer::Sg));
    }

    #[test]
    fn the_demo_breaks_the_nacl_and_diagnose_points_at_it() {
        demo(Some(demo::BreakLayer::Nacl));
    }
}
