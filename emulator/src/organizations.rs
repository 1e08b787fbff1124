//! AWS Organizations on the emulator, from the hub account (the organization's management
//! account): calls in its JSON protocol, and the nested OU tree vended accounts sit in.

use serde_json::{json, Value};

use crate::{Emulator, EmulatorError, HUB_ACCOUNT};

/// `AWSOrganizationsV20161128.<action>` with `body`, as the hub account; the answer's JSON,
/// or an error for any status but 200.
pub async fn call(emulator: &Emulator, action: &str, body: Value) -> Result<Value, EmulatorError> {
    let answer = emulator
        .call_json(
            HUB_ACCOUNT,
            "organizations",
            &format!("AWSOrganizationsV20161128.{action}"),
            &body,
        )
        .await?;
    Ok(answer.success(action)?.json())
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

/// A new organization with root → `workloads` → `payments`, and a new account named
/// `account_name` moved into `payments`: (account id, [payments, workloads, root]), the
/// account's parents from the nearest up.
pub async fn nested_account(
    emulator: &Emulator,
    account_name: &str,
) -> Result<(String, [String; 3]), EmulatorError> {
    call(emulator, "CreateOrganization", json!({"FeatureSet": "ALL"})).await?;
    let root = text(&call(emulator, "ListRoots", json!({})).await?["Roots"][0]["Id"]);
    let mut parent = root.clone();
    let mut units = Vec::new();
    for name in ["workloads", "payments"] {
        let created = call(
            emulator,
            "CreateOrganizationalUnit",
            json!({"ParentId": parent, "Name": name}),
        )
        .await?;
        parent = text(&created["OrganizationalUnit"]["Id"]);
        units.push(parent.clone());
    }
    let created = call(
        emulator,
        "CreateAccount",
        json!({"AccountName": account_name, "Email": format!("{account_name}@example.com")}),
    )
    .await?;
    let account = text(&created["CreateAccountStatus"]["AccountId"]);
    move_account(emulator, &account, &root, &parent).await?;
    let [workloads, payments]: [String; 2] = units
        .try_into()
        .map_err(|_| EmulatorError::Seed("two OUs".into()))?;
    Ok((account, [payments, workloads, root]))
}

/// Moves `account` from `from` to `to` (an OU or the root).
pub async fn move_account(
    emulator: &Emulator,
    account: &str,
    from: &str,
    to: &str,
) -> Result<(), EmulatorError> {
    call(
        emulator,
        "MoveAccount",
        json!({"AccountId": account, "SourceParentId": from, "DestinationParentId": to}),
    )
    .await?;
    Ok(())
}
