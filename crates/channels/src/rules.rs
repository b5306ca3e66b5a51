//! Platform send rules, kept with the domain (pure decisions use them); re-exported here for
//! the adapters.

pub use kefu_domain::rules::*;
