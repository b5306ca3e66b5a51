//! kefu's HTTP side: the agent API, the web chat WebSocket, the live feed and the embedded UI.

pub mod admin;
pub mod agents;
pub mod agents_import;
pub mod api;
pub mod apikeys;
pub mod app;
pub mod auth;
pub mod callbacks;
pub mod config;
pub mod customers;
pub mod dashboard;
pub mod data_api;
pub mod dingtalk;
pub mod error;
pub mod feed;
pub mod groups;
pub mod guard;
pub mod history;
pub mod hooks;
pub mod jobs_admin;
pub mod json_errors;
pub mod kb;
pub mod listen;
pub mod media;
pub mod passwords;
pub mod seed;
pub mod state;
pub mod ui;
pub mod webchat;
pub mod webhooks_admin;
pub mod ws_agent;

pub use app::App;
pub use config::{Config, LogFormat};
