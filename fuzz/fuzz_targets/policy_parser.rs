//! Arbitrary UTF-8 through the policy parser (YAML and JSON). It must never panic, and a
//! policy it accepts must name only well-formed accounts, and never an approver wildcard.
#![no_main]

use libfuzzer_sys::fuzz_target;
use peerwire_core::model::AccountId;
use peerwire_core::policy::Policy;

fn account(id: &AccountId) {
    assert!(id.as_str().parse::<AccountId>().is_ok(), "{id:?}");
}

fuzz_target!(|text: &str| {
    if let Ok(policy) = Policy::parse(text) {
        for rule in &policy.rules {
            rule.requester_accounts.iter().for_each(account);
            assert!(
                !rule.requester_accounts.is_empty() || !rule.requester_ous.is_empty(),
                "{rule:?}"
            );
        }
        for scope in &policy.accepters {
            account(&scope.account);
        }
        let approvers = serde_json::to_string(&policy.approvers).unwrap_or_default();
        assert!(!approvers.contains('*'), "{approvers}");
    }
});
