//! The `service-quotas-vpc` patch (`servicequotas.py`).

use peerwire_emulator::scenario::REQUESTER_ACCOUNT;
use peerwire_emulator::{Emulator, EmulatorOptions, HttpAnswer, REGION};
use serde_json::json;

use super::*;

const SERVICE_QUOTAS_VPC: &str = "service-quotas-vpc";
// ---------------------------------------------------------------------------------------------
// service-quotas-vpc

async fn vpc_quota(emulator: &Emulator, code: &str) -> HttpAnswer {
    emulator
        .call_json(
            REQUESTER_ACCOUNT,
            "servicequotas",
            "ServiceQuotasV20190624.GetServiceQuota",
            &json!({"ServiceCode": "vpc", "QuotaCode": code}),
        )
        .await
        .unwrap()
}

fn quota_value(answer: &HttpAnswer) -> f64 {
    assert_eq!(answer.status, 200, "{answer:?}");
    answer.json()["Quota"]["Value"].as_f64().unwrap()
}

#[tokio::test]
async fn service_quotas_vpc_answers_the_enforced_quotas() {
    let emulator = Emulator::start().await.unwrap();
    let rules = vpc_quota(&emulator, "L-0EA8095F").await;
    assert_eq!(quota_value(&rules), 60.0);
    assert_eq!(
        rules.json()["Quota"]["QuotaArn"],
        format!("arn:aws:servicequotas:{REGION}:{REQUESTER_ACCOUNT}:vpc/L-0EA8095F")
    );
    assert_eq!(quota_value(&vpc_quota(&emulator, "L-93826ACB").await), 50.0);

    emulator
        .set_all(&[("sg_rules_per_group", "5"), ("routes_per_table", "20")])
        .await
        .unwrap();
    assert_eq!(quota_value(&vpc_quota(&emulator, "L-0EA8095F").await), 5.0);
    assert_eq!(quota_value(&vpc_quota(&emulator, "L-93826ACB").await), 20.0);

    let unknown = vpc_quota(&emulator, "L-00000000").await;
    assert_eq!(unknown.status, 400);
    assert_eq!(error_type(&unknown), "NoSuchResourceException");
}

#[tokio::test]
async fn without_service_quotas_vpc_moto_answers_the_aws_defaults() {
    let emulator = Emulator::start_with(
        &EmulatorOptions::new()
            .disable(SERVICE_QUOTAS_VPC)
            .setting("sg_rules_per_group", "5"),
    )
    .await
    .unwrap();
    let rules = vpc_quota(&emulator, "L-0EA8095F").await;
    assert_eq!(quota_value(&rules), 60.0);
    let arn = rules.json()["Quota"]["QuotaArn"].clone();
    assert!(
        !arn.as_str().unwrap_or_default().contains(REQUESTER_ACCOUNT),
        "{arn}"
    );
}
