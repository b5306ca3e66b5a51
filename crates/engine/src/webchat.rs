//! The web chat send path: a message "reaches the platform" when it is published to the
//! visitor's subject, where every open tab of that visitor (on any node) picks it up.

use std::sync::Arc;

use async_trait::async_trait;
use kefu_channels::{Outbound, SendError, Sent};
use kefu_domain::{Channel, DeliveryStatus, Identity, Message};

use crate::bus::{Bus, Event, Published, Subject};

pub struct WebchatOutbound {
    bus: Arc<dyn Bus>,
}

impl WebchatOutbound {
    pub fn new(bus: Arc<dyn Bus>) -> Self {
        WebchatOutbound { bus }
    }
}

#[async_trait]
impl Outbound for WebchatOutbound {
    async fn send(&self, channel: &Channel, to: &Identity, message: &Message) -> Result<Sent, SendError> {
        let event = Event::VisitorMessage {
            channel_id: channel.id,
            visitor: to.external_id.clone(),
            message: message.clone(),
        };
        self.bus
            .publish(Subject::visitor(channel.id, &to.external_id), Published { pos: 0, event })
            .await
            .map_err(|e| SendError::retryable(e.to_string()))?;
        // Stored and pushed; a visitor who is offline reads it from history on their next visit.
        Ok(Sent { platform_msg_id: None, status: DeliveryStatus::Sent })
    }
}
