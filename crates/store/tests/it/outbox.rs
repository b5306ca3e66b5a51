//! The outbox contract: durable, ordered per conversation, leased, retried, idempotent.

use crate::helpers::*;
use kefu_domain::*;
use kefu_store::*;

fn at(ms: i64) -> Timestamp {
    Timestamp(T0.0 + ms)
}

contract!(an_outbound_message_is_written_with_its_job_and_claimed_once, |s| {
    let ch = webchat(s, "site").await;
    let conv = accept(s, inbound(&ch, "v1", Some("m1"), "一")).await.conversation.id;
    let (msg, created) = reply(s, conv, "您好", Some("client-1")).await;
    assert!(created);
    assert_eq!(msg.status, DeliveryStatus::Pending);
    let jobs = s.claim_due(T0, at(30_000), 10, "w1").await?;
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].message, msg);
    assert_eq!(jobs[0].identity.external_id, "v1");
    assert_eq!(jobs[0].attempts, 1);
    assert!(s.claim_due(T0, at(30_000), 10, "w1").await?.is_empty(), "leased jobs are not claimed twice");
    let done = s
        .finish_job(
            jobs[0].id,
            &jobs[0].lease,
            JobResult::Sent { platform_msg_id: Some("p-1".into()), status: DeliveryStatus::Sent },
            T0,
        )
        .await?
        .expect("the lease holds");
    assert_eq!((done.status, done.platform_msg_id.as_deref()), (DeliveryStatus::Sent, Some("p-1")));
    assert!(s.claim_due(at(60_000), at(90_000), 10, "w1").await?.is_empty());
    assert_eq!(s.next_due().await?, None);
    Ok(())
});

contract!(resubmitting_with_the_same_idempotency_key_sends_nothing_new, |s| {
    let ch = webchat(s, "site").await;
    let conv = accept(s, inbound(&ch, "v1", Some("m1"), "一")).await.conversation.id;
    let (first, _) = reply(s, conv, "您好", Some("client-1")).await;
    let (again, created) = reply(s, conv, "您好", Some("client-1")).await;
    assert!(!created);
    assert_eq!(again.id, first.id);
    assert_eq!(s.claim_due(T0, at(1), 10, "w1").await?.len(), 1);
    Ok(())
});

contract!(a_lease_that_runs_out_makes_the_job_claimable_again, |s| {
    let ch = webchat(s, "site").await;
    let conv = accept(s, inbound(&ch, "v1", Some("m1"), "一")).await.conversation.id;
    reply(s, conv, "您好", None).await;
    assert_eq!(s.claim_due(T0, at(30_000), 10, "w1").await?.len(), 1);
    assert!(s.claim_due(at(29_999), at(60_000), 10, "w1").await?.is_empty());
    let again = s.claim_due(at(30_000), at(60_000), 10, "w2").await?;
    assert_eq!(again[0].attempts, 2);
    let sent = JobResult::Sent { platform_msg_id: None, status: DeliveryStatus::Sent };
    assert_eq!(
        s.finish_job(again[0].id, "w1", sent.clone(), at(31_000)).await?,
        None,
        "the first worker's lease ran out"
    );
    assert!(
        s.finish_job(again[0].id, "w2", sent, at(31_000)).await?.is_some(),
        "the holder records its result"
    );
    Ok(())
});

contract!(a_later_message_never_overtakes_an_earlier_one_of_the_same_conversation, |s| {
    let ch = webchat(s, "site").await;
    let c1 = accept(s, inbound(&ch, "v1", Some("m1"), "一")).await.conversation.id;
    let c2 = accept(s, inbound(&ch, "v2", Some("m2"), "二")).await.conversation.id;
    let (first, _) = reply(s, c1, "第一条", None).await;
    let (second, _) = reply(s, c1, "第二条", None).await;
    let (other, _) = reply(s, c2, "别的会话", None).await;
    let jobs = s.claim_due(T0, at(30_000), 10, "w1").await?;
    let ids: Vec<_> = jobs.iter().map(|j| j.message.id).collect();
    assert_eq!(ids, vec![first.id, other.id]);
    s.finish_job(
        jobs[0].id,
        &jobs[0].lease,
        JobResult::RetryAt { at: at(5_000), error: "500 from platform".into() },
        T0,
    )
    .await?;
    assert!(
        s.claim_due(at(1_000), at(30_000), 10, "w1").await?.is_empty(),
        "the retry is not due and blocks the next"
    );
    assert_eq!(s.next_due().await?, Some(at(5_000)));
    let retry = s.claim_due(at(5_000), at(30_000), 10, "w1").await?;
    assert_eq!(retry.iter().map(|j| j.message.id).collect::<Vec<_>>(), vec![first.id]);
    assert_eq!(s.message(first.id).await?.error.as_deref(), Some("500 from platform"));
    s.finish_job(
        retry[0].id,
        &retry[0].lease,
        JobResult::Sent { platform_msg_id: None, status: DeliveryStatus::Sent },
        at(5_000),
    )
    .await?;
    let next = s.claim_due(at(5_000), at(30_000), 10, "w1").await?;
    assert_eq!(next.iter().map(|j| j.message.id).collect::<Vec<_>>(), vec![second.id]);
    Ok(())
});

contract!(a_job_given_up_marks_its_message_failed_with_the_reason, |s| {
    let ch = webchat(s, "site").await;
    let conv = accept(s, inbound(&ch, "v1", Some("m1"), "一")).await.conversation.id;
    reply(s, conv, "您好", None).await;
    let job = s.claim_due(T0, at(30_000), 10, "w1").await?.remove(0);
    let failed = s
        .finish_job(job.id, &job.lease, JobResult::GiveUp { error: "超过48小时".into() }, T0)
        .await?
        .unwrap();
    assert_eq!((failed.status, failed.error.as_deref()), (DeliveryStatus::Failed, Some("超过48小时")));
    assert!(s.claim_due(at(100_000), at(130_000), 10, "w1").await?.is_empty());
    Ok(())
});
