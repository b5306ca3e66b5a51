//! The NATS bus between nodes (with `KEFU_TEST_NATS_URL`): an event published on one node
//! reaches the subscribers of another, through each node's single subscription.

use std::io::Write;
use std::time::Duration;

use futures::StreamExt;
use kefu_engine::*;

fn nats_url() -> Option<String> {
    let url = std::env::var("KEFU_TEST_NATS_URL").ok();
    if url.is_none() {
        let _ = writeln!(
            std::io::stderr(),
            "\n*** KEFU_TEST_NATS_URL is not set: NATS bus tests were SKIPPED ***\n"
        );
    }
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_published_on_one_node_reaches_a_visitor_socket_on_another() {
    let Some(url) = nats_url() else { return };
    let prefix = format!("kefu-test-{:x}", rand::random::<u64>());
    let a = NatsBus::connect(&url, &prefix).await.unwrap();
    let b = NatsBus::connect(&url, &prefix).await.unwrap();
    let other = NatsBus::connect(&url, "another-deployment").await.unwrap();
    let mut on_b = b.subscribe("visitor.1.v-on-node-b").await.unwrap();
    let mut elsewhere = other.subscribe(">").await.unwrap();
    let mut not_mine = b.subscribe("visitor.1.someone-else").await.unwrap();
    // The subscription reaches the server asynchronously; publish until it is there.
    let event = Published { pos: 7, event: Event::KbChanged { version: 3 } };
    let got = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            a.publish(Subject("visitor.1.v-on-node-b".into()), event.clone()).await.unwrap();
            if let Ok(Some(item)) = tokio::time::timeout(Duration::from_millis(100), on_b.next()).await {
                return item;
            }
        }
    })
    .await
    .expect("the event crossed nodes");
    match got {
        BusItem::Event(subject, e) => {
            assert_eq!(subject.0, "visitor.1.v-on-node-b");
            assert_eq!(*e, event, "with its position");
        }
        BusItem::Lagged => panic!("lagged"),
    }
    let quiet = Duration::from_millis(200);
    assert!(tokio::time::timeout(quiet, not_mine.next()).await.is_err(), "only its subject's subscribers");
    assert!(tokio::time::timeout(quiet, elsewhere.next()).await.is_err(), "prefixes keep deployments apart");
    a.close().await;
    b.close().await;
}
