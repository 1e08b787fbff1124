//! The fleet as one self-contained page (`peerwire status --html FILE`): the counts by health,
//! the topology picture, and the table grouped by account with each peering's missing steps
//! and next command. No external asset of any kind (style, picture and script are inline), so
//! it works offline and attached to a ticket. A small inline script filters by health and by
//! text; without it the page shows everything.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::fleet::{time_left, Fleet, Health, Row, SideView};
use super::markup::{colour, escape};
use super::svg::{self, anchor};

const STYLE: &str = r#"
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.5em; margin: 0 0 .2em; }
h2 { font-size: 1.1em; margin: 1.4em 0 .4em; }
.meta { color: #555; margin: 0 0 1em; }
#counts { display: flex; flex-wrap: wrap; gap: .5em; align-items: center; margin: .5em 0 1em; }
#counts label { border: 2px solid; border-radius: 6px; padding: .3em .7em; cursor: pointer; user-select: none; }
#counts label b { font-size: 1.3em; margin-right: .2em; }
#counts input { margin-right: .4em; }
#search { padding: .35em .6em; min-width: 22em; }
figure { margin: 0 0 1em; border: 1px solid #ddd; border-radius: 6px; padding: .5em; }
figure svg { max-width: 100%; height: auto; max-height: 85vh; display: block; margin: 0 auto; }
figcaption { color: #555; font-size: .9em; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; }
col.health { width: 7.5em; } col.peering { width: 13.5em; } col.side { width: 17%; } col.rule { width: 10%; }
th, td { text-align: left; vertical-align: top; padding: .35em .5em; border-bottom: 1px solid #e4e4e4; }
th { background: #f4f4f4; font-weight: 600; }
td code, .next code { font-size: .92em; background: #f3f3f3; padding: .1em .3em; border-radius: 3px; }
.badge { color: #fff; border-radius: 4px; padding: .1em .45em; font-weight: 600; font-size: .9em; }
.mono { font-family: ui-monospace, monospace; font-size: .92em; }
td .mono { white-space: nowrap; }
td { overflow-wrap: anywhere; }
ul.details { margin: 0; padding-left: 1.1em; }
.reason { color: #444; }
.errors { border-left: 4px solid #d62728; padding-left: .8em; }
.muted { color: #777; }
"#;

const SCRIPT: &str = r#"
(function () {
  'use strict';
  var toggles = Array.prototype.slice.call(document.querySelectorAll('#counts input[data-health]'));
  var search = document.getElementById('search');
  var rows = Array.prototype.slice.call(document.querySelectorAll('tr[data-health]'));
  var marks = Array.prototype.slice.call(document.querySelectorAll('#topology [data-peering]'));
  var sections = Array.prototype.slice.call(document.querySelectorAll('section.account'));
  function apply() {
    var shown = {};
    toggles.forEach(function (t) { shown[t.getAttribute('data-health')] = t.checked; });
    var text = search.value.trim().toLowerCase();
    var visible = {};
    var count = 0;
    rows.forEach(function (row) {
      var show = shown[row.getAttribute('data-health')] &&
        (text === '' || row.getAttribute('data-text').indexOf(text) >= 0);
      row.hidden = !show;
      if (show) { visible[row.getAttribute('data-peering')] = true; count += 1; }
    });
    marks.forEach(function (mark) {
      mark.style.display = visible[mark.getAttribute('data-peering')] ? '' : 'none';
    });
    sections.forEach(function (section) {
      section.hidden = !section.querySelector('tr[data-health]:not([hidden])');
    });
    document.getElementById('shown').textContent = count;
  }
  toggles.forEach(function (t) { t.addEventListener('change', apply); });
  search.addEventListener('input', apply);
  apply();
  document.body.setAttribute('data-ready', 'yes');
})();
"#;

/// The page.
pub fn render(fleet: &Fleet) -> String {
    let mut out = String::new();
    let when = fleet.generated_at.format("%Y-%m-%d %H:%M UTC").to_string();
    let scope: Vec<String> = fleet
        .scope
        .iter()
        .map(|s| format!("{}/{}", s.account, s.region))
        .collect();
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>peerwire status, {when}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>peerwire status</h1>\n<p class=\"meta\">{} of {} as of {when}: {}.</p>\n",
        super::fleet::plural(fleet.peerings.len(), "peering"),
        escape(&if scope.is_empty() {
            "no accepter scope".to_owned()
        } else {
            scope.join(", ")
        }),
        escape(&fleet.summary())
    );
    out.push_str("<div id=\"counts\">\n");
    for health in Health::ALL {
        let _ = writeln!(
            out,
            "<label style=\"border-color:{c}\" title=\"show or hide {h} peerings\"><input type=\"checkbox\" data-health=\"{h}\" checked><b style=\"color:{c}\">{n}</b>{h}</label>",
            c = colour(health),
            h = health,
            n = fleet.count(health)
        );
    }
    let _ = writeln!(
        out,
        "<input id=\"search\" type=\"search\" placeholder=\"filter: account, VPC, CIDR, peering, rule\" aria-label=\"filter\">\
         <span class=\"muted\"><span id=\"shown\">{}</span> shown</span>\n</div>",
        fleet.peerings.len()
    );
    if !fleet.errors.is_empty() {
        out.push_str(
            "<div class=\"errors\"><h2>Not read: the fleet below is incomplete</h2><ul>\n",
        );
        for error in &fleet.errors {
            let (what, retry) = (error.place(), error.retry_hint());
            let _ = writeln!(
                out,
                "<li><span class=\"mono\">{}</span>: {}{retry}</li>",
                escape(&what),
                escape(&error.error)
            );
        }
        out.push_str("</ul></div>\n");
    }
    out.push_str("<figure>\n");
    out.push_str(&svg::render(fleet));
    out.push_str(
        "<figcaption>Accounts are boxes and VPCs circles; the policy's accepter accounts are in \
         the centre. A line is a peering, coloured by health (thicker when it needs a look); a \
         dashed ring is what a peering AWS no longer shows left behind. Hover for details, click \
         for the row.</figcaption>\n</figure>\n",
    );
    for (account, rows) in by_account(fleet) {
        section(&mut out, fleet, account, &rows);
    }
    if fleet.gone > 0 {
        let _ = writeln!(
            out,
            "<p class=\"muted\">{} (deleted, rejected, failed or expired) left nothing behind; not listed.</p>",
            super::fleet::plural(fleet.gone, "gone peering")
        );
    }
    out.push_str(
        "<p class=\"muted\">Made by <code>peerwire status --html FILE</code>: read live, \
         nothing written. <code>--json</code> prints the same as a document \
         (docs/schemas/status.schema.json).</p>\n",
    );
    let _ = write!(out, "<script>{SCRIPT}</script>\n</body>\n</html>\n");
    out
}

/// The rows grouped by account, the group with the most urgent row first.
fn by_account(fleet: &Fleet) -> Vec<(&str, Vec<&Row>)> {
    let mut groups: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
    for row in &fleet.peerings {
        groups.entry(row.account()).or_default().push(row);
    }
    let mut groups: Vec<(&str, Vec<&Row>)> = groups.into_iter().collect();
    groups.sort_by_key(|(account, rows)| (rows.iter().map(|r| r.health).min(), *account));
    groups
}

fn section(out: &mut String, fleet: &Fleet, account: &str, rows: &[&Row]) {
    let mut tally: Vec<String> = Vec::new();
    for health in Health::ALL {
        let n = rows.iter().filter(|r| r.health == health).count();
        if n > 0 {
            tally.push(format!("{n} {health}"));
        }
    }
    let _ = write!(
        out,
        "<section class=\"account\" data-account=\"{a}\">\n<h2>Account <span class=\"mono\">{a}</span> <small class=\"muted\">{}</small></h2>\n\
         <table>\n<colgroup><col class=\"health\"><col class=\"peering\"><col class=\"side\"><col class=\"side\"><col class=\"rule\"><col></colgroup>\n<thead><tr><th>health</th><th>peering</th><th>requester</th><th>accepter</th><th>rule</th><th>what to do</th></tr></thead>\n<tbody>\n",
        escape(&tally.join(", ")),
        a = escape(account)
    );
    for row in rows {
        table_row(out, fleet, row);
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
}

fn side(view: Option<&SideView>) -> String {
    match view {
        None => String::new(),
        Some(v) => {
            let cidrs: Vec<String> = v.cidrs.iter().map(ToString::to_string).collect();
            format!(
                "<span class=\"mono\">{}</span><br><span class=\"mono\">{}</span> {}<br><span class=\"muted\">{}</span>",
                escape(&v.account),
                escape(&v.vpc_id),
                escape(&cidrs.join(", ")),
                escape(&v.region)
            )
        }
    }
}

/// The text the page's filter searches: ids, accounts, CIDRs, the rule and the health.
fn searchable(row: &Row) -> String {
    let mut words = vec![
        row.peering_id.clone(),
        row.health.to_string(),
        row.status.clone(),
    ];
    for view in [&row.requester, &row.accepter].into_iter().flatten() {
        words.extend([
            view.account.clone(),
            view.vpc_id.clone(),
            view.region.clone(),
        ]);
        words.extend(view.cidrs.iter().map(ToString::to_string));
    }
    for place in &row.found_in {
        words.extend([place.account.clone(), place.region.clone()]);
    }
    words.extend(row.rule.clone());
    words.join(" ").to_lowercase()
}

fn table_row(out: &mut String, fleet: &Fleet, row: &Row) {
    let requester = if row.requester.is_none() && !row.found_in.is_empty() {
        let places: Vec<String> = row
            .found_in
            .iter()
            .map(|p| {
                format!(
                    "<span class=\"mono\">{}</span> {} ({})",
                    escape(&p.account),
                    escape(&p.region),
                    p.side
                )
            })
            .collect();
        format!(
            "{}<br><span class=\"muted\">AWS no longer shows this peering</span>",
            places.join("<br>")
        )
    } else {
        side(row.requester.as_ref())
    };
    let mut details = String::new();
    for missing in &row.missing {
        let _ = write!(
            details,
            "<li>{} <span class=\"muted\">({} {}, {})</span></li>",
            escape(&missing.what),
            missing.side,
            escape(&missing.account),
            missing.operation
        );
    }
    for reason in &row.reasons {
        let _ = write!(details, "<li class=\"reason\">{}</li>", escape(reason));
    }
    if let (Health::Held, Some(expires)) = (row.health, row.expires_at) {
        let _ = write!(
            details,
            "<li class=\"reason\">AWS expires the request in {} ({})</li>",
            time_left(fleet.generated_at, expires),
            expires.format("%Y-%m-%d %H:%M UTC")
        );
    }
    let next = row
        .next
        .as_ref()
        .map(|n| format!("<div class=\"next\">next: <code>{}</code></div>", escape(n)))
        .unwrap_or_default();
    let details = if details.is_empty() {
        String::new()
    } else {
        format!("<ul class=\"details\">{details}</ul>")
    };
    let _ = writeln!(
        out,
        "<tr id=\"{anchor}\" data-peering=\"{id}\" data-health=\"{h}\" data-text=\"{text}\">\
         <td><span class=\"badge\" style=\"background:{c}\">{h}</span></td>\
         <td><span class=\"mono\">{id}</span><br><span class=\"muted\">{status}</span></td>\
         <td>{requester}</td><td>{accepter}</td><td>{rule}</td><td>{details}{next}</td></tr>",
        anchor = escape(&anchor(&row.peering_id)),
        id = escape(&row.peering_id),
        h = row.health,
        text = escape(&searchable(row)),
        c = colour(row.health),
        status = escape(&row.status),
        accepter = side(row.accepter.as_ref()),
        rule = row.rule.as_deref().map(escape).unwrap_or_default(),
    );
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::super::fleet::{Missing, Scope};
    use super::*;

    fn fleet() -> Fleet {
        let side = |account: &str, vpc: &str, cidr: &str| SideView {
            account: account.to_owned(),
            vpc_id: vpc.to_owned(),
            region: "us-east-1".to_owned(),
            cidrs: vec![cidr.parse().unwrap()],
        };
        let row = Row {
            peering_id: "pcx-12345678".to_owned(),
            health: Health::Broken,
            status: "active".to_owned(),
            requester: Some(side("111111111111", "vpc-11111111", "10.0.0.0/16")),
            accepter: Some(side("222222222222", "vpc-22222222", "10.1.0.0/16")),
            found_in: Vec::new(),
            rule: Some("<script>alert(1)</script>".to_owned()),
            reasons: Vec::new(),
            missing: vec![Missing {
                side: peerwire::model::Side::Accepter,
                account: "222222222222".to_owned(),
                operation: "CreateRoute",
                what: "route 10.0.0.0/16 missing in rtb-11111111".to_owned(),
            }],
            expires_at: None,
            next: Some("peerwire apply pcx-12345678".to_owned()),
        };
        let scope = vec![Scope {
            account: "222222222222".to_owned(),
            region: "us-east-1".to_owned(),
        }];
        let now = Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap();
        Fleet::of_rows(vec![row], 0, Vec::new(), scope, now)
    }

    #[test]
    fn the_page_names_no_external_asset() {
        let page = render(&fleet());
        for external in ["src=", "http://", "https://", "@import", "url("] {
            let allowed = "xmlns=\"http://www.w3.org/2000/svg\"";
            let outside = page.replace(allowed, "");
            assert!(!outside.contains(external), "{external} in the page");
        }
    }

    #[test]
    fn a_broken_row_shows_what_is_missing_and_the_next_command_escaped() {
        let page = render(&fleet());
        assert!(page.contains("route 10.0.0.0/16 missing in rtb-11111111"));
        assert!(page.contains("next: <code>peerwire apply pcx-12345678</code>"));
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert_eq!(
            page.matches("<script>").count(),
            1,
            "only the page's own script"
        );
    }
}
