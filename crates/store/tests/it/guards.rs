//! State that every node shares against abuse and for the visibility policy: login failures,
//! used signatures, run-time settings with sealed secrets, sealed access tokens, typed and
//! verified phones with their SMS codes, and who served whom.

use std::str::FromStr;

use sqlx::{ConnectOptions, Connection, Row};

use crate::helpers::*;
use kefu_domain::*;
use kefu_store::*;

fn at(ms: i64) -> Timestamp {
    Timestamp(T0.0 + ms)
}

contract!(login_failures_count_within_their_window_and_start_over_after_it, |s| {
    assert_eq!(s.login_failures("user:a", T0).await?, 0);
    assert_eq!(s.login_failed("user:a", T0, at(1)).await?, 1);
    assert_eq!(s.login_failed("user:a", T0, at(2)).await?, 2);
    assert_eq!(s.login_failures("user:a", T0).await?, 2);
    assert_eq!(s.login_failures("user:a", at(5)).await?, 0, "a window that began earlier is over");
    assert_eq!(s.login_failed("user:a", at(5), at(6)).await?, 1, "and counting starts over");
    s.login_succeeded("user:a").await?;
    assert_eq!(s.login_failures("user:a", T0).await?, 0);
    s.login_failed("user:old", T0, at(1)).await?;
    assert_eq!(s.purge_guards(at(10), at(5)).await?, 1, "stale windows are purged");
    Ok(())
});

contract!(a_signature_is_accepted_again_only_with_the_body_it_first_signed, |s| {
    let ch = webchat(s, "dt").await;
    assert!(s.remember_signature(ch.id, "sig1", "body-a", at(1000), T0).await?);
    assert!(s.remember_signature(ch.id, "sig1", "body-a", at(1000), at(1)).await?, "a redelivery");
    assert!(!s.remember_signature(ch.id, "sig1", "body-b", at(1000), at(2)).await?, "another body");
    assert!(s.remember_signature(ch.id, "sig1", "body-b", at(3000), at(1000)).await?, "once expired");
    Ok(())
});

contract!(settings_apply_everywhere_and_their_secrets_are_sealed, |s| {
    assert_eq!(s.setting("sms").await?, None);
    s.put_setting("sms", &serde_json::json!({"provider": "aliyun"}), T0).await?;
    s.put_setting_secrets("sms", &serde_json::json!({"access_key_secret": "s3cr3t"})).await?;
    assert_eq!(s.setting("sms").await?.unwrap()["provider"], "aliyun");
    assert_eq!(s.setting_secrets("sms").await?["access_key_secret"], "s3cr3t");
    assert!(s.put_setting_secrets("missing", &serde_json::json!({})).await.is_err());
    Ok(())
});

contract!(a_typed_phone_stays_unverified_and_never_merges_until_a_code_confirms_it, |s| {
    let ch = webchat(s, "web").await;
    let dt = webchat(s, "dt2").await;
    let a = accept(s, inbound(&ch, "visitor-a", Some("m1"), "hi")).await;
    let mut platform = inbound(&dt, "staff-b", Some("m2"), "hi");
    platform.profile.phone = Some("13800000042".into());
    let b = accept(s, platform).await;
    assert!(b.identity.phone_verified, "a platform's phone is verified");
    let typed = s.set_typed_phone(a.identity.id, "13800000042").await?;
    assert!(!typed.phone_verified);
    assert!(s.oneid_matches(a.customer.id).await?.is_empty(), "typed numbers merge nobody");
    assert_eq!(s.possible_matches(a.customer.id).await?[0].customer, b.customer.id);
    let code = NewSmsCode {
        phone: "13800000042".into(),
        conversation_id: a.conversation.id,
        identity_id: a.identity.id,
        code_hash: "h".into(),
        expires_at: at(300_000),
    };
    let c = s.create_sms_code(code, T0).await?;
    assert_eq!(s.sms_counts("13800000042", a.conversation.id, T0).await?.to_phone, 1);
    s.count_sms_attempt(c.id).await?;
    assert_eq!(s.latest_sms_code(a.conversation.id).await?.unwrap().attempts, 1);
    assert!(s.confirm_sms_code(c.id, at(400_000)).await?.is_none(), "expired");
    let verified = s.confirm_sms_code(c.id, at(1)).await?.expect("confirmed");
    assert!(verified.phone_verified);
    assert!(s.confirm_sms_code(c.id, at(2)).await?.is_none(), "a code is used once");
    assert_eq!(s.oneid_matches(a.customer.id).await?.len(), 1, "now both are verified");
    assert!(s.possible_matches(a.customer.id).await?.is_empty());
    Ok(())
});

contract!(whoever_held_a_conversation_keeps_having_served_its_customer, |s| {
    let ch = webchat(s, "web3").await;
    let a = accept(s, inbound(&ch, "visitor-c", Some("m1"), "hi")).await;
    let agent = agent(s, "served1").await;
    let other = crate::helpers::agent(s, "served2").await;
    assert!(!s.has_served(agent.id, a.customer.id).await?);
    assert!(s.waits_for(agent.id, a.customer.id).await?, "an ungrouped waiting customer is everyone's");
    s.apply_event(a.conversation.id, ConversationEvent::Assign { agent: agent.id }, at(1)).await?;
    s.apply_event(a.conversation.id, ConversationEvent::Transfer { agent: other.id }, at(2)).await?;
    assert!(s.has_served(agent.id, a.customer.id).await?, "after a transfer away");
    assert!(s.has_served(other.id, a.customer.id).await?);
    assert!(!s.waits_for(agent.id, a.customer.id).await?, "assigned: no longer waiting");
    Ok(())
});

#[tokio::test]
async fn platform_access_tokens_are_sealed_at_rest() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kefu.db");
    let store = SqlStore::connect(&format!("sqlite://{}", path.display()), SecretCipher::new(&[9u8; 32]))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    store.lease_token("wx:app", T0, at(10_000)).await.unwrap();
    store.save_token("wx:app", "ACCESS-TOKEN-PLAINTEXT", at(7_200_000), at(1)).await.unwrap();
    assert_eq!(store.token("wx:app").await.unwrap().unwrap().0, "ACCESS-TOKEN-PLAINTEXT");
    let opts = sqlx::sqlite::SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display())).unwrap();
    let mut raw = opts.connect().await.unwrap();
    let row = sqlx::query("SELECT token FROM platform_tokens").fetch_one(&mut raw).await.unwrap();
    let stored: String = row.get("token");
    assert!(!stored.contains("ACCESS-TOKEN"), "the token is stored in the clear: {stored}");
    raw.close().await.unwrap();
}
