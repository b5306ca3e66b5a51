//! kefu's FAQ bot: Chinese-aware matching with calibrated confidence, intents, the dialogue
//! policy, evaluation and FAQ mining. Pure logic: no database, no network.

pub mod analyzer;
pub mod calibrate;
pub mod eval;
pub mod groups;
pub mod index;
pub mod intent;
pub mod kbio;
pub mod lexicon;
pub mod matcher;
pub mod mining;
pub mod policy;
pub mod semantic;
pub mod synth;
pub mod text;

pub use analyzer::Analyzer;
pub use matcher::{Hit, Matcher};
