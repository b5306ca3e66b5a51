//! WeChat-family platforms: Official Account (公众号), WeCom self-built apps and 微信客服.

pub mod api;
pub mod callback;
pub mod kf;
pub mod message;
pub mod oa;
pub mod outbound;
pub mod wecom;
pub mod xml;
