//! Arbitrary bytes, decoded as the Lambda runtime decodes an invocation, through the four
//! event parsers. They must never panic; whatever they accept must name well-formed ids.
#![no_main]

use libfuzzer_sys::fuzz_target;
use peerwire::events::{
    is_account_id, is_peering_id, is_region, parse_cleanup_event, parse_drift_event,
    parse_request_event, parse_wiring_event, RequestTrigger, WiringTrigger,
};

fuzz_target!(|data: &[u8]| {
    let Ok(event) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    match parse_request_event(&event).map(|e| e.trigger) {
        Ok(RequestTrigger::PeeringRequested(target))
        | Ok(RequestTrigger::Approval {
            peering: target, ..
        }) => {
            assert!(is_peering_id(&target.peering_id), "{target:?}");
            assert!(is_account_id(&target.accepter_account), "{target:?}");
            assert!(is_region(&target.region), "{target:?}");
        }
        Ok(RequestTrigger::Sweep) | Err(_) => {}
    }
    if let Ok(WiringTrigger::PeeringAccepted(target)) =
        parse_wiring_event(&event).map(|e| e.trigger)
    {
        assert!(is_peering_id(&target.peering_id), "{target:?}");
        assert!(is_account_id(&target.accepter_account), "{target:?}");
        assert!(is_region(&target.region), "{target:?}");
    }
    let _ = parse_drift_event(&event);
    let _ = parse_cleanup_event(&event);
});
