//! Pure domain types of kefu and the conversation state machine; no IO lives here.

pub mod agent;
pub mod channel;
pub mod clock;
pub mod conversation;
pub mod customer;
pub mod effects;
pub mod faq;
pub mod hours;
pub mod ids;
pub mod message;
pub mod routing;
pub mod rules;

pub use agent::{Agent, AgentStatus, GroupRouting, Role, SkillGroup, Strategy};
pub use channel::{Channel, ChannelKind};
pub use clock::{Clock, ManualClock, SystemClock, Timestamp};
pub use conversation::{CloseReason, Conversation, ConversationEvent, ConversationState, IllegalTransition};
pub use customer::{Customer, CustomerMerge, CustomerNote, Identity, Profile};
pub use effects::{Effect, Job, NewJob, Outgoing};
pub use faq::FaqEntry;
pub use hours::BusinessHours;
pub use ids::{AgentId, ChannelId, ConversationId, CustomerId, IdentityId, MessageId, SkillGroupId};
pub use message::{Choice, Content, DeliveryStatus, Direction, Message, Sender};
