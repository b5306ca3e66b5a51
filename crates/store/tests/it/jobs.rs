//! The job contract: written with the change that causes it, one job per lane at a time and in
//! order, finished only under the lease that claimed it, deduplicated while waiting, kept and
//! visible when it fails; batches of effects apply whole or not at all.

use crate::helpers::*;
use kefu_domain::*;
use kefu_store::*;

fn at(ms: i64) -> Timestamp {
    Timestamp(T0.0 + ms)
}

fn new(job: Job) -> NewJob {
    NewJob { job, run_at: T0 }
}

async fn pending_ids(s: &SqlStore) -> anyhow::Result<Vec<i64>> {
    Ok(s.jobs("pending", 100).await?.into_iter().map(|j| j.id).collect())
}

contract!(an_acknowledged_message_has_its_inbound_job_written_in_the_same_transaction, |s| {
    let ch = webchat(s, "site").await;
    let a = accept(s, inbound(&ch, "v1", Some("m1"), "你好")).await;
    let job = a.job.expect("the inbound job");
    let claimed = s.claim_jobs(None, "n1:1", T0, at(30_000), 10).await?;
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].id, job);
    assert_eq!(claimed[0].attempts, 1);
    let Job::Inbound { message, conversation, new_conversation, .. } = &claimed[0].job else {
        panic!("not an inbound job: {:?}", claimed[0].job)
    };
    assert_eq!((*message, *conversation, *new_conversation), (a.message.id, a.conversation.id, true));
    Ok(())
});

contract!(jobs_of_one_lane_run_one_at_a_time_in_order_while_other_lanes_go_on, |s| {
    let ch = webchat(s, "site").await;
    let a = accept(s, inbound(&ch, "v1", Some("m1"), "一")).await;
    let conv = a.conversation.id;
    let ids = s
        .enqueue_jobs(
            &[new(Job::Closed { conversation: conv }), new(Job::Enrich { identity: a.identity.id })],
            T0,
        )
        .await?;
    let first = s.claim_jobs(None, "n1:1", T0, at(30_000), 10).await?;
    let got: Vec<i64> = first.iter().map(|j| j.id).collect();
    assert_eq!(got, vec![a.job.unwrap(), ids[1]], "the conversation's second job waits, the identity's runs");
    assert!(s.claim_jobs(None, "n2:1", T0, at(30_000), 10).await?.is_empty(), "no lane runs twice at once");
    // The head backs off: the lane still waits for it rather than overtaking it.
    let retry = JobEnd::RetryAt { at: at(5_000), error: "timeout".into() };
    assert!(s.end_job(first[0].id, "n1:1", retry, at(1)).await?);
    assert!(s.claim_jobs(None, "n2:1", at(2), at(30_000), 10).await?.is_empty(), "a lane never reorders");
    let again = s.claim_jobs(None, "n2:1", at(5_000), at(35_000), 10).await?;
    assert_eq!((again.len(), again[0].id, again[0].attempts), (1, first[0].id, 2));
    assert!(s.end_job(again[0].id, "n2:1", JobEnd::Done, at(5_001)).await?);
    let next = s.claim_jobs(None, "n2:1", at(5_002), at(35_000), 10).await?;
    assert_eq!(next.iter().map(|j| j.id).collect::<Vec<_>>(), vec![ids[0]]);
    Ok(())
});

contract!(after_a_lease_runs_out_only_the_new_holder_can_finish_the_job, |s| {
    let ch = webchat(s, "site").await;
    let a = accept(s, inbound(&ch, "v1", Some("m1"), "一")).await;
    let first = s.claim_jobs(None, "n1:1", T0, at(30_000), 10).await?;
    assert!(s.claim_jobs(None, "n2:1", at(29_999), at(60_000), 10).await?.is_empty());
    let taken = s.claim_jobs(None, "n2:1", at(30_000), at(60_000), 10).await?;
    assert_eq!((taken[0].id, taken[0].attempts), (first[0].id, 2));
    assert!(
        !s.end_job(first[0].id, "n1:1", JobEnd::Done, at(30_001)).await?,
        "the old holder's result is dropped"
    );
    // A batch that finishes a job it no longer holds commits none of its effects.
    let note = Effect::Note { conversation: a.conversation.id, sender: Sender::System, text: "late".into() };
    let mut batch = Batch::new(vec![note], at(30_002));
    batch.finish = Some((first[0].id, "n1:1".into()));
    assert!(matches!(s.apply(batch).await, Err(StoreError::LeaseLost)));
    let page = MessagePage { before: None, limit: 50 };
    assert_eq!(s.messages(a.conversation.id, page).await?.len(), 1, "the late note was not written");
    assert!(s.end_job(taken[0].id, "n2:1", JobEnd::Done, at(30_003)).await?);
    assert!(pending_ids(s).await?.is_empty());
    Ok(())
});

contract!(an_equal_waiting_job_is_written_once_but_a_running_one_lets_a_new_request_queue, |s| {
    let serve = || new(Job::ServeQueue { group: None });
    let ids = s.enqueue_jobs(&[serve(), serve()], T0).await?;
    assert_eq!(ids.len(), 1, "the second request is the same work");
    assert!(s.enqueue_jobs(&[serve()], T0).await?.is_empty());
    let claimed = s.claim_jobs(None, "n1:1", T0, at(30_000), 10).await?;
    assert_eq!(claimed[0].id, ids[0]);
    // Changes made while it runs may need another pass: that request waits behind it.
    let later = s.enqueue_jobs(&[serve()], T0).await?;
    assert_eq!(later.len(), 1);
    assert!(s.claim_jobs(None, "n2:1", T0, at(30_000), 10).await?.is_empty(), "it waits for the running one");
    assert!(s.end_job(ids[0], "n1:1", JobEnd::Done, at(1)).await?);
    assert_eq!(s.claim_jobs(None, "n2:1", at(2), at(30_000), 10).await?[0].id, later[0]);
    Ok(())
});

contract!(a_job_that_gives_up_is_kept_as_failed_with_its_reason_and_can_be_run_again, |s| {
    let ids = s.enqueue_jobs(&[new(Job::ServeQueue { group: None })], T0).await?;
    let claimed = s.claim_jobs(None, "n1:1", T0, at(30_000), 10).await?;
    let end = JobEnd::Failed { error: "platform said 45015".into() };
    assert!(s.end_job(claimed[0].id, "n1:1", end, at(1)).await?);
    let failed = s.jobs("failed", 10).await?;
    assert_eq!(failed.len(), 1);
    assert_eq!((failed[0].id, failed[0].kind.as_str()), (ids[0], "serve_queue"));
    assert_eq!(failed[0].last_error.as_deref(), Some("platform said 45015"));
    assert!(s.claim_jobs(None, "n1:1", at(2), at(30_000), 10).await?.is_empty(), "failed jobs stay put");
    s.retry_job(ids[0], at(3)).await?;
    let again = s.claim_jobs(None, "n1:1", at(3), at(30_000), 10).await?;
    assert_eq!((again[0].id, again[0].attempts), (ids[0], 1));
    assert!(matches!(s.retry_job(ids[0], at(4)).await, Err(StoreError::Refused(_))), "only failed jobs");
    Ok(())
});

contract!(a_batch_of_effects_applies_whole_or_not_at_all, |s| {
    let ch = webchat(s, "site").await;
    let a = accept(s, inbound(&ch, "v1", Some("m1"), "一")).await;
    let conv = a.conversation.id;
    let current = s.conversation(conv).await?.updated_at;
    // The precondition first (the conversation as the decision saw it), then the changes; a
    // failing last effect (a conversation that is not there) must undo the ones before it.
    let effects = |broken: bool| {
        let mut e = vec![
            Effect::Expect { conversation: conv, updated_at: current },
            Effect::Note {
                conversation: conv, sender: Sender::Bot, text: "转人工：客户要发票".into()
            },
            Effect::Send(Outgoing::new(conv, Sender::Bot, Content::text("正在为您转接人工客服"))),
            Effect::BotMemory { conversation: conv, memory: "{\"misses\":2}".into() },
            Effect::Enqueue(new(Job::ServeQueue { group: None })),
        ];
        if broken {
            e.push(Effect::Awaiting { conversation: ConversationId(424_242), what: Some("phone".into()) });
        }
        e
    };
    let before = pending_ids(s).await?;
    assert!(matches!(s.apply(Batch::new(effects(true), at(1))).await, Err(StoreError::NotFound)));
    let page = || MessagePage { before: None, limit: 50 };
    assert_eq!(s.messages(conv, page()).await?.len(), 1, "no note, no send");
    assert_eq!(pending_ids(s).await?, before, "no job");
    assert_eq!(s.bot_state(conv).await?, None, "no memory");
    let applied = s.apply(Batch::new(effects(false), at(2))).await?;
    assert_eq!((applied.jobs.len(), applied.queued_sends), (1, true));
    assert_eq!(s.messages(conv, page()).await?.len(), 3);
    assert_eq!(s.bot_state(conv).await?.as_deref(), Some("{\"misses\":2}"));
    // The same decision again is stale now: the conversation moved since it was loaded.
    assert!(matches!(s.apply(Batch::new(effects(false), at(3))).await, Err(StoreError::Concurrent)));
    assert_eq!(s.messages(conv, page()).await?.len(), 3);
    Ok(())
});

contract!(a_node_lease_has_one_holder_until_it_runs_out_or_is_given_up, |s| {
    assert!(s.take_lease("tick", "n1", T0, at(10_000)).await?);
    assert!(!s.take_lease("tick", "n2", at(1), at(10_001)).await?);
    assert!(s.take_lease("tick", "n1", at(5_000), at(15_000)).await?, "the holder renews");
    assert!(!s.take_lease("tick", "n2", at(14_999), at(20_000)).await?);
    assert!(s.take_lease("tick", "n2", at(15_000), at(25_000)).await?, "an expired lease is taken over");
    // A node shutting down gives up its leases and its claimed jobs at once.
    s.enqueue_jobs(&[new(Job::ServeQueue { group: None })], T0).await?;
    assert_eq!(s.claim_jobs(None, "n2:7", at(15_001), at(45_000), 10).await?.len(), 1);
    s.release_leases("n2").await?;
    assert!(s.take_lease("tick", "n1", at(15_002), at(25_000)).await?);
    assert_eq!(s.claim_jobs(None, "n1:1", at(15_003), at(45_000), 10).await?.len(), 1, "claimable at once");
    Ok(())
});
