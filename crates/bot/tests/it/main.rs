//! The bot against data sets: the dev set (from ../shared, as the issue allows) and an
//! independently written second domain, to show it is not tuned to one vocabulary.

mod domains;
mod mining;
mod semantic;
