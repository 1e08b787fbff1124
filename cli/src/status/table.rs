//! The fleet as a table for a terminal: one line per peering, most urgent first, and under
//! each peering that is not healthy what is missing or why, with the command to run next.

use super::fleet::{time_left, Fleet, Health, Row, SideView};

/// The ANSI colour of a health word.
fn colour(health: Health) -> &'static str {
    match health {
        Health::Broken => "1;31",
        Health::Blocked => "31",
        Health::Leftover => "35",
        Health::Held => "33",
        Health::Unmanaged => "2",
        Health::Healthy => "32",
    }
}

fn side(view: Option<&SideView>, cidrs: bool) -> String {
    match view {
        None => "-".to_owned(),
        Some(v) if cidrs => {
            let cidrs: Vec<String> = v.cidrs.iter().map(ToString::to_string).collect();
            format!(
                "{} {} {} {}",
                v.account,
                v.vpc_id,
                v.region,
                cidrs.join(",")
            )
        }
        Some(v) => format!("{} {} {}", v.account, v.vpc_id, v.region),
    }
}

/// The cells of one row, in column order.
fn cells(row: &Row) -> [String; 6] {
    let requester = match &row.requester {
        None if !row.found_in.is_empty() => {
            let places: Vec<String> = row
                .found_in
                .iter()
                .map(|p| format!("{} {} ({})", p.account, p.region, p.side))
                .collect();
            format!("{}; AWS no longer shows it", places.join(", "))
        }
        requester => side(requester.as_ref(), true),
    };
    [
        row.health.as_str().to_owned(),
        row.peering_id.clone(),
        requester,
        side(row.accepter.as_ref(), false),
        row.status.clone(),
        row.rule.clone().unwrap_or_else(|| "-".to_owned()),
    ]
}

const HEADERS: [&str; 6] = [
    "HEALTH",
    "PEERING",
    "REQUESTER",
    "ACCEPTER",
    "STATUS",
    "RULE",
];

/// The table; `colour` paints the health words (a terminal without `NO_COLOR`).
pub fn render(fleet: &Fleet, colour: bool) -> String {
    let mut out = String::new();
    let scope: Vec<String> = fleet
        .scope
        .iter()
        .map(|s| format!("{}/{}", s.account, s.region))
        .collect();
    out.push_str(&format!(
        "{} in {} as of {}: {}\n",
        super::fleet::plural(fleet.peerings.len(), "peering"),
        if scope.is_empty() {
            "no accepter scope".to_owned()
        } else {
            scope.join(", ")
        },
        fleet.generated_at.format("%Y-%m-%d %H:%M UTC"),
        fleet.summary()
    ));
    if !fleet.peerings.is_empty() {
        let rows: Vec<[String; 6]> = fleet.peerings.iter().map(cells).collect();
        let mut widths = HEADERS.map(str::len);
        for cells in &rows {
            for (width, cell) in widths.iter_mut().zip(cells) {
                *width = (*width).max(cell.chars().count());
            }
        }
        out.push('\n');
        out.push_str(&line(&HEADERS.map(str::to_owned), &widths, None));
        for (row, cells) in fleet.peerings.iter().zip(&rows) {
            out.push_str(&line(cells, &widths, colour.then_some(row.health)));
            out.push_str(&details(row, fleet));
        }
    }
    if fleet.gone > 0 {
        out.push_str(&format!(
            "\n{} (deleted, rejected, failed or expired) left nothing behind; not listed.\n",
            super::fleet::plural(fleet.gone, "gone peering")
        ));
    }
    if !fleet.errors.is_empty() {
        out.push_str("\nnot read (the list above is not the whole fleet):\n");
        for error in &fleet.errors {
            let (what, retry) = (error.place(), error.retry_hint());
            out.push_str(&format!("  {what}: {}{retry}\n", error.error));
        }
    }
    out
}

/// One line of the table; the first cell painted when `paint` is set.
fn line(cells: &[String; 6], widths: &[usize; 6], paint: Option<Health>) -> String {
    let mut out = String::new();
    for (index, (cell, width)) in cells.iter().zip(widths).enumerate() {
        let pad = width.saturating_sub(cell.chars().count());
        let text = match paint {
            Some(health) if index == 0 => format!("\x1b[{}m{cell}\x1b[0m", colour(health)),
            _ => cell.clone(),
        };
        if index + 1 == cells.len() {
            out.push_str(&text);
        } else {
            out.push_str(&format!("{text}{}  ", " ".repeat(pad)));
        }
    }
    out.push('\n');
    out
}

/// What is missing, why, and the next command, under a row that is not healthy.
fn details(row: &Row, fleet: &Fleet) -> String {
    let mut out = String::new();
    let indent = "    ";
    if row.health == Health::Healthy {
        return out;
    }
    for missing in &row.missing {
        out.push_str(&format!(
            "{indent}- {} {}: {}\n",
            missing.side, missing.account, missing.what
        ));
    }
    for reason in &row.reasons {
        out.push_str(&format!("{indent}· {reason}\n"));
    }
    if let (Health::Held, Some(expires)) = (row.health, row.expires_at) {
        out.push_str(&format!(
            "{indent}· AWS expires the request in {} ({})\n",
            time_left(fleet.generated_at, expires),
            expires.format("%Y-%m-%d %H:%M UTC")
        ));
    }
    if let Some(next) = &row.next {
        out.push_str(&format!("{indent}next: {next}\n"));
    }
    out
}
