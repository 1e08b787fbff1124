//! Arbitrary UTF-8 through the policy parser (YAML and JSON). It must never panic, and a
//! policy it accepts must only name 12-digit accounts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use peerwire::events::is_account_id;
use peerwire::policy::Policy;

fuzz_target!(|text: &str| {
    if let Ok(policy) = Policy::parse(text) {
        for rule in &policy.rules {
            assert!(
                rule.requester_accounts.iter().all(|a| is_account_id(a)),
                "{rule:?}"
            );
        }
        for scope in &policy.accepters {
            assert!(is_account_id(&scope.account), "{scope:?}");
        }
    }
});
