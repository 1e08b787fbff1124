//! Arbitrary bytes, decoded as the Lambda runtime decodes an invocation, through the four
//! event parsers. They must never panic; whatever they accept must name well-formed ids (the
//! typed ids are valid by construction: each one must survive a round trip through its text).
#![no_main]

use libfuzzer_sys::fuzz_target;
use peerwire_core::events::{
    parse_cleanup_event, parse_drift_event, parse_request_event, parse_wiring_event,
    CleanupTrigger, RequestTrigger, WiringTrigger,
};
use peerwire_core::model::{AccountId, PeeringId, PeeringRef, Region};

fn well_formed(target: &PeeringRef) {
    assert!(
        target.peering_id.as_str().parse::<PeeringId>().is_ok(),
        "{target:?}"
    );
    assert!(
        target.account.as_str().parse::<AccountId>().is_ok(),
        "{target:?}"
    );
    assert!(
        target.region.as_str().parse::<Region>().is_ok(),
        "{target:?}"
    );
}

fuzz_target!(|data: &[u8]| {
    let Ok(event) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    match parse_request_event(&event).map(|e| e.trigger) {
        Ok(RequestTrigger::PeeringRequested(target)) => well_formed(&target),
        Ok(RequestTrigger::Approval(decision)) => {
            well_formed(&decision.peering);
            assert!(!decision.by.trim().is_empty(), "{decision:?}");
        }
        Ok(RequestTrigger::Sweep) | Err(_) => {}
    }
    if let Ok(WiringTrigger::PeeringAccepted(target)) =
        parse_wiring_event(&event).map(|e| e.trigger)
    {
        well_formed(&target);
    }
    let _ = parse_drift_event(&event);
    if let Ok(CleanupTrigger::PeeringGone(target)) = parse_cleanup_event(&event).map(|e| e.trigger)
    {
        well_formed(&target);
    }
});
