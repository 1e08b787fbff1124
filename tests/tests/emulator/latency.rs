//! The `latency` patch (`latency.py`): a fixed delay before every answer, so that benchmarks
//! can measure how many round trips lie on peerwire's critical path. Calls in flight at once
//! wait side by side, as on AWS.

use std::time::{Duration, Instant};

use super::*;

const LATENCY: &str = "latency";

/// How long 8 `DescribeVpcs` in flight at once take.
async fn eight_at_once(ec2: &Client) -> Duration {
    let started = Instant::now();
    let calls = (0..8).map(|_| ec2.describe_vpcs().send());
    for answer in futures_util::future::join_all(calls).await {
        answer.unwrap();
    }
    started.elapsed()
}

#[tokio::test]
async fn latency_delays_every_call_and_calls_in_flight_wait_together() {
    let (scenario, emulator) = world(&[]).await;
    let ec2 = &scenario.requester.ec2;
    emulator.set("latency_ms", "300").await.unwrap();
    let started = Instant::now();
    ec2.describe_vpcs().send().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    let together = eight_at_once(ec2).await;
    assert!(together >= Duration::from_millis(300), "{together:?}");
    assert!(together < Duration::from_millis(1500), "{together:?}");
}

#[tokio::test]
async fn without_latency_moto_answers_at_once() {
    let (scenario, emulator) = world(&[LATENCY]).await;
    emulator.set("latency_ms", "300").await.unwrap();
    let started = Instant::now();
    scenario.requester.ec2.describe_vpcs().send().await.unwrap();
    assert!(started.elapsed() < Duration::from_millis(300));
}
