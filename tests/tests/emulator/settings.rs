//! The settings endpoint (`settings.py`): settings given at start, changed mid-test, refused whole.

use peerwire_emulator::{Emulator, EmulatorError, EmulatorOptions};
use serde_json::json;

// ---------------------------------------------------------------------------------------------
// The settings endpoint

#[tokio::test]
async fn settings_are_given_at_start_changed_mid_test_and_refused_whole() {
    let emulator = Emulator::start_with(&EmulatorOptions::new().setting("routes_per_table", "7"))
        .await
        .unwrap();
    let settings = emulator.settings().await.unwrap();
    assert_eq!(settings["routes_per_table"], 7);
    assert_eq!(settings["sg_rules_per_group"], 60);
    assert_eq!(settings["deny_actions"], json!([]));

    let unknown = emulator.set("no_such_setting", "1").await;
    assert!(
        matches!(&unknown, Err(EmulatorError::Settings(m)) if m.contains("unknown setting")),
        "{unknown:?}"
    );
    // One bad value refuses the whole change.
    let bad = emulator
        .set_all(&[("routes_per_table", "9"), ("expire_after", "-1")])
        .await;
    assert!(matches!(bad, Err(EmulatorError::Settings(_))), "{bad:?}");
    assert_eq!(emulator.settings().await.unwrap()["routes_per_table"], 7);

    emulator
        .set_all(&[
            (
                "deny_actions",
                "111111111111:ec2:CreateRoute, 111111111111:ec2:DeleteRoute",
            ),
            ("forget_after", "7200"),
        ])
        .await
        .unwrap();
    let settings = emulator.settings().await.unwrap();
    assert_eq!(
        settings["deny_actions"],
        json!([
            "111111111111:ec2:CreateRoute",
            "111111111111:ec2:DeleteRoute"
        ])
    );
    assert_eq!(settings["forget_after"], 7200.0);
    emulator.set("forget_after", "never").await.unwrap();
    assert_eq!(emulator.settings().await.unwrap()["forget_after"], "never");
}

#[tokio::test]
async fn a_bad_setting_at_start_stops_the_launcher() {
    let started =
        Emulator::start_with(&EmulatorOptions::new().setting("routes_per_table", "none")).await;
    assert!(
        matches!(started, Err(EmulatorError::NoPort(_))),
        "{started:?}"
    );
}
