//! `peerwire pending`: every request the request function holds, as the accepters see them.
//!
//! One dry run of the request function's sweep (the decide phase on every `pending-acceptance`
//! request of the policy's accepters), so the list and its reasons are exactly what the next
//! sweep would decide. Requests it would accept or reject on its own are not listed; a request
//! an approval cannot release (its rule does not require one) is listed and says so.

use std::process::ExitCode;

use chrono::Utc;
use peerwire::outcome::OutcomeKind;
use peerwire::reconcile::Target;
use peerwire::App;
use serde::Serialize;

use super::{held, ou_path, review, HeldRequest};
use crate::diagnose::{progress, EXIT_HEALTHY, EXIT_UNUSABLE};

#[derive(Debug, clap::Args)]
pub struct PendingArgs {
    /// Print the held requests as JSON.
    #[arg(long)]
    pub json: bool,
}

/// What `pending` found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pending {
    pub held: Vec<HeldRequest>,
    /// Accepter accounts and regions (or requests) that could not be read: the list may miss
    /// requests there.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unread: Vec<String>,
}

/// Every held request of the policy's accepters, oldest first. `Err` is "no answer".
pub async fn list(app: &App) -> Result<Pending, String> {
    let log = review(app, &Target::Sweep, None).await?;
    let now = Utc::now();
    let mut found = Vec::new();
    for (peering, decision) in log.reconciled.iter().filter_map(held) {
        let ous = ou_path(app, &peering.sides.requester.account).await?;
        found.push(HeldRequest::new(peering, decision, ous, now));
    }
    found.sort_by(|a, b| (a.expires_at, &a.peering_id).cmp(&(b.expires_at, &b.peering_id)));
    let unread = log
        .outcomes
        .iter()
        .filter(|o| o.kind == OutcomeKind::Failed)
        .map(|o| {
            let what = o
                .peering_id
                .as_ref()
                .map(|p| format!("{p}: "))
                .unwrap_or_default();
            format!("{what}{}", o.reasons.join("; "))
        })
        .collect();
    Ok(Pending {
        held: found,
        unread,
    })
}

/// The list for people, with the commands that answer each request.
pub fn render(pending: &Pending) -> String {
    let mut out = String::new();
    if pending.held.is_empty() {
        out.push_str("no request is held for an approval\n");
    }
    for request in &pending.held {
        out.push_str(&request.render());
        let at = format!(
            "--account {} --region {}",
            request.accepter.account, request.accepter.region
        );
        if request.approval_releases_it {
            out.push_str(&format!(
                "  approve: peerwire approve {} {at}\n",
                request.peering_id
            ));
        } else {
            out.push_str(
                "  an approval cannot release it (its rule requires none); fix the reasons above\n",
            );
        }
        out.push_str(&format!(
            "  deny:    peerwire deny {} {at} --reason '…'\n\n",
            request.peering_id
        ));
    }
    out
}

/// `peerwire pending`: exit 0 with the list, 2 when an accepter could not be read (the list
/// may be incomplete) or there is no answer at all.
pub async fn run(args: PendingArgs) -> Result<ExitCode, String> {
    let app = App::from_env(peerwire::aws::permissions::Job::Review)
        .await
        .map_err(|e| e.to_string())?;
    progress("deciding every pending request of the policy's accepters, in a dry run");
    let pending = list(&app).await?;
    if args.json {
        let text = serde_json::to_string_pretty(&pending).map_err(|e| e.to_string())?;
        println!("{text}");
    } else {
        print!("{}", render(&pending));
    }
    for unread in &pending.unread {
        eprintln!("peerwire: not read: {unread}");
    }
    Ok(ExitCode::from(if pending.unread.is_empty() {
        EXIT_HEALTHY
    } else {
        EXIT_UNUSABLE
    }))
}
