//! Server integration tests: the real app on 127.0.0.1:0 with a fresh SQLite database each.

mod helpers;

mod auth;
mod bot;
mod browser;
mod security;
mod webchat;
mod wechat;
mod wechat_hostile;
