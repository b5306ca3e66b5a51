//! Server integration tests: the real app on 127.0.0.1:0 with a fresh SQLite database each.

mod helpers;

mod fuzz_smoke;

mod abuse;
mod accounts;
mod accounts_import;
mod api_errors;
mod auth;
mod avatars;
mod bot;
mod browser;
mod browser_accounts;
mod browser_demo;
mod browser_kit;
mod browser_oneid;
mod browser_routing;
mod browser_widget;
mod dashboard;
mod data_api;
mod dingtalk;
mod dingtalk_hostile;
mod i18n;
mod oneid;
mod openapi;
mod phones;
mod routing_web;
mod routing_wechat;
mod security;
mod visibility;
mod webchat;
mod wechat;
mod wechat_hostile;
