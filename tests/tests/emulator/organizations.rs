//! Organizations (`organizations.py`): ListParents as moto does it, suspended and closing accounts.

use peerwire_emulator::{organizations, Emulator};
use serde_json::{json, Value};

const ORGANIZATIONS_SUSPENDED_ACCOUNTS: &str = "organizations-suspended-accounts";

// ---------------------------------------------------------------------------------------------
// Organizations

async fn org(emulator: &Emulator, action: &str, body: Value) -> Value {
    organizations::call(emulator, action, body).await.unwrap()
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

/// An organization with root → workloads → payments and one account in payments:
/// (account id, [payments, workloads, root]).
async fn nested_account(emulator: &Emulator) -> (String, [String; 3]) {
    let nested = organizations::nested_account(emulator, "payments-db");
    nested.await.unwrap()
}

/// The account's status as DescribeAccount, ListAccounts and ListAccountsForParent show it.
async fn account_status(emulator: &Emulator, account: &str, parent: &str) -> [String; 4] {
    let described = org(emulator, "DescribeAccount", json!({"AccountId": account})).await;
    let find = |listed: Value| {
        listed["Accounts"]
            .as_array()
            .and_then(|a| a.iter().find(|x| x["Id"] == account).cloned())
            .map(|x| text(&x["Status"]))
            .unwrap_or_default()
    };
    [
        text(&described["Account"]["Status"]),
        text(&described["Account"]["State"]),
        find(org(emulator, "ListAccounts", json!({})).await),
        find(
            org(
                emulator,
                "ListAccountsForParent",
                json!({"ParentId": parent}),
            )
            .await,
        ),
    ]
}

#[tokio::test]
async fn organizations_list_parents_walks_from_a_nested_account_to_the_root() {
    let emulator = Emulator::start().await.unwrap();
    let (account, expected) = nested_account(&emulator).await;
    let mut chain = Vec::new();
    let mut child = account.clone();
    loop {
        let parents = org(&emulator, "ListParents", json!({"ChildId": child})).await;
        let parent = &parents["Parents"][0];
        chain.push(text(&parent["Id"]));
        if parent["Type"] == "ROOT" {
            break;
        }
        assert_eq!(parent["Type"], "ORGANIZATIONAL_UNIT");
        child = text(&parent["Id"]);
        assert!(chain.len() < 10, "no root above {account}: {chain:?}");
    }
    assert_eq!(chain, expected.to_vec());
}

#[tokio::test]
async fn organizations_suspended_accounts_are_described_as_suspended() {
    let emulator = Emulator::start().await.unwrap();
    let (account, parents) = nested_account(&emulator).await;
    let active = ["ACTIVE", "ACTIVE", "ACTIVE", "ACTIVE"].map(String::from);
    assert_eq!(
        account_status(&emulator, &account, &parents[0]).await,
        active
    );
    emulator.set("suspended_accounts", &account).await.unwrap();
    assert_eq!(
        account_status(&emulator, &account, &parents[0]).await,
        ["SUSPENDED", "SUSPENDED", "SUSPENDED", "SUSPENDED"].map(String::from)
    );
    emulator.set("suspended_accounts", "").await.unwrap();
    assert_eq!(
        account_status(&emulator, &account, &parents[0]).await,
        active
    );
}

#[tokio::test]
async fn without_organizations_suspended_accounts_moto_keeps_every_account_active() {
    let emulator = Emulator::start_with_disabled(&[ORGANIZATIONS_SUSPENDED_ACCOUNTS])
        .await
        .unwrap();
    let (account, parents) = nested_account(&emulator).await;
    emulator.set("suspended_accounts", &account).await.unwrap();
    assert_eq!(
        account_status(&emulator, &account, &parents[0]).await,
        ["ACTIVE", "ACTIVE", "ACTIVE", "ACTIVE"].map(String::from)
    );
}

#[tokio::test]
async fn organizations_pending_closure_accounts_are_described_as_pending_closure() {
    // AWS Organizations API, Account: Status ACTIVE | SUSPENDED | PENDING_CLOSURE, and State
    // (which replaces it) with PENDING_CLOSURE among its values.
    let emulator = Emulator::start().await.unwrap();
    let (account, parents) = nested_account(&emulator).await;
    emulator
        .set("pending_closure_accounts", &account)
        .await
        .unwrap();
    assert_eq!(
        account_status(&emulator, &account, &parents[0]).await,
        [
            "PENDING_CLOSURE",
            "PENDING_CLOSURE",
            "PENDING_CLOSURE",
            "PENDING_CLOSURE"
        ]
        .map(String::from)
    );
}

#[tokio::test]
async fn without_organizations_suspended_accounts_moto_keeps_a_closing_account_active() {
    let emulator = Emulator::start_with_disabled(&[ORGANIZATIONS_SUSPENDED_ACCOUNTS])
        .await
        .unwrap();
    let (account, parents) = nested_account(&emulator).await;
    emulator
        .set("pending_closure_accounts", &account)
        .await
        .unwrap();
    assert_eq!(
        account_status(&emulator, &account, &parents[0]).await,
        ["ACTIVE", "ACTIVE", "ACTIVE", "ACTIVE"].map(String::from)
    );
}
