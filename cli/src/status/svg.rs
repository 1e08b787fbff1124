//! The topology picture: accounts as boxes with their VPCs inside, peerings as lines between
//! VPCs coloured by health, the policy's accepter accounts (the hub) in the centre and every
//! other account on rings around it. A forgotten peering has no VPCs to join: it is a dashed
//! ring inside the account its leftovers are in. Every peering of the fleet is exactly one
//! element carrying `data-peering` and `data-health` (the page's filter and its browser test
//! rely on it), linked to its row of the table.
//!
//! Layout, so that no two boxes overlap at any size: the centre boxes are stacked at the
//! origin; every other box gets a slot as wide as the largest box's diagonal, and slots sit on
//! concentric rings one slot apart, each ring holding as many as its circumference fits (two
//! boxes whose centres are a diagonal apart cannot overlap).

use std::collections::BTreeMap;
use std::f64::consts::PI;
use std::fmt::Write as _;

use super::fleet::{Fleet, Health, Row};
use super::markup::{colour, escape};

const PAD: f64 = 8.0;
const HEADER: f64 = 22.0;
const GAP: f64 = 24.0;
const MARGIN: f64 = 24.0;
/// Text drawn over a white outline of itself: readable where a line crosses it.
const HALO: &str = r##"fill="#222" stroke="#fff" stroke-width="3" paint-order="stroke""##;
/// Above this many VPCs outside the centre, their cells drop the CIDR label (the tooltip keeps
/// it): a 500-peering hub stays one screen wide.
const LABELLED_UP_TO: usize = 40;

/// A cell of a box: a VPC, or the leftovers of a forgotten peering.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Vpc {
        vpc_id: String,
        region: String,
        cidrs: Vec<String>,
    },
    Ghost {
        peering_id: String,
        health: Health,
        region: String,
    },
}

impl Cell {
    fn label(&self) -> String {
        match self {
            Self::Vpc { cidrs, vpc_id, .. } => cidrs.first().cloned().unwrap_or(vpc_id.clone()),
            Self::Ghost { peering_id, .. } => peering_id.clone(),
        }
    }

    fn title(&self, account: &str) -> String {
        match self {
            Self::Vpc {
                vpc_id,
                region,
                cidrs,
            } => format!("{vpc_id} ({account}, {region}) {}", cidrs.join(", ")),
            Self::Ghost {
                peering_id, region, ..
            } => format!("{peering_id}: AWS no longer shows it; leftovers in {account} {region}"),
        }
    }
}

/// One account's box, placed.
#[derive(Debug, Clone, PartialEq)]
struct Placed {
    account: String,
    centre: bool,
    cells: Vec<Cell>,
    /// Cell size and columns.
    cell: (f64, f64),
    columns: usize,
    /// Top-left corner and size.
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

impl Placed {
    fn new(account: String, centre: bool, cells: Vec<Cell>, labelled: bool) -> Self {
        let cell = if labelled {
            (112.0, 40.0)
        } else {
            (24.0, 24.0)
        };
        let n = cells.len().max(1);
        let columns = (n as f64).sqrt().ceil() as usize;
        let rows = n.div_ceil(columns);
        // Wide enough for the account id in the header.
        let w = (columns as f64 * cell.0 + 2.0 * PAD).max(104.0);
        let h = HEADER + rows as f64 * cell.1 + PAD;
        Self {
            account,
            centre,
            cells,
            cell,
            columns,
            x: 0.0,
            y: 0.0,
            w,
            h,
        }
    }

    fn labelled(&self) -> bool {
        self.cell.0 > 24.0
    }

    fn centre_at(&mut self, cx: f64, cy: f64) {
        self.x = cx - self.w / 2.0;
        self.y = cy - self.h / 2.0;
    }

    /// The centre of cell `index`'s marker.
    fn point(&self, index: usize) -> (f64, f64) {
        let (column, row) = (index % self.columns, index / self.columns);
        let x = self.x + PAD + (column as f64 + 0.5) * self.cell.0;
        let y = self.y + HEADER + row as f64 * self.cell.1 + 12.0;
        (x, y)
    }

    fn diagonal(&self) -> f64 {
        self.w.hypot(self.h)
    }
}

/// The accounts of the fleet and their cells, in account order.
fn accounts(fleet: &Fleet) -> BTreeMap<String, Vec<Cell>> {
    let mut accounts: BTreeMap<String, Vec<Cell>> = BTreeMap::new();
    let mut add = |account: &str, cell: Cell| {
        let cells = accounts.entry(account.to_owned()).or_default();
        if !cells.contains(&cell) {
            cells.push(cell);
        }
    };
    for row in &fleet.peerings {
        for side in [&row.requester, &row.accepter].into_iter().flatten() {
            add(
                &side.account,
                Cell::Vpc {
                    vpc_id: side.vpc_id.clone(),
                    region: side.region.clone(),
                    cidrs: side.cidrs.iter().map(ToString::to_string).collect(),
                },
            );
        }
        for place in &row.found_in {
            add(
                &place.account,
                Cell::Ghost {
                    peering_id: row.peering_id.clone(),
                    health: row.health,
                    region: place.region.clone(),
                },
            );
        }
    }
    accounts
}

/// Every box placed: the hub's in the centre, the others on rings around it.
fn layout(fleet: &Fleet) -> Vec<Placed> {
    let accounts = accounts(fleet);
    let is_centre = |account: &str| fleet.scope.iter().any(|s| s.account == account);
    let outer_cells: usize = accounts
        .iter()
        .filter(|(a, _)| !is_centre(a))
        .map(|(_, c)| c.len())
        .sum();
    let mut centre: Vec<Placed> = Vec::new();
    let mut ring: Vec<Placed> = Vec::new();
    for (account, cells) in accounts {
        if is_centre(&account) {
            centre.push(Placed::new(account, true, cells, true));
        } else {
            let labelled = outer_cells <= LABELLED_UP_TO;
            ring.push(Placed::new(account, false, cells, labelled));
        }
    }
    // The centre: stacked, around the origin.
    let height: f64 =
        centre.iter().map(|b| b.h).sum::<f64>() + GAP * centre.len().saturating_sub(1) as f64;
    let mut top = -height / 2.0;
    let mut reach: f64 = 0.0;
    for placed in &mut centre {
        placed.centre_at(0.0, top + placed.h / 2.0);
        top += placed.h + GAP;
        for (x, y) in [
            (placed.x, placed.y),
            (placed.x + placed.w, placed.y + placed.h),
        ] {
            reach = reach.max(x.hypot(y));
        }
    }
    // The rings: one slot per box, one slot between rings.
    let diagonal = ring.iter().map(Placed::diagonal).fold(0.0, f64::max);
    let slot = diagonal + GAP;
    let mut radius = if centre.is_empty() {
        0.0
    } else {
        reach + diagonal / 2.0 + GAP
    };
    let mut placed = 0;
    let mut ring_index = 0;
    while placed < ring.len() {
        let capacity = if radius < slot / 2.0 {
            1
        } else {
            let half = (slot / (2.0 * radius)).min(1.0).asin();
            ((PI / half).floor() as usize).max(1)
        };
        let count = capacity.min(ring.len() - placed);
        // Alternate rings start half a step apart, so that lines from an outer ring pass
        // between the boxes of the inner one.
        let step = 2.0 * PI / count as f64;
        let start = -PI / 2.0 + if ring_index % 2 == 1 { step / 2.0 } else { 0.0 };
        for k in 0..count {
            let angle = start + step * k as f64;
            ring[placed + k].centre_at(radius * angle.cos(), radius * angle.sin());
        }
        placed += count;
        ring_index += 1;
        radius = if radius == 0.0 { slot } else { radius + slot };
    }
    centre.extend(ring);
    centre
}

/// Where each VPC (account, vpc id) is drawn.
fn vpc_points(boxes: &[Placed]) -> BTreeMap<(String, String), (f64, f64)> {
    let mut points = BTreeMap::new();
    for b in boxes {
        for (index, cell) in b.cells.iter().enumerate() {
            match cell {
                Cell::Vpc { vpc_id, .. } => {
                    points.insert((b.account.clone(), vpc_id.clone()), b.point(index));
                }
                Cell::Ghost { .. } => {}
            }
        }
    }
    points
}

/// Each forgotten peering's markers: (box, cell index) per place its leftovers are in.
fn ghosts(boxes: &[Placed]) -> BTreeMap<String, Vec<(&Placed, usize)>> {
    let mut ghosts: BTreeMap<String, Vec<(&Placed, usize)>> = BTreeMap::new();
    for b in boxes {
        for (index, cell) in b.cells.iter().enumerate() {
            match cell {
                Cell::Ghost { peering_id, .. } => {
                    ghosts
                        .entry(peering_id.clone())
                        .or_default()
                        .push((b, index));
                }
                Cell::Vpc { .. } => {}
            }
        }
    }
    ghosts
}

/// The cell's text under its marker, in a box that has room for it.
fn label(b: &Placed, index: usize, cell: &Cell) -> String {
    if !b.labelled() {
        return String::new();
    }
    let (cx, cy) = b.point(index);
    format!(
        r##"<text x="{cx:.1}" y="{:.1}" font-size="10" text-anchor="middle" {HALO}>{}</text>"##,
        cy + 19.0,
        escape(&cell.label())
    )
}

/// The id of a peering's row in the page's table.
pub fn anchor(row_id: &str) -> String {
    format!("row-{row_id}")
}

/// The picture, as inline SVG (no external reference).
pub fn render(fleet: &Fleet) -> String {
    let boxes = layout(fleet);
    let (mut min_x, mut min_y, mut max_x, mut max_y) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    for b in &boxes {
        min_x = min_x.min(b.x);
        min_y = min_y.min(b.y);
        max_x = max_x.max(b.x + b.w);
        max_y = max_y.max(b.y + b.h);
    }
    let (x, y) = (min_x - MARGIN, min_y - MARGIN);
    let (w, h) = (max_x - min_x + 2.0 * MARGIN, max_y - min_y + 2.0 * MARGIN);
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg id="topology" xmlns="http://www.w3.org/2000/svg" viewBox="{x:.1} {y:.1} {w:.1} {h:.1}" width="{w:.0}" height="{h:.0}" role="img" aria-label="Topology: {} accounts, {} peerings" font-family="sans-serif">"#,
        boxes.len(),
        fleet.peerings.len()
    );
    for b in &boxes {
        let (fill, stroke) = if b.centre {
            ("#eef3fb", "#5b7fb5")
        } else {
            ("#f7f7f7", "#b5b5b5")
        };
        let _ = writeln!(
            out,
            r##"<rect class="account" data-account="{}" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" rx="6" fill="{fill}" stroke="{stroke}"/>"##,
            escape(&b.account),
            b.x,
            b.y,
            b.w,
            b.h,
        );
    }
    let points = vpc_points(&boxes);
    // Healthy lines first: what needs a look is drawn over them.
    let mut rows: Vec<&Row> = fleet.peerings.iter().collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.health));
    for row in rows {
        let (Some(requester), Some(accepter)) = (&row.requester, &row.accepter) else {
            continue;
        };
        let ends = (
            points.get(&(requester.account.clone(), requester.vpc_id.clone())),
            points.get(&(accepter.account.clone(), accepter.vpc_id.clone())),
        );
        let (Some((x1, y1)), Some((x2, y2))) = ends else {
            continue;
        };
        let width = if row.health == Health::Healthy {
            1.5
        } else {
            3.0
        };
        let _ = writeln!(
            out,
            r##"<g class="peering" data-peering="{id}" data-health="{health}"><a href="#{anchor}"><title>{id}: {health} ({} {} -> {} {})</title><line x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}" stroke="{}" stroke-width="{width}" stroke-opacity="0.8" stroke-linecap="round"/></a></g>"##,
            escape(&requester.account),
            escape(&requester.vpc_id),
            escape(&accepter.account),
            escape(&accepter.vpc_id),
            colour(row.health),
            id = escape(&row.peering_id),
            health = row.health,
            anchor = escape(&anchor(&row.peering_id)),
        );
    }
    for b in &boxes {
        for (index, cell) in b.cells.iter().enumerate() {
            match cell {
                Cell::Vpc { .. } => {
                    let (cx, cy) = b.point(index);
                    let _ = writeln!(
                        out,
                        r##"<g class="vpc"><title>{}</title><circle cx="{cx:.1}" cy="{cy:.1}" r="7" fill="#fff" stroke="#444" stroke-width="1.5"/>{}</g>"##,
                        escape(&cell.title(&b.account)),
                        label(b, index, cell)
                    );
                }
                // Drawn with their peering, below.
                Cell::Ghost { .. } => {}
            }
        }
    }
    // A forgotten peering: a dashed ring where each of its leftovers is, joined by a dashed
    // line when both of its ends left something.
    for (peering_id, marks) in ghosts(&boxes) {
        let health = marks
            .iter()
            .find_map(|(b, index)| match &b.cells[*index] {
                Cell::Ghost { health, .. } => Some(*health),
                Cell::Vpc { .. } => None,
            })
            .unwrap_or(Health::Leftover);
        let stroke = colour(health);
        let _ = write!(
            out,
            r##"<g class="peering ghost" data-peering="{id}" data-health="{health}"><a href="#{anchor}">"##,
            id = escape(&peering_id),
            anchor = escape(&anchor(&peering_id)),
        );
        for pair in marks.windows(2) {
            let ((x1, y1), (x2, y2)) = (pair[0].0.point(pair[0].1), pair[1].0.point(pair[1].1));
            let _ = write!(
                out,
                r#"<line x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}" stroke="{stroke}" stroke-width="2" stroke-dasharray="6 4" stroke-opacity="0.8"/>"#
            );
        }
        for (b, index) in &marks {
            let (cx, cy) = b.point(*index);
            let cell = &b.cells[*index];
            let _ = write!(
                out,
                r##"<g><title>{}</title><circle cx="{cx:.1}" cy="{cy:.1}" r="7" fill="#fff" stroke="{stroke}" stroke-width="2.5" stroke-dasharray="3 2"/>{}</g>"##,
                escape(&cell.title(&b.account)),
                label(b, *index, cell)
            );
        }
        out.push_str("</a></g>\n");
    }
    // The accounts' names last, over any line that crosses them.
    for b in &boxes {
        let _ = writeln!(
            out,
            r##"<text x="{:.1}" y="{:.1}" font-size="11" font-weight="{}" {HALO}>{}</text>"##,
            b.x + PAD,
            b.y + 15.0,
            if b.centre { "bold" } else { "normal" },
            escape(&b.account)
        );
    }
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use peerwire::model::Side;

    use super::super::fleet::{Place, Scope, SideView};
    use super::*;

    fn side(account: &str, vpc: &str, cidr: &str) -> SideView {
        SideView {
            account: account.to_owned(),
            vpc_id: vpc.to_owned(),
            region: "us-east-1".to_owned(),
            cidrs: vec![cidr.parse().unwrap()],
        }
    }

    fn row(id: &str, health: Health, requester: Option<SideView>) -> Row {
        let found_in = if requester.is_none() {
            ["111111111111", "222222222222"]
                .map(|account| Place {
                    account: account.to_owned(),
                    region: "us-east-1".to_owned(),
                    side: Side::Requester,
                })
                .to_vec()
        } else {
            Vec::new()
        };
        Row {
            peering_id: id.to_owned(),
            health,
            status: "active".to_owned(),
            accepter: requester
                .is_some()
                .then(|| side("222222222222", "vpc-22222222", "10.1.0.0/16")),
            requester,
            found_in,
            rule: None,
            reasons: Vec::new(),
            missing: Vec::new(),
            expires_at: None,
            next: None,
        }
    }

    /// A hub: `accounts` requester accounts with `vpcs` VPCs each, all peered with one
    /// accepter VPC, and one forgotten peering.
    fn hub(accounts: usize, vpcs: usize) -> Fleet {
        let mut rows = Vec::new();
        for a in 0..accounts {
            for v in 0..vpcs {
                let n = a * vpcs + v;
                let requester = side(
                    &format!("{}", 300_000_000_000u64 + a as u64),
                    &format!("vpc-{n:08x}"),
                    &format!("10.{}.{}.0/24", 16 + n / 256, n % 256),
                );
                let health = Health::ALL[n % Health::ALL.len()];
                rows.push(row(&format!("pcx-{n:08x}"), health, Some(requester)));
            }
        }
        rows.push(row("pcx-ffffffff", Health::Leftover, None));
        let scope = vec![Scope {
            account: "222222222222".to_owned(),
            region: "us-east-1".to_owned(),
        }];
        let now = Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap();
        Fleet::of_rows(rows, 0, Vec::new(), scope, now)
    }

    #[test]
    fn every_peering_is_one_element_of_the_picture() {
        for (accounts, vpcs) in [(1, 1), (3, 2), (50, 10)] {
            let fleet = hub(accounts, vpcs);
            let svg = render(&fleet);
            for row in &fleet.peerings {
                let element = format!(r#"data-peering="{}""#, row.peering_id);
                assert_eq!(svg.matches(&element).count(), 1, "{}", row.peering_id);
            }
            assert_eq!(svg.matches("data-peering=").count(), fleet.peerings.len());
        }
    }

    #[test]
    fn no_two_boxes_overlap_and_the_hub_is_in_the_centre() {
        for (accounts, vpcs) in [(1, 1), (2, 1), (7, 3), (50, 10), (120, 1)] {
            let boxes = layout(&hub(accounts, vpcs));
            for (i, a) in boxes.iter().enumerate() {
                for b in &boxes[i + 1..] {
                    let apart = a.x + a.w <= b.x
                        || b.x + b.w <= a.x
                        || a.y + a.h <= b.y
                        || b.y + b.h <= a.y;
                    assert!(
                        apart,
                        "{} and {} overlap ({accounts}×{vpcs})",
                        a.account, b.account
                    );
                }
            }
            let hub = boxes.iter().find(|b| b.centre).unwrap();
            assert_eq!(hub.account, "222222222222");
            assert!((hub.x + hub.w / 2.0).abs() < 1e-6 && (hub.y + hub.h / 2.0).abs() < 1e-6);
        }
    }

    #[test]
    fn a_forgotten_peering_is_a_ring_in_each_account_its_leftovers_are_in() {
        let svg = render(&hub(1, 1));
        let ghost = svg
            .lines()
            .find(|l| l.contains(r#"data-peering="pcx-ffffffff""#))
            .unwrap();
        assert!(ghost.contains("stroke-dasharray"), "{ghost}");
        assert!(
            ghost.contains("leftovers in 111111111111 us-east-1"),
            "{ghost}"
        );
        assert!(
            ghost.contains("leftovers in 222222222222 us-east-1"),
            "{ghost}"
        );
        assert_eq!(ghost.matches("<circle").count(), 2, "{ghost}");
        assert_eq!(ghost.matches("<line").count(), 1, "{ghost}");
    }
}
